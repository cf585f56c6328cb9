"""A Chinese driving licence's number is its holder's national ID number: personal, by its type."""
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ledger.models import Entry
from ledger.services import ledger_seal
from licenses.blind_index import number_index
from licenses.models import Licence, LicenceType, mask, validate_field_schema
from tests.licenses.conftest import ALICE_ID, BOB_ID, BOB_NAME, issue_driving

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_driving(transport):
    return LicenceType.objects.create(code="cn-driving", name="Motor vehicle driving licence", department=transport,
                                      fields=[{"name": "number", "personal": True},
                                              {"name": "vehicle_class", "label": "Vehicle class", "personal": False},
                                              {"name": "birth_date", "label": "Date of birth", "personal": True}])


@pytest.fixture
def alice_cn(cn_driving, alice):
    return issue_driving(cn_driving, alice, number=ALICE_ID)


def test_the_type_decides_whether_the_number_is_personal(cn_driving, driving):
    assert cn_driving.number_personal and not driving.number_personal
    claims = {claim.name: claim.personal for claim in cn_driving.claims()}
    assert claims["number"] and claims["birth_date"] and not claims["vehicle_class"]
    assert [item["name"] for item in cn_driving.own_fields()] == ["vehicle_class", "birth_date"]
    for bad in ([{"name": "number", "personal": "yes"}], [{"name": "holder_name", "personal": False}],
                [{"name": "number", "personal": True}, {"name": "number", "personal": True}]):
        with pytest.raises(ValidationError):
            validate_field_schema(bad)


def test_licence_page_masks_the_number_until_the_holder_reveals_it(client, alice, bob, alice_cn, alice_driving):
    client.force_login(alice)
    page = client.get(reverse("licenses:detail", args=[alice_cn.public_ref])).content.decode()
    assert ALICE_ID not in page and f"{ALICE_ID[:2]}" in page and ALICE_ID[-2:] in page
    revealed = client.get(reverse("licenses:detail", args=[alice_cn.public_ref]), {"reveal": "1"})
    assert ALICE_ID in revealed.content.decode()
    # A type whose number is not personal shows it plainly.
    assert "D-0001" in client.get(reverse("licenses:detail", args=[alice_driving.public_ref])).content.decode()
    listed = {item["ref"]: item["number"] for item in client.get(reverse("licenses:api-list")).json()}
    assert ALICE_ID not in listed[alice_cn.public_ref] and listed[alice_driving.public_ref] == "D-0001"
    client.force_login(bob)  # citizen B sees nothing of it
    assert client.get(reverse("licenses:detail", args=[alice_cn.public_ref]), {"reveal": "1"}).status_code == 404
    assert client.get(reverse("licenses:api-detail", args=[alice_cn.public_ref])).status_code == 404


def test_quick_show_does_not_disclose_the_number(client, alice, alice_cn):
    client.force_login(alice)
    response = client.post(reverse("licenses:share-create", args=[alice_cn.public_ref]), {"quick": "1"})
    assert response.status_code == 302
    share = alice_cn.shares.get()
    assert "number" not in share.fields and "vehicle_class" in share.fields
    ledger_seal()
    client.logout()
    page = client.get(reverse("licenses:verify", args=[share.token])).content.decode()
    api = client.get(reverse("licenses:api-share-verify", args=[share.token])).content.decode()
    for text in (page, api):
        assert "C1" in text and ALICE_ID not in text and json.dumps(ALICE_ID) not in text


def test_number_is_encrypted_at_rest_found_by_blind_index_and_never_in_the_ledger(alice_cn, bob, client,
                                                                                  clerk_transport, cn_driving):
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, number_index FROM licenses_licence")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert ALICE_ID not in raw
    assert Licence.objects.get(number_index=number_index(ALICE_ID)) == alice_cn
    # The clerk's admin: issuing a second licence with the same number is refused, search finds it exactly.
    client.force_login(clerk_transport)
    today = timezone.localdate().isoformat()
    form = {"holder": bob.pk, "licence_type": cn_driving.pk, "number": ALICE_ID, "holder_name": BOB_NAME,
            "national_id": BOB_ID, "address": "", "valid_from": today, "valid_until": today,
            f"t{cn_driving.pk}_vehicle_class": "B", f"t{cn_driving.pk}_birth_date": "1985-12-12", "reason": "r"}
    refused = client.post(reverse("admin:licenses_licence_add"), form)
    assert refused.status_code == 200 and "exists already" in refused.content.decode()
    listed = client.get(reverse("admin:licenses_licence_changelist")).content.decode()
    assert alice_cn.public_ref in listed and ALICE_ID not in listed and mask(ALICE_ID) in listed
    found = client.get(reverse("admin:licenses_licence_changelist"), {"q": ALICE_ID}).content.decode()
    assert alice_cn.public_ref in found
    assert ALICE_ID in client.get(reverse("admin:licenses_licence_change", args=[alice_cn.pk])).content.decode()
    empty = client.get(reverse("admin:licenses_licence_changelist"), {"q": BOB_ID}).content.decode()
    assert alice_cn.public_ref not in empty
    ledger_seal()
    for data in Entry.objects.values_list("data", flat=True):
        assert ALICE_ID not in bytes(data).decode()


def test_demo_driving_licence_number_is_personal():
    from io import StringIO

    from licenses import demo

    demo.load(StringIO())
    driving = LicenceType.objects.get(code="driving")
    assert driving.number_personal
    licence = Licence.objects.filter(licence_type=driving).first()
    assert licence.number == licence.national_id  # 驾驶证号即公民身份号码
