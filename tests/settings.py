"""Test settings: the portal's own, plus a small app whose models exercise every ledger path."""
from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS, VAR_DIR

INSTALLED_APPS = [*INSTALLED_APPS, "tests.ledgerapp"]
PORTAL_KEYS_DIR = VAR_DIR / "test-keys"
PORTAL_SIGNING_KEY_FILE = PORTAL_KEYS_DIR / "ledger-signing.key"
PORTAL_PSEUDONYM_KEY_FILE = PORTAL_KEYS_DIR / "pseudonym.key"
PORTAL_DATA_KEYS_FILE = PORTAL_KEYS_DIR / "data.keys"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
STATIC_ROOT = None  # tests serve static files from the finders; nothing is collected
WHITENOISE_USE_FINDERS = True

if not REDIS_URL:  # noqa: F405  (a queue of the tests' own, apart from a running dev portal)
    CELERY_QUEUE_DIR = VAR_DIR / "test-celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_QUEUE_DIR / 'results'}"
    for _folder in ("queue", "control", "results"):
        (CELERY_QUEUE_DIR / _folder).mkdir(parents=True, exist_ok=True)
