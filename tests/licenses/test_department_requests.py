"""A department asking by national ID number learns nothing about whether that person holds a licence."""
import json
import re
import threading

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from ledger.models import Entry
from licenses.models import Authorisation
from licenses.services import licence_revoke
from portal.ratelimit import count_hit
from tests.licenses.conftest import ALICE_ID, BOB_ID, in_days, make_user

pytestmark = pytest.mark.django_db
REQUEST = reverse("licenses:api-authorisation-request")
NOBODY_ID = "11010519491231002X"


def ask(client, national_id, **overrides):
    data = {"licence_type": "driving", "national_id": national_id, "fields": ["vehicle_class"],
            "purpose": "traffic case", "ends_at": in_days(10).isoformat(), **overrides}
    return client.post(REQUEST, data=json.dumps(data), content_type="application/json")


def answer(response):
    return response.status_code, response["Content-Type"], response.content


def test_holder_and_non_holder_get_byte_identical_answers(client, bank_transport, transport, alice, alice_driving,
                                                          bob, bob_driving):
    licence_revoke(licence=bob_driving, reason="court")  # a revoked licence is as good as none
    client.force_login(bank_transport)
    holder, nobody, revoked = ask(client, ALICE_ID), ask(client, NOBODY_ID), ask(client, BOB_ID)
    assert holder.status_code == 202
    assert answer(holder) == answer(nobody) == answer(revoked)
    # Refusals for bad input do not depend on the person either.
    assert answer(ask(client, ALICE_ID, fields=["spouse"])) == answer(ask(client, NOBODY_ID, fields=["spouse"]))
    assert ask(client, NOBODY_ID, fields=["spouse"]).status_code == 400
    mistyped = ask(client, ALICE_ID[:-1] + ("0" if ALICE_ID[-1] != "0" else "1"))  # GB 11643 check character
    assert mistyped.status_code == 400 and "national_id" in mistyped.json()
    # Nor does what the department can list or read afterwards: nothing until a holder approves.
    assert client.get(reverse("licenses:api-authorisations")).json() == []
    # Only the holder is asked.
    client.force_login(alice)
    asked = client.get(reverse("licenses:api-authorisations")).json()
    assert len(asked) == 1 and asked[0]["status"] == "pending" and asked[0]["purpose"] == "traffic case"
    client.force_login(bob)
    assert client.get(reverse("licenses:api-authorisations")).json() == []
    # Each request is ledgered alike (same kind, operation and public fields), without the number in clear.
    requests = Authorisation.objects.order_by("id")[:3]
    entries = [json.loads(bytes(Entry.objects.get(ref=a.public_ref).data)) for a in requests]
    assert {(e["kind"], e["op"], json.dumps(e["public"], sort_keys=True)) for e in entries} == {
        ("licenses.authorisation", "create",
         json.dumps({"department": transport.public_ref, "status": "pending"}, sort_keys=True))}
    assert [e["action"] for e in entries] == ["authorisation.request"] * 3
    assert len({json.dumps(sorted(e["state"])) for e in entries}) == 1  # the same fields, all as digests
    assert len({len(Entry.objects.get(ref=a.public_ref).data) for a in requests}) == 1  # even the same size
    for text in Entry.objects.values_list("data", flat=True):
        assert ALICE_ID not in bytes(text).decode() and NOBODY_ID not in bytes(text).decode()


def test_the_holders_approval_is_what_the_department_then_sees(client, bank_transport, bank, alice, bob,
                                                               alice_driving):
    client.force_login(bank_transport)
    ask(client, ALICE_ID)
    ref = Authorisation.objects.get().public_ref
    read = reverse("licenses:api-authorisation-read", args=[ref])
    assert client.get(read).status_code == 404  # pending: not even its existence
    client.force_login(bob)  # citizen B can neither see nor decide it
    assert client.post(reverse("licenses:api-authorisation-approve", args=[ref])).status_code == 404
    client.force_login(alice)
    assert client.post(reverse("licenses:api-authorisation-approve", args=[ref])).json()["status"] == "approved"
    client.force_login(bank_transport)
    assert [a["ref"] for a in client.get(reverse("licenses:api-authorisations")).json()] == [ref]
    assert client.get(read).status_code == 200
    client.force_login(bank)  # a department without the grant sees and reads nothing
    assert client.get(reverse("licenses:api-authorisations")).json() == []
    assert client.get(read).status_code == 404
    client.logout()
    assert client.get(read).status_code == 403


def test_citizens_and_anonymous_cannot_ask(client, alice, alice_driving):
    assert ask(client, ALICE_ID).status_code == 403
    client.force_login(alice)
    assert ask(client, ALICE_ID).status_code == 403
    assert Authorisation.objects.count() == 0


@override_settings(LICENCE_REQUEST_RATE="3/hour")
def test_requests_are_rate_limited_per_department(client, bank_transport, bank, alice_driving, transport):
    colleague = make_user("dept-transport-2", "department", "transport")
    client.force_login(bank_transport)
    assert [ask(client, ALICE_ID).status_code for _ in range(2)] == [202, 202]
    client.force_login(colleague)  # the allowance is the department's, not each user's
    assert ask(client, NOBODY_ID).status_code == 202
    limited_holder, limited_nobody = ask(client, ALICE_ID), ask(client, NOBODY_ID)
    assert limited_holder.status_code == 429 and "Retry-After" in limited_holder
    # The same answer for a holder and for nobody; only the seconds to wait run on between the two.
    assert re.sub(rb"\d+", b"N", limited_holder.content) == re.sub(rb"\d+", b"N", limited_nobody.content)
    assert limited_nobody.status_code == 429
    assert Authorisation.objects.count() == 3  # the refused ones are neither recorded nor asked
    client.force_login(bank)  # another department has its own allowance
    assert ask(client, NOBODY_ID).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_the_counter_loses_no_hit_under_concurrency():
    results, errors = [], []

    def hit():
        try:
            results.append(count_hit("test-concurrent", 60))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(results) == list(range(1, 13))


def test_a_malformed_rate_is_a_system_check_error():
    from django.core import checks

    for rate in ("60 per hour", "x/hour", "0/hour", "60/fortnight", ""):
        with override_settings(LICENCE_REQUEST_RATE=rate):
            assert "licenses.E001" in [m.id for m in checks.run_checks()], rate
    with override_settings(LICENCE_REQUEST_RATE="5/minute"):
        assert "licenses.E001" not in [m.id for m in checks.run_checks()]
