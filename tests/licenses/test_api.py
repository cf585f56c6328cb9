"""The API: citizens see only their own; departments only their authorisations; bad input is a 400."""
import json

import pytest
from django.urls import reverse

from ledger.services import ledger_seal
from licenses import services
from licenses.models import Authorisation, Share
from tests.licenses.conftest import ALICE_ID, in_days

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"licenses:{name}", args=args)


def post(client, name, *args, data=None):
    return client.post(url(name, *args), data=json.dumps(data or {}), content_type="application/json")


def share_input(held, **overrides):
    return {"licence": held.public_ref, "fields": ["vehicle_class"], "purpose": "car rental",
            "expires_at": in_days(7).isoformat(), **overrides}


@pytest.fixture
def alice_share(alice_driving):
    return services.share_create(licence=alice_driving, fields=["number"], expires_at=in_days(3), purpose="hotel")


@pytest.fixture
def request_for_alice(alice_driving, driving, bank_transport):
    return services.authorisation_request(requested_by=bank_transport, licence_type=driving, national_id=ALICE_ID,
                                          fields=["number"], purpose="traffic case", ends_at=in_days(5))


def test_anonymous_is_refused_everywhere_but_verify(client, alice_driving, alice_share, request_for_alice):
    share, token = alice_share
    for name, args in [("api-list", ()), ("api-detail", (alice_driving.public_ref,)), ("api-shares", ()),
                       ("api-usage", ()), ("api-authorisations", ()),
                       ("api-authorisation-read", (request_for_alice.public_ref,))]:
        assert client.get(url(name, *args)).status_code == 403, name
    for name, args in [("api-share-create", ()), ("api-share-revoke", (share.public_ref,)),
                       ("api-authorisation-approve", (request_for_alice.public_ref,)),
                       ("api-authorisation-request", ())]:
        assert post(client, name, *args).status_code == 403, name
    assert client.get(url("api-share-verify", token)).status_code == 200


def test_citizen_sees_own_licences_only(client, alice, bob, alice_driving, bob_driving):
    client.force_login(alice)
    listed = client.get(url("api-list")).json()
    assert [item["ref"] for item in listed] == [alice_driving.public_ref]
    detail = client.get(url("api-detail", alice_driving.public_ref)).json()
    assert {"name": "vehicle_class", "label": "Vehicle class", "personal": False, "value": "C1"} in detail["claims"]
    assert client.get(url("api-detail", bob_driving.public_ref)).status_code == 404
    malformed = client.get(url("api-detail", "not-a-ref"))
    assert malformed.status_code == 400 and "Malformed id" in malformed.json()["detail"]


def test_share_create_list_and_revoke_are_the_holders_only(client, alice, bob, alice_driving, bob_driving):
    client.force_login(bob)
    refused = post(client, "api-share-create", data=share_input(alice_driving))
    assert refused.status_code == 400 and "no licence" in refused.json()["detail"]
    assert Share.objects.count() == 0
    client.force_login(alice)
    created = post(client, "api-share-create", data=share_input(alice_driving, max_views=3))
    assert created.status_code == 201
    body = created.json()
    assert body["fields"] == ["valid_from", "valid_until", "vehicle_class"] and body["state"] == "active"
    assert "/licences/verify/" in body["url"]
    client.force_login(bob)
    assert client.get(url("api-shares")).json() == []
    assert post(client, "api-share-revoke", body["ref"]).status_code == 404
    client.force_login(alice)
    assert [s["ref"] for s in client.get(url("api-shares")).json()] == [body["ref"]]
    revoked = post(client, "api-share-revoke", body["ref"])
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert post(client, "api-share-revoke", body["ref"]).status_code == 400
    assert post(client, "api-share-revoke", "BAD").status_code == 400


@pytest.mark.parametrize("overrides, message", [
    ({"fields": ["vehicle_class", "colour"]}, "Unknown fields: colour"),
    ({"expires_at": "2001-01-01T00:00:00Z"}, "in the past"),
    ({"expires_at": in_days(91).isoformat()}, "more than 90 days"),
    ({"expires_at": "tomorrow"}, "Datetime has wrong format"),
    ({"max_views": 0}, "greater than or equal to 1"),
    ({"purpose": ""}, "blank"),
    ({"licence": "0" * 26}, "Malformed id"),
    ({"fields": "number"}, "list"),
])
def test_bad_share_input_is_a_400_and_changes_nothing(client, alice, alice_driving, overrides, message):
    client.force_login(alice)
    response = post(client, "api-share-create", data=share_input(alice_driving, **overrides))
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert Share.objects.count() == 0


def test_verify_api_returns_a_presentation_another_system_can_check(client, alice_share):
    share, token = alice_share
    pending = client.get(url("api-share-verify", token)).json()
    assert pending["proof_status"] == "pending" and pending["verified_valid"] is False
    ledger_seal()
    body = client.get(url("api-share-verify", token)).json()
    assert body["verified_valid"] is True and body["status"] == "valid" and body["issuer"] == "Transport Bureau"
    assert body["fields"]["number"] == "D-0001" and "national_id" not in body["fields"]
    # Checked again, elsewhere, from the JSON alone (here: the portal's public check endpoint).
    checked = post(client, "api-check", data={"presentation": body["presentation"]})
    assert checked.status_code == 200 and checked.json()["fields"]["number"] == "D-0001"
    tampered = json.loads(json.dumps(body["presentation"]))
    tampered["claims"]["number"] = tampered["claims"]["valid_from"]
    refused = post(client, "api-check", data={"presentation": tampered})
    assert refused.status_code == 400 and "does not verify" in refused.json()["detail"]
    assert post(client, "api-check", data={"presentation": "x"}).status_code == 400


def test_verify_api_statuses_for_unknown_revoked_and_over_limit_links(client, alice_driving):
    assert client.get(url("api-share-verify", "A" * 43)).status_code == 404
    share, token = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p",
                                         max_views=1)
    assert client.get(url("api-share-verify", token)).status_code == 200
    over = client.get(url("api-share-verify", token))
    assert over.status_code == 410 and over.json()["state"] == "used_up"
    share2, token2 = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p")
    services.share_revoke(share=share2)
    assert client.get(url("api-share-verify", token2)).json() == {
        "detail": "The holder revoked this share.", "state": "revoked"}


def test_revoked_licence_is_never_verified_valid(client, alice_share, alice_driving):
    share, token = alice_share
    services.licence_revoke(licence=alice_driving, reason="court order")
    ledger_seal()
    body = client.get(url("api-share-verify", token)).json()
    assert body["status"] == "revoked" and body["verified_valid"] is False and body["proof_status"] == "verified"


def test_department_request_approval_and_read(client, alice, bob, bank, bank_transport, alice_driving):
    client.force_login(alice)
    forbidden = post(client, "api-authorisation-request", data={})
    assert forbidden.status_code == 403
    client.force_login(bank_transport)
    data = {"licence_type": "driving", "national_id": ALICE_ID, "fields": ["number", "vehicle_class"],
            "purpose": "traffic case", "ends_at": in_days(10).isoformat()}
    assert post(client, "api-authorisation-request", data={**data, "licence_type": "nope"}).status_code == 400
    assert post(client, "api-authorisation-request", data={**data, "fields": ["x"]}).status_code == 400
    assert Authorisation.objects.count() == 0
    created = post(client, "api-authorisation-request", data=data)
    assert created.status_code == 202 and "ref" not in created.json()
    ref = Authorisation.objects.get().public_ref
    # Pending: the department neither sees nor reads it (that alone would say that Alice holds one).
    assert client.get(url("api-authorisations")).json() == []
    assert client.get(url("api-authorisation-read", ref)).status_code == 404
    # Citizen B and the department cannot decide; citizen A can.
    client.force_login(bob)
    assert post(client, "api-authorisation-approve", ref).status_code == 404
    assert client.get(url("api-authorisations")).json() == []
    client.force_login(bank_transport)
    assert post(client, "api-authorisation-approve", ref).status_code == 404
    client.force_login(alice)
    assert [a["ref"] for a in client.get(url("api-authorisations")).json()] == [ref]
    assert post(client, "api-authorisation-approve", ref).json()["status"] == "approved"
    # Another department and citizens cannot read; the requesting department reads what was approved.
    for user in (bank, alice, bob):
        client.force_login(user)
        assert client.get(url("api-authorisation-read", ref)).status_code == 404
    client.force_login(bank_transport)
    ledger_seal()
    read = client.get(url("api-authorisation-read", ref)).json()
    assert set(read["fields"]) == {"number", "vehicle_class", "valid_from", "valid_until"}
    assert read["proof_status"] == "verified"
    client.force_login(alice)
    usage = client.get(url("api-usage")).json()
    assert usage[0]["accessor"] == "transport" and usage[0]["purpose"] == "traffic case"
    client.force_login(bob)
    assert client.get(url("api-usage")).json() == []
    client.force_login(alice)
    assert post(client, "api-authorisation-end", ref).json()["status"] == "ended"
    client.force_login(bank_transport)
    assert client.get(url("api-authorisation-read", ref)).status_code == 400


def test_schema_documents_the_licence_api(client):
    schema = client.get("/api/schema").content.decode()
    assert "/api/licences/shares/{token}/verify" in schema and "/api/licences/authorisations/request" in schema
