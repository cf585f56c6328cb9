"""Settings of bench/dashboard_load.py: the tests' settings, without the API's rate limits (50 clients
from one address would be throttled) and with a per-process memory cache (no file cache on the path)."""
from tests.settings import *  # noqa: F403
from tests.settings import REST_FRAMEWORK

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEBUG = False
