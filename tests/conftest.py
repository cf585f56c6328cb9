"""Shared fixtures: key files, an actor for direct ORM use, the privacy scan after each test.

Django is imported lazily, so that an auditor can run tests/tlog alone without it
(`pytest tests/tlog -p no:django -o addopts=""`).
"""
import pytest

from ledger.actor import acting_as, system_actor


def _django_ready() -> bool:
    try:
        from django.conf import settings
    except ImportError:
        return False
    return settings.configured


def _ensure_keys():
    from django.conf import settings

    from ledger import keys
    from portal import crypto

    if not settings.PORTAL_SIGNING_KEY_FILE.exists():
        keys.create_signing_key(settings.PORTAL_SIGNING_KEY_FILE, settings.PORTAL_ORIGIN)
    if not settings.PORTAL_PSEUDONYM_KEY_FILE.exists():
        keys.create_pseudonym_key(settings.PORTAL_PSEUDONYM_KEY_FILE)
    if not settings.PORTAL_DATA_KEYS_FILE.exists():
        crypto.create_data_keys(settings.PORTAL_DATA_KEYS_FILE)
    if not settings.PORTAL_WITNESS_KEY_FILE.exists():
        keys.create_witness_key(settings.PORTAL_WITNESS_KEY_FILE, settings.PORTAL_ORIGIN)
    if not settings.PORTAL_COMMITMENT_KEY_FILE.exists():
        keys.create_commitment_key(settings.PORTAL_COMMITMENT_KEY_FILE)
    if not settings.PORTAL_BACKUP_KEY_FILE.exists():
        from ledger import backup

        backup.create_backup_key(settings.PORTAL_BACKUP_KEY_FILE)


if _django_ready():
    _ensure_keys()


@pytest.fixture(autouse=True)
def staff_logins_verified(request, monkeypatch):
    """`client.force_login(clerk)` / `client.login(...)` then /admin/ keep working under the admin's 2FA.

    For a staff user the test client's login also marks the session verified by a confirmed TOTP
    device of that user (created if needed), exactly as `django_otp.login` does after a correct code;
    the admin still checks the device on every request. Tests of the real two-factor login post the
    login forms themselves, or mark themselves `@pytest.mark.real_otp` to turn this off.
    """
    if not _django_ready() or request.node.get_closest_marker("real_otp"):
        yield
        return
    from django.test.client import ClientMixin
    from django_otp import DEVICE_ID_SESSION_KEY

    original = ClientMixin._login

    def login_verified(self, user, backend=None):
        original(self, user, backend)
        if user.is_staff:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(ClientMixin, "_login", login_verified)
    yield


@pytest.fixture(autouse=True)
def clean_cache():
    """API throttle counts live in the cache (Redis in CI): each test starts from none."""
    if _django_ready():
        from django.core.cache import cache

        cache.clear()


@pytest.fixture(autouse=True)
def high_water_of_the_test(tmp_path, monkeypatch):
    """Every test starts from an empty ledger, so each has a high-water mark of its own (processes
    it starts too, through the environment)."""
    if not _django_ready():
        yield
        return
    from django.conf import settings

    path = tmp_path / "high-water"
    monkeypatch.setattr(settings, "PORTAL_HIGH_WATER_FILE", path)
    monkeypatch.setenv("PORTAL_HIGH_WATER_FILE", str(path))
    yield


@pytest.fixture(autouse=True)
def tiles_of_the_test(tmp_path, monkeypatch):
    """The log's tiles and the peers' mirrors go to folders of the test's own (its processes too)."""
    if not _django_ready():
        yield
        return
    from django.conf import settings

    for name, folder in (("LEDGER_TILES_DIR", "tiles"), ("LEDGER_MIRROR_DIR", "mirror")):
        monkeypatch.setattr(settings, name, tmp_path / folder)
        monkeypatch.setenv(name, str(tmp_path / folder))
    yield


@pytest.fixture(autouse=True)
def system_test_actor():
    """Changes made directly through the ORM in a test are ledgered as this system actor."""
    with acting_as(system_actor("test")):
        yield


def personal_values() -> set[str]:
    """Every personal value now in the database: people's names, e-mails, encrypted fields."""
    from django.contrib.auth import get_user_model

    from portal.crypto import encrypted_fields

    values = set()
    for first, last, email in get_user_model().objects.values_list("first_name", "last_name", "email"):
        values.update(v for v in (first, last, email, f"{last}{first}") if len(v) >= 2)
    for model, field in encrypted_fields():
        values.update(v for v in model._base_manager.values_list(field.attname, flat=True) if v and len(v) >= 2)
    return values


@pytest.fixture(autouse=True)
def no_personal_data_in_ledger(request):
    """After every database test: no personal value it created appears in clear in any entry."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db")
    yield
    from ledger.models import Entry

    values = personal_values()
    if not values:
        return
    for data in Entry.objects.values_list("data", flat=True):
        text = bytes(data).decode()
        leaked = [value for value in values if value in text]
        assert not leaked, f"personal data in clear in a ledger entry: {leaked} in {text}"
