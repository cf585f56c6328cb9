"""Attacks of a single clerk through the admin's own forms: no party, account or right changes without a
second clerk, consent follows the kind, and office X never sees or names office Y's parties."""
import json
import re

import pytest
from django.db import connection
from django.urls import reverse

from land_registry.models import Party, PartyChange, Registration
from ledger.models import Entry
from tests.land_registry.typed import typed_fields

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:land_registry_{name}", args=args)


def prepare(client, world, kind, payload, parcels=(), **extra):
    data = {"office": world.x.pk, "kind": kind, "parcels": [p.pk for p in parcels],
            **typed_fields(kind, payload), "legal_date": "2024-03-01", "reason": "依申请"}
    return client.post(url("registration_add"), {**data, **extra})


def approve(client, registration):
    return client.post(url("registration_changelist"),
                       {"action": "approve", "_selected_action": [registration.pk], "index": 0, "_approve": "1",
                        "confirm": "on"}, follow=True)


def test_one_clerk_cannot_edit_a_party_or_link_it_to_an_account(client, world):
    client.force_login(world.maker)
    change = url("party_change", world.zhang.pk)
    page = client.get(change)
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # shown, not editable
    response = client.post(change, {"kind": "person", "name": "王五", "id_number": "110101200001011232",
                                    "address": "x", "user": world.maker.pk, "office": world.x.pk})
    assert response.status_code == 403
    world.zhang.refresh_from_db()
    assert (world.zhang.name, world.zhang.user) == ("张伟", world.citizen_a)
    # A new party may be recorded by one clerk (it holds nothing), but never with an account.
    assert 'name="user"' not in client.get(url("party_add")).content.decode()
    client.post(url("party_add"), {"kind": "person", "name": "赵敏", "id_number": "110101200001011232",
                                   "office": world.x.pk, "user": world.maker.pk})
    assert Party.objects.get(id_index__isnull=False, pk__gt=world.wang.pk).user is None
    # Nor can the clerk claim a party from their own login, though they know its ID number and name.
    response = client.post(reverse("land_registry:claim"), {"id_number": "110101200001011232", "name": "赵敏"})
    assert response.status_code == 403
    assert not Party.objects.filter(user=world.maker).exists()


def test_a_party_correction_waits_for_a_second_clerk_and_keeps_the_new_details_encrypted(client, world):
    client.force_login(world.maker)
    response = prepare(client, world, "party_correction", {
        "party": world.zhang.public_ref, "name": "张卫", "address": "北京市东城区和平里2号"})
    assert response.status_code == 302, response.content.decode()[:2000]
    registration = Registration.objects.get(kind="party_correction")
    assert registration.payload == {"party": world.zhang.public_ref, "changes": ["address", "name"]}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, address FROM {PartyChange._meta.db_table}")
        stored = cursor.fetchone()
    assert "张卫" not in stored[0] and "和平里2号" not in stored[1]
    world.zhang.refresh_from_db()
    assert world.zhang.name == "张伟"
    assert "second clerk" in approve(client, registration).content.decode()
    registration.refresh_from_db()
    assert registration.state == "prepared"
    client.force_login(world.checker)
    page = client.get(url("registration_change", registration.pk)).content.decode()
    assert "张卫" in page and "和平里2号" in page and "110101********6544" in page
    approve(client, registration)
    world.zhang.refresh_from_db()
    assert (world.zhang.name, world.zhang.address, world.zhang.user) == ("张卫", "北京市东城区和平里2号",
                                                                          world.citizen_a)
    entry = json.loads(bytes(Entry.objects.filter(ref=world.zhang.public_ref).order_by("-id").first().data))
    assert entry["action"] == "registration.approve" and set(entry["changed"]) == {"name", "address"}


def test_unlinking_an_account_or_changing_the_id_number_needs_a_second_clerk(client, world):
    client.force_login(world.maker)
    prepare(client, world, "party_correction", {"party": world.zhang.public_ref, "id_number": "11010119900301911x"})
    registration = Registration.objects.get(kind="party_correction")
    client.force_login(world.checker)
    page = client.get(url("registration_change", registration.pk)).content.decode()
    assert "unlinked" in page and "110101199003076544" not in page
    approve(client, registration)
    world.zhang.refresh_from_db()
    # The new number undoes the claim made with the old one: the citizen claims again.
    assert world.zhang.id_number == "11010119900301911X" and world.zhang.user is None


def test_consent_is_required_by_the_kind_not_by_the_clerk(client, world):
    client.force_login(world.maker)
    assert "consent_required" not in client.get(url("registration_add")).content.decode()
    prepare(client, world, "transfer", {"owners": [{"party": world.li.public_ref}]}, [world.parcel],
            consent_required="")
    prepare(client, world, "caveat", {"holder": world.li.public_ref}, [world.parcel], consent_required="on")
    transfer, caveat = Registration.objects.get(kind="transfer"), Registration.objects.get(kind="caveat")
    assert transfer.consent_required and not caveat.consent_required
    client.force_login(world.checker)
    assert "not yet consented" in approve(client, transfer).content.decode()
    transfer.refresh_from_db()
    assert transfer.state == "prepared"


def test_a_correction_that_moves_ownership_waits_for_the_owners_too(client, world):
    owner = world.parcel.rights.get()
    client.force_login(world.maker)
    prepare(client, world, "correction", {"right": owner.public_ref, "holder": world.li.public_ref}, [world.parcel])
    prepare(client, world, "correction", {"right": owner.public_ref, "legal_date": "2019-06-01"}, [world.parcel])
    moving, dating = Registration.objects.filter(kind="correction").order_by("pk")
    assert moving.consent_required and not dating.consent_required
    client.force_login(world.checker)
    assert "not yet consented" in approve(client, moving).content.decode()
    approve(client, dating)
    dating.refresh_from_db()
    assert dating.state == "approved"


def test_the_issues_attack_fails_at_every_step(client, world):
    """One clerk links the owner's party to their own account, consents, links it back; a colleague approves."""
    client.force_login(world.maker)
    prepare(client, world, "transfer", {"owners": [{"party": world.li.public_ref}]}, [world.parcel])
    transfer = Registration.objects.get(kind="transfer")
    client.post(url("party_change", world.zhang.pk), {"user": world.maker.pk, "name": "张伟", "kind": "person",
                                                      "office": world.x.pk})
    client.post(reverse("land_registry:consent", args=[transfer.public_ref]), {"answer": "consent", "confirm": "yes"})
    assert not transfer.consents.exists()
    # Unlinking the real owner's account is itself a registration, which the same clerk cannot approve.
    prepare(client, world, "party_correction", {"party": world.zhang.public_ref, "unlink_account": True})
    correction = Registration.objects.get(kind="party_correction")
    approve(client, correction)
    world.zhang.refresh_from_db()
    assert world.zhang.user == world.citizen_a
    client.force_login(world.checker)
    approve(client, transfer)
    transfer.refresh_from_db()
    assert transfer.state == "prepared"


def test_another_offices_party_cannot_be_named_and_answers_like_no_party(client, world):
    client.force_login(world.maker)
    foreign = prepare(client, world, "transfer", {"owners": [{"party": world.wang.public_ref}]}, [world.parcel])
    missing = prepare(client, world, "transfer", {"owners": [{"party": str(2**62)}]}, [world.parcel])
    assert foreign.status_code == missing.status_code == 200
    foreign_error = foreign.context["adminform"].form.errors["owner_1"][0]
    missing_error = missing.context["adminform"].form.errors["owner_1"][0]
    assert "Select a valid choice" in foreign_error and foreign_error == missing_error
    for payload in ({"holder": world.wang.public_ref},):
        assert prepare(client, world, "caveat", payload, [world.parcel]).status_code == 200
    assert prepare(client, world, "party_correction", {"party": world.wang.public_ref, "name": "王"}).status_code \
        == 200
    assert not Registration.objects.filter(state="prepared").exists()


def test_a_clerk_never_sees_another_offices_party(client, world):
    client.force_login(world.maker)
    wang = world.wang
    listing = client.get(url("party_changelist")).content.decode()
    assert wang.public_ref not in listing and "王芳" not in listing
    for term in (wang.public_ref, "11010219770101003X", "王芳"):
        found = client.get(url("party_changelist"), {"q": term})
        assert found.status_code == 200 and found.context["cl"].result_count == 0
    for path in (url("party_change", wang.pk), url("party_history", wang.pk)):
        response = client.get(path, follow=True)
        assert "王芳" not in response.content.decode() and response.redirect_chain
    for term, found in (("11010219770101003X", []), (wang.public_ref, []),
                        ("110101199003076544", [str(world.zhang.pk)])):
        autocomplete = client.get(reverse("admin:autocomplete"), {
            "app_label": "land_registry", "model_name": "right", "field_name": "holder", "term": term})
        assert [item["id"] for item in autocomplete.json()["results"]] == found
    # The clerk of Y sees their own party, and none of X's.
    client.force_login(world.clerk_y)
    assert wang.public_ref in client.get(url("party_changelist")).content.decode()
    assert client.get(url("party_change", world.zhang.pk), follow=True).redirect_chain


def test_the_registration_page_shows_the_checker_everything(client, world):
    world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 900_000})
    client.force_login(world.maker)
    prepare(client, world, "transfer", {"owners": [{"party": world.zhang.public_ref, "share": "1/3"},
                                                   {"party": world.li.public_ref, "share": "2/3"}]}, [world.parcel],
            document_title_1="买卖合同", document_1=_upload())
    transfer = Registration.objects.get(kind="transfer")
    client.force_login(world.citizen_a)
    client.post(reverse("land_registry:consent", args=[transfer.public_ref]), {"answer": "consent", "confirm": "yes"})
    client.force_login(world.checker)
    for registration in Registration.objects.filter(office=world.x):
        response = client.get(url("registration_change", registration.pk))
        assert response.status_code == 200, registration
    html = client.get(url("registration_change", transfer.pk)).content.decode()
    for shown in ("X01-0001", "张伟", "李娜", "1/3", "2/3", "110101********6544", "110101********0027",
                  "买卖合同", "given", "account linked by the citizen", "registration.prepare",
                  transfer.public_ref):
        assert shown in html, shown
    assert re.search(r"given \(account linked by the citizen&#x27;s claim on \d{4}-\d\d-\d\d \d\d:\d\d\)", html)
    for hidden in ("110101199003076544", "110101198512120027", "和平里1号"):
        assert hidden not in html, hidden
    mortgage = Registration.objects.get(kind="mortgage")
    html = client.get(url("registration_change", mortgage.pk)).content.decode()
    assert "900000" in html and "中国建设银行东城支行" in html and "registration.approve" in html
    client.force_login(world.clerk_y)
    assert client.get(url("registration_change", transfer.pk), follow=True).redirect_chain


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("contract.pdf", b"%PDF sale contract of X01-0001")
