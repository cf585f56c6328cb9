"""Personal data at rest: encrypted in the database with keys outside it, and rotation keeps it readable."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from ledger.verification import verify_ledger
from portal import crypto
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_keys(tmp_path):
    path = tmp_path / "data.keys"
    crypto.create_data_keys(path)
    with override_settings(PORTAL_DATA_KEYS_FILE=path):
        yield path


def stored_tokens():
    from land_registry.models import Party

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {Party._meta.db_table}")
        return [row[0] for row in cursor.fetchall()]


def test_values_are_ciphertext_in_the_database_and_rotation_re_encrypts(data_keys, capsys):
    from land_registry.models import Office, Party, PartyKind

    office = Office.objects.create(code="R01", name="测试登记中心")
    party = Party.objects.create(office=office, kind=PartyKind.PERSON, name="赵六", id_number="110101199001011234",
                                 address="北京市东城区某街 1 号")
    before = stored_tokens()
    assert "110101199001011234" not in before[0]
    first_key = data_keys.read_text().split()[0]
    call_command("rotate_data_keys")
    keys = data_keys.read_text().split()
    assert len(keys) == 2 and keys[1] == first_key  # the new key first; the old one kept to read backups
    after = stored_tokens()
    assert after != before
    data_keys.write_text(keys[0] + "\n")  # the old key can now go: everything reads with the new one
    party.refresh_from_db()
    assert party.id_number == "110101199001011234" and party.name == "赵六"
    Record.objects.create(title="unrelated")
    from ledger.services import ledger_seal

    ledger_seal()
    assert verify_ledger() == []  # rotation changed no ledgered value
    party.delete()  # its values are under this test's keys, which end with the test


def test_a_value_under_an_unknown_key_is_a_clear_error(data_keys):
    token = crypto.encrypt("secret")
    crypto.create_data_keys(data_keys)  # replaced: the old key is gone
    with pytest.raises(crypto.KeyFileError, match="cannot be decrypted"):
        crypto.decrypt(token)
