"""Licence life cycle, shares and authorisations: rules, and what each lands in the ledger."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from ledger.actor import Actor, acting_as
from ledger.models import Entry
from licenses import services
from licenses.models import LicenceStatus, UsageRecord
from licenses.services import LicenceError, ShareNotFound, ShareUnavailable
from licenses.tasks import expire_licences
from tests.licenses.conftest import ALICE_ID, in_days, issue_driving

pytestmark = pytest.mark.django_db


def entries(obj):
    return [json.loads(bytes(e.data)) for e in Entry.objects.filter(ref=obj.public_ref).order_by("id")]


def test_issue_ledgers_the_licence_with_only_type_and_status_in_clear(alice_driving, driving):
    [entry] = entries(alice_driving)
    assert entry["op"] == "create" and entry["action"] == "licence.issue"
    assert entry["public"] == {"licence_type": driving.public_ref, "status": "valid"}
    assert {"holder", "number", "national_id", "address", "claim_digests"} <= set(entry["state"])
    assert alice_driving.data == {"vehicle_class": "C1"}
    assert alice_driving.personal_values() == {"birth_date": "1990-03-07"}
    assert set(alice_driving.claim_digests) == {
        "holder_name", "national_id", "address", "number", "valid_from", "valid_until",
        "vehicle_class", "birth_date"}


def test_issue_refuses_unknown_or_missing_type_fields_and_duplicate_numbers(driving, alice, alice_driving):
    today = timezone.localdate()
    base = dict(licence_type=driving, holder=alice, holder_name="x", national_id="1",
                valid_from=today, valid_until=today)
    with pytest.raises(LicenceError, match="Unknown fields.*colour"):
        services.licence_issue(number="N1", values={"vehicle_class": "C1", "birth_date": "x", "colour": "red"},
                               **base)
    with pytest.raises(LicenceError, match="birth_date"):
        services.licence_issue(number="N1", values={"vehicle_class": "C1"}, **base)
    with pytest.raises(LicenceError, match="exists already"):
        services.licence_issue(number="D-0001", values={"vehicle_class": "C1", "birth_date": "x"}, **base)


def test_life_cycle_transitions_and_their_ledger_actions(alice_driving):
    with pytest.raises(LicenceError, match="reason"):
        services.licence_suspend(licence=alice_driving, reason=" ")
    services.licence_suspend(licence=alice_driving, reason="unpaid fines")
    with pytest.raises(LicenceError, match="cannot be renewed"):
        services.licence_renew(licence=alice_driving, valid_until=alice_driving.valid_until, reason="r")
    services.licence_reinstate(licence=alice_driving, reason="fines paid")
    new_end = alice_driving.valid_until + dt.timedelta(days=365)
    with pytest.raises(LicenceError, match="later than"):
        services.licence_renew(licence=alice_driving, valid_until=alice_driving.valid_until, reason="r")
    licence = services.licence_renew(licence=alice_driving, valid_until=new_end, reason="renewal")
    assert licence.valid_until == new_end
    licence = services.licence_revoke(licence=licence, reason="court order")
    assert licence.status == LicenceStatus.REVOKED
    with pytest.raises(LicenceError, match="does not apply"):
        services.licence_revoke(licence=licence, reason="again")
    actions = [(e["action"], e["public"]["status"]) for e in entries(alice_driving)]
    assert actions == [("licence.issue", "valid"), ("licence.suspend", "suspended"),
                       ("licence.reinstate", "valid"), ("licence.renew", "valid"), ("licence.revoke", "revoked")]
    # Renewal changed a claim (valid_until): the claim digests were re-salted and re-committed.
    assert "claim_digests" in entries(alice_driving)[3]["changed"]
    assert "claim_digests" not in entries(alice_driving)[1]["changed"]


def test_expiry_task_expires_only_past_licences_as_a_system_actor(driving, alice, bob):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    old = issue_driving(driving, alice, number="OLD", until=yesterday)
    today = issue_driving(driving, bob, number="TODAY", until=timezone.localdate())
    # Called directly: Task.apply() needs the file result backend's directory, which tests lack.
    assert expire_licences() == 1
    old.refresh_from_db()
    today.refresh_from_db()
    assert old.status == LicenceStatus.EXPIRED and today.status == LicenceStatus.VALID
    last = entries(old)[-1]
    assert last["action"] == "licence.expire"
    assert last["actor"] == {"id": "task:licenses.tasks.expire_licences", "office": "", "role": "system"}
    assert len(entries(today)) == 1
    assert expire_licences() == 0  # idempotent


def test_share_create_validates_fields_expiry_limit_and_purpose(alice_driving):
    ok = dict(licence=alice_driving, fields=["vehicle_class"], expires_at=in_days(7), purpose="car rental")
    with pytest.raises(LicenceError, match="Unknown fields: colour"):
        services.share_create(**{**ok, "fields": ["vehicle_class", "colour"]})
    with pytest.raises(LicenceError, match="in the past"):
        services.share_create(**{**ok, "expires_at": in_days(-1)})
    with pytest.raises(LicenceError, match="more than 90 days"):
        services.share_create(**{**ok, "expires_at": in_days(91)})
    with pytest.raises(LicenceError, match="view limit"):
        services.share_create(**ok, max_views=0)
    with pytest.raises(LicenceError, match="purpose"):
        services.share_create(**{**ok, "purpose": ""})
    share, token = services.share_create(**ok)
    assert share.fields == ["valid_from", "valid_until", "vehicle_class"]  # validity always disclosed
    assert token not in bytes(Entry.objects.get(ref=share.public_ref).data).decode()
    assert share.token == token and share.token_index != token


def test_share_open_counts_views_and_refuses_ended_shares(alice_driving):
    share, token = services.share_create(licence=alice_driving, fields=["number"], expires_at=in_days(1),
                                         purpose="hotel", max_views=2)
    with pytest.raises(ShareNotFound):
        services.share_open(token=token[:-1] + ("A" if token[-1] != "A" else "B"))
    services.share_open(token=token)
    services.share_open(token=token)
    with pytest.raises(ShareUnavailable) as over:
        services.share_open(token=token)
    assert over.value.state == "used_up"
    usage = list(UsageRecord.objects.filter(share=share))
    assert len(usage) == 2 and usage[0].accessor == "public link" and usage[0].fields == share.fields
    assert entries(usage[0])[0]["public"] == {"accessor": "public link", "fields": share.fields}

    other, token2 = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p")
    services.share_revoke(share=other)
    with pytest.raises(ShareUnavailable) as revoked:
        services.share_open(token=token2)
    assert revoked.value.state == "revoked"
    with pytest.raises(LicenceError, match="revoked already"):
        services.share_revoke(share=other)


def test_share_of_a_revoked_licence_is_refused(alice_driving):
    services.licence_revoke(licence=alice_driving, reason="r")
    with pytest.raises(LicenceError, match="Only a valid licence"):
        services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p")


def test_authorisation_flow_and_department_reads(alice_driving, driving, bank_transport, bank, alice):
    nobody = services.authorisation_request(requested_by=bank_transport, licence_type=driving, national_id="999",
                                            fields=["number"], purpose="p", ends_at=in_days(3))
    assert nobody.licence is None and nobody.status == "pending"  # recorded alike; nobody is asked
    with pytest.raises(LicenceError, match="Nobody holds"):
        services.authorisation_approve(authorisation=nobody)
    with pytest.raises(LicenceError, match="department user"):
        services.authorisation_request(requested_by=alice, licence_type=driving, national_id=ALICE_ID,
                                       fields=["number"], purpose="p", ends_at=in_days(3))
    auth = services.authorisation_request(
        requested_by=bank_transport, licence_type=driving, national_id=" 110101199003076544 ",
        fields=["number", "vehicle_class"], purpose="traffic case 7", ends_at=in_days(3))
    assert auth.licence == alice_driving
    with pytest.raises(LicenceError, match="not in force"):
        services.authorisation_read(authorisation=auth, reader=bank_transport)
    services.authorisation_approve(authorisation=auth)
    with pytest.raises(LicenceError, match="another department"):
        services.authorisation_read(authorisation=auth, reader=bank)
    services.authorisation_read(authorisation=auth, reader=bank_transport)
    record = UsageRecord.objects.get(authorisation=auth)
    assert record.accessor == "transport" and record.purpose == "traffic case 7"
    services.authorisation_end(authorisation=auth)
    with pytest.raises(LicenceError, match="not in force"):
        services.authorisation_read(authorisation=auth, reader=bank_transport)
    assert [e["action"] for e in entries(auth)] == [
        "authorisation.request", "authorisation.approve", "authorisation.end"]


def test_authorisation_refused_cannot_then_be_approved(alice_driving, driving, bank_transport):
    auth = services.authorisation_request(requested_by=bank_transport, licence_type=driving,
                                          national_id=ALICE_ID, fields=[], purpose="p", ends_at=in_days(1))
    services.authorisation_refuse(authorisation=auth)
    with pytest.raises(LicenceError, match="Refused"):
        services.authorisation_approve(authorisation=auth)


def test_citizen_actor_is_pseudonymous(alice_driving, alice):
    from ledger.actor import pseudonym

    with acting_as(Actor(role="citizen", id=pseudonym(alice.pk))):
        share, _ = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p")
    actor = entries(share)[0]["actor"]
    assert actor["role"] == "citizen" and actor["id"].startswith("p-") and "alice" not in actor["id"]
