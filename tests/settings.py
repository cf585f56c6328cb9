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
