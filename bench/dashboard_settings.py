"""Settings of the HTTP benchmarks (dashboard_load.py, read_load.py): the tests' settings, without
the API's rate limits (50 clients from one address would be throttled)
and with a per-process memory cache (no file cache on the path)."""
from tests.settings import *  # noqa: F403
from tests.settings import REST_FRAMEWORK

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEBUG = False

# The key files bench/common.setup() made, as bench/httpload.gunicorn() passes them on.
import os  # noqa: E402
from pathlib import Path  # noqa: E402

for _name in ("PORTAL_SIGNING_KEY_FILE", "PORTAL_PSEUDONYM_KEY_FILE", "PORTAL_DATA_KEYS_FILE",
              "PORTAL_COMMITMENT_KEY_FILE", "PORTAL_HIGH_WATER_FILE"):
    if os.environ.get(_name):
        globals()[_name] = Path(os.environ[_name])
