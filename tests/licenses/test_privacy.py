"""No personal data in clear: not in any ledger entry our flows write, not in the database at rest."""
import json

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ledger.models import Entry
from ledger.services import ledger_seal
from licenses import services
from licenses.blind_index import number_index
from licenses.models import Licence, UsageRecord
from licenses.tasks import expire_licences
from tests.licenses.conftest import (
    ALICE_ADDRESS,
    ALICE_ID,
    ALICE_NAME,
    BOB_ADDRESS,
    BOB_ID,
    BOB_NAME,
    SPOUSE_NAME,
    in_days,
)

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def test_no_personal_value_appears_in_any_ledger_entry(client, alice, bob, alice_driving, alice_marriage,
                                                       bob_driving, driving, clerk_transport, bank_transport):
    # Every flow: clerk issue and revoke (admin), shares (API and page views), authorisation, expiry.
    client.force_login(clerk_transport)
    today = timezone.localdate()
    client.post(reverse("admin:licenses_licence_add"), {
        "holder": bob.pk, "licence_type": driving.pk, "number": "D-PHONE", "holder_name": BOB_NAME,
        "national_id": BOB_ID, "address": f"{BOB_ADDRESS} 电话 {PHONE}", "valid_from": today.isoformat(),
        "valid_until": today.isoformat(), f"t{driving.pk}_vehicle_class": "B",
        f"t{driving.pk}_birth_date": "1985-12-12",
        "reason": "application"})
    client.post(reverse("admin:licenses_licence_changelist"), {
        "action": "suspend", "_selected_action": [bob_driving.pk], "index": 0, "reason": "fines"})
    bob_driving.refresh_from_db()
    assert bob_driving.status == "suspended" and Licence.objects.filter(number_index=number_index("D-PHONE")).exists()
    client.force_login(alice)
    response = client.post(reverse("licenses:api-share-create"), data=json.dumps({
        "licence": alice_marriage.public_ref, "fields": ["spouse_name", "national_id", "address"],
        "purpose": "bank account", "expires_at": in_days(5).isoformat()}), content_type="application/json")
    token = response.json()["url"].rsplit("/", 1)[1]
    client.logout()
    ledger_seal()
    assert SPOUSE_NAME in client.get(reverse("licenses:verify", args=[token])).content.decode()
    auth = services.authorisation_request(requested_by=bank_transport, licence_type=driving, national_id=ALICE_ID,
                                          fields=["holder_name", "address"], purpose="fine", ends_at=in_days(2))
    services.authorisation_approve(authorisation=auth)
    services.authorisation_read(authorisation=auth, reader=bank_transport)
    services.licence_revoke(licence=alice_driving, reason="court")
    assert expire_licences() == 0
    assert UsageRecord.objects.count() == 2
    ledger_seal()

    secrets = [ALICE_NAME, ALICE_ID, ALICE_ADDRESS, BOB_NAME, BOB_ID, BOB_ADDRESS, SPOUSE_NAME, PHONE,
               "1990-03-07", "1985-12-12", "丽华", "alice@example.cn", token]
    # Usernames are personal too: the ledger names people by keyed pseudonym only.
    texts = [bytes(entry.data).decode() for entry in Entry.objects.all()]
    assert len(texts) > 20
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
            assert json.dumps(secret)[1:-1] not in text  # nor as JSON \\u escapes
        entry = json.loads(text)
        if entry["kind"].startswith("licenses."):
            assert '"alice"' not in text and '"bob"' not in text


def test_personal_values_are_encrypted_at_rest(alice_driving, alice_marriage):
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_name, national_id, address, personal_data, data FROM licenses_licence")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for secret in (ALICE_NAME, ALICE_ID, ALICE_ADDRESS, SPOUSE_NAME, "1990-03-07"):
        assert secret not in raw and json.dumps(secret)[1:-1] not in raw
    assert "C1" in raw  # non-personal type fields stay in clear


def test_share_token_is_not_stored_in_clear(alice_driving):
    _share, token = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p")
    with connection.cursor() as cursor:
        cursor.execute("SELECT token, token_index FROM licenses_share")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in raw
