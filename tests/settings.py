"""Test settings: the portal's own, plus a small app whose models exercise every ledger path."""
import os
from pathlib import Path

# A Celery queue of the tests' own, apart from a running dev portal; subprocesses inherit it.
_var = Path(os.environ.get("PORTAL_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
os.environ.setdefault("PORTAL_CELERY_DIR", str(_var / "test-celery"))

from portal.settings import *  # noqa: E402, F403
from portal.settings import INSTALLED_APPS, VAR_DIR  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.ledgerapp"]
PORTAL_KEYS_DIR = VAR_DIR / "test-keys"
PORTAL_SIGNING_KEY_FILE = PORTAL_KEYS_DIR / "ledger-signing.key"
PORTAL_PSEUDONYM_KEY_FILE = PORTAL_KEYS_DIR / "pseudonym.key"
PORTAL_DATA_KEYS_FILE = PORTAL_KEYS_DIR / "data.keys"
PORTAL_WITNESS_KEY_FILE = PORTAL_KEYS_DIR / "witness.key"
PORTAL_COMMITMENT_KEY_FILE = PORTAL_KEYS_DIR / "commitment.key"
PORTAL_BACKUP_KEY_FILE = PORTAL_KEYS_DIR / "backup.key"
# Each test points it at a file of its own (tests/conftest.py): every test starts from an empty ledger.
PORTAL_HIGH_WATER_FILE = Path(os.environ.get("PORTAL_HIGH_WATER_FILE", PORTAL_KEYS_DIR / "high-water"))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
STATIC_ROOT = None  # tests serve static files from the finders; nothing is collected
WHITENOISE_USE_FINDERS = True


# Every test clears the cache: under pytest-xdist each worker gets a cache of its own, so that one
# worker's clear never wipes another's login counters mid-test.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker:
    from urllib.parse import urlsplit  # noqa: E402

    from portal.settings import CACHES  # noqa: E402

    _cache = CACHES["default"]
    if _cache["BACKEND"].endswith("RedisCache"):
        _url = urlsplit(_cache["LOCATION"])
        _db = (int(_url.path.strip("/") or 0) - 1 - int(_worker.removeprefix("gw"))) % 16
        _cache["LOCATION"] = _url._replace(path=f"/{_db}").geturl()
    else:
        _cache["LOCATION"] = str(VAR_DIR / f"cache-{_worker}")
