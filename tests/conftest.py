"""Shared fixtures: key files, an actor for direct ORM use, and users of every role."""
import pytest
from django.conf import settings

from ledger import keys
from ledger.actor import acting_as, system_actor
from portal import crypto


def _ensure_keys():
    if not settings.PORTAL_SIGNING_KEY_FILE.exists():
        keys.create_signing_key(settings.PORTAL_SIGNING_KEY_FILE, settings.PORTAL_ORIGIN)
    if not settings.PORTAL_PSEUDONYM_KEY_FILE.exists():
        keys.create_pseudonym_key(settings.PORTAL_PSEUDONYM_KEY_FILE)
    if not settings.PORTAL_DATA_KEYS_FILE.exists():
        crypto.create_data_keys(settings.PORTAL_DATA_KEYS_FILE)


_ensure_keys()


@pytest.fixture(autouse=True)
def system_test_actor():
    """Changes made directly through the ORM in a test are ledgered as this system actor."""
    with acting_as(system_actor("test")):
        yield
