"""Preparing a registration with the typed form: inputs per kind, parcels, parties and rights found by
search within the clerk's offices only, shares as fractions, documents attached in the same form."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from land_registry.models import Registration, SourceDocument

pytestmark = pytest.mark.django_db

ADD = reverse("admin:land_registry_registration_add")
AUTOCOMPLETE = reverse("admin:autocomplete")
PARCELS = {"app_label": "land_registry", "model_name": "registration", "field_name": "parcels"}
PARTIES = {"app_label": "land_registry", "model_name": "right", "field_name": "holder"}
RIGHTS = {"app_label": "land_registry", "model_name": "right", "field_name": "corrects"}


def search(client, which, term=""):
    response = client.get(AUTOCOMPLETE, {**which, "term": term})
    return response.status_code, [item["text"] for item in response.json()["results"]] \
        if response.status_code == 200 else []


def test_the_form_has_typed_inputs_and_no_json(client, world):
    client.force_login(world.maker)
    page = client.get(ADD).content.decode()
    assert 'name="payload"' not in page
    for name in ("owner_1", "owner_share_1", "holder", "amount", "right", "new_share", "part_number_1",
                 "new_number", "party_name", "document_1", "document_3"):
        assert f'name="{name}"' in page, name
    assert "admin-extra/registration.js" in page and "admin-autocomplete" in page
    assert "for-transfer" in page and 'data-sum-label="Sum of the shares:"' in page


def test_searches_answer_only_from_the_clerks_office(client, world):
    client.force_login(world.maker)
    status, parcels = search(client, PARCELS, "X01")
    assert status == 200 and any("X01-0001" in text for text in parcels)
    assert search(client, PARCELS, "Y01-0001")[1] == []
    status, parties = search(client, PARTIES, world.zhang.public_ref[:8])
    assert status == 200 and parties == [f"张* · Natural person · {world.zhang.public_ref}"]
    assert search(client, PARTIES, "11010219770101003X")[1] == []  # office Y's party, by its exact ID number
    assert search(client, PARTIES, "110101199003076544")[1] == [f"张* · Natural person · {world.zhang.public_ref}"]
    assert search(client, PARTIES, "张伟")[1] == [f"张* · Natural person · {world.zhang.public_ref}"]
    assert search(client, PARTIES, "王芳")[1] == []  # office Y's party, by name
    status, rights = search(client, RIGHTS, "X01-0001")
    assert status == 200 and len(rights) == 1 and "X01-0001 · Ownership" in rights[0]
    assert search(client, RIGHTS, "Y01-0001")[1] == []
    client.force_login(world.clerk_y)
    assert search(client, PARCELS, "X01-0001")[1] == [] and search(client, RIGHTS, "X01-0001")[1] == []
    assert search(client, PARTIES, world.zhang.public_ref[:8])[1] == []
    assert any("Y01-0001" in text for text in search(client, PARCELS, "Y01")[1])


def test_people_without_an_office_cannot_search(client, world):
    for user in (world.citizen_a, None):
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        for which in (PARCELS, PARTIES, RIGHTS):
            response = client.get(AUTOCOMPLETE, {**which, "term": "X01"})
            assert response.status_code in (302, 403) and "X01-0001" not in response.content.decode()


def test_a_transfer_with_fractions_and_two_documents(client, world):
    client.force_login(world.maker)
    response = client.post(ADD, {
        "office": world.x.pk, "kind": "transfer", "parcels": [world.parcel.pk], "legal_date": "2024-03-01",
        "reason": "买卖", "owner_1": world.zhang.pk, "owner_share_1": "1/3", "owner_2": world.li.pk,
        "owner_share_2": "2/3", "document_title_1": "买卖合同", "document_1": SimpleUploadedFile("a.pdf", b"%PDF a"),
        "document_2": SimpleUploadedFile("完税证明.pdf", b"%PDF b"),
        # inputs of other kinds are ignored
        "amount": "5", "new_number": "ignored"})
    assert response.status_code == 302, response.content.decode()[:2000]
    registration = Registration.objects.get(kind="transfer")
    assert registration.payload == {"owners": [{"party": world.zhang.public_ref, "share": "1/3"},
                                               {"party": world.li.public_ref, "share": "2/3"}]}
    assert sorted(SourceDocument.objects.values_list("title", flat=True)) == ["买卖合同", "完税证明.pdf"]


def test_a_clerk_of_another_office_cannot_choose_this_offices_things(client, world):
    client.force_login(world.clerk_y)
    response = client.post(ADD, {
        "office": world.x.pk, "kind": "mortgage", "parcels": [world.parcel.pk], "reason": "x",
        "holder": world.bank.pk, "amount": "100"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"office", "parcels", "holder"} <= set(errors)
    assert not Registration.objects.filter(kind="mortgage").exists()


@pytest.mark.parametrize("kind", ["mortgage", "seizure", "seizure_release", "correction", "split", "merge",
                                  "transfer"])
def test_each_kind_says_which_input_is_missing(client, world, kind):
    client.force_login(world.maker)
    response = client.post(ADD, {"office": world.x.pk, "kind": kind, "parcels": [world.parcel.pk], "reason": "x"})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors and not Registration.objects.filter(kind=kind).exists()
    if kind not in ("merge",):  # a merge's missing new number is named by its field
        assert set(form.errors) - {"__all__"}, form.errors


def test_the_form_speaks_chinese_by_default(world):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.maker)
    page = client.get(ADD).content.decode()
    for text in ("新权利人及其份额", "权利人 2", "权利人 1 的份额", "材料 3", "份额合计：", "申请材料"):
        assert text in page, text
