"""The public read-only API carries no personal data; following needs a login."""
import json

import pytest

from land_registry.models import Follow
from ledger.services import ledger_seal

pytestmark = pytest.mark.django_db
PERSONAL = ("张伟", "张*", "李娜", "王芳", "中国建设银行", "110101199003076544", "和平里1号", "citizena")


def no_personal_data(response):
    text = json.dumps(response.json(), ensure_ascii=False)
    for value in PERSONAL:
        assert value not in text, value
    return response.json()


def test_search_detail_and_timeline_are_public_and_impersonal(client, world):
    world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 7})
    ledger_seal()
    found = no_personal_data(client.get("/api/land/parcels", {"q": "X01"}))
    assert [p["number"] for p in found] == ["X01-0001"]
    detail = no_personal_data(client.get(f"/api/land/parcels/{world.parcel.public_ref}"))
    assert detail["area_m2"] == 500 and detail["office"] == "X01"
    assert sorted((r["kind"], r["holder_kind"], r["share"]) for r in detail["rights"]) == [
        ("mortgage", "organisation", "1/1"), ("ownership", "person", "1/1")]
    timeline = no_personal_data(client.get(f"/api/land/parcels/{world.parcel.public_ref}/timeline"))
    kinds = [event["kind"] for event in timeline["events"]]
    assert kinds == ["first_registration", "mortgage"]
    index = timeline["events"][1]["ledger_index"]
    assert client.get(timeline["events"][1]["ledger_entry"]).json()["index"] == index
    assert client.get(timeline["events"][1]["inclusion_proof"]).status_code == 200


def test_bad_requests_get_clear_answers(client, world):
    assert client.get("/api/land/parcels").status_code == 400
    assert client.get("/api/land/parcels/nosuchref").status_code == 404
    assert client.post(f"/api/land/parcels/{world.parcel.public_ref}").status_code == 405


def test_following_by_api_needs_a_login(client, world):
    url = f"/api/land/parcels/{world.parcel.public_ref}/follow"
    assert client.post(url).status_code == 403
    client.force_login(world.citizen_b)
    assert client.post(url).json() == {"parcel": world.parcel.public_ref, "following": True}
    assert Follow.objects.get().user == world.citizen_b
    assert client.delete(url).json()["following"] is False
    assert not Follow.objects.exists()
