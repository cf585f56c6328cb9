"""The clerks' admin, through its own URLs: a clerk of office X never sees or touches office Y's register."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from land_registry import services
from land_registry.models import Party, Registration, SourceDocument
from ledger.services import ledger_seal
from tests.land_registry.typed import typed_fields

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:land_registry_{name}", args=args)


@pytest.fixture
def clerk_x(client, world):
    client.force_login(world.maker)
    return client


def test_parcel_list_and_search_show_only_the_clerks_office(clerk_x, world):
    page = clerk_x.get(url("parcel_changelist")).content.decode()
    assert "X01-0001" in page and "Y01-0001" not in page
    for term in ("Y01", "金融街"):
        found = clerk_x.get(url("parcel_changelist"), {"q": term})
        assert "Y01-0001" not in found.content.decode() and found.context["cl"].result_count == 0
    assert clerk_x.get(url("parcel_changelist"), {"q": "和平里"}).context["cl"].result_count == 1


def test_another_offices_parcel_page_and_history_are_invisible(clerk_x, world):
    own = clerk_x.get(url("parcel_change", world.parcel.pk))
    assert own.status_code == 200 and "张伟" in own.content.decode()
    for path in (url("parcel_change", world.parcel_y.pk), url("parcel_history", world.parcel_y.pk)):
        response = clerk_x.get(path, follow=True)
        assert "Y01-0001" not in response.content.decode() and "王芳" not in response.content.decode()
        assert response.redirect_chain and response.redirect_chain[-1][0] == reverse("admin:index")


def test_parcel_page_shows_the_ledger_history_with_proof_status(clerk_x, world):
    assert "pending" in clerk_x.get(url("parcel_change", world.parcel.pk)).content.decode()
    ledger_seal()
    page = clerk_x.get(url("parcel_change", world.parcel.pk)).content.decode()
    assert "verified" in page and "registration.approve" in page and "pending" not in page


def test_the_register_is_read_only_in_the_admin(clerk_x, world):
    response = clerk_x.post(url("parcel_change", world.parcel.pk), {"area_m2": 1})
    assert response.status_code == 403
    assert clerk_x.get(url("parcel_add")).status_code == 403
    assert clerk_x.get(url("parcel_delete", world.parcel.pk)).status_code == 403
    world.parcel.refresh_from_db()
    assert world.parcel.area_m2 == 500


def prepare_payload(world, parcel, kind="mortgage", payload=None, office=None):
    return {"office": (office or world.x).pk, "kind": kind, "parcels": [parcel.pk],
            **typed_fields(kind, payload or {"holder": world.bank.public_ref, "amount": 100}),
            "legal_date": "2024-03-01", "reason": "抵押登记", "document_title_1": "抵押合同",
            "document_1": SimpleUploadedFile("contract.pdf", b"%PDF mortgage")}


def test_a_clerk_prepares_in_the_admin_and_a_second_clerk_approves_by_action(client, clerk_x, world):
    form = clerk_x.get(url("registration_add")).content.decode()
    assert "Y01-0001" not in form and "Y01" not in form and 'name="payload"' not in form
    response = clerk_x.post(url("registration_add"), prepare_payload(world, world.parcel))
    assert response.status_code == 302, response.content.decode()[:3000]
    registration = Registration.objects.get(kind="mortgage")
    assert registration.state == "prepared" and registration.prepared_by == world.maker
    assert SourceDocument.objects.get(registration=registration).title == "抵押合同"
    # The maker cannot approve it; the error is shown and nothing changes.
    action = {"action": "approve", "_selected_action": [registration.pk], "index": 0, "_approve": "1",
              "confirm": "on"}
    page = clerk_x.post(url("registration_changelist"), action, follow=True).content.decode()
    assert "second clerk" in page
    registration.refresh_from_db()
    assert registration.state == "prepared"
    client.force_login(world.checker)
    page = client.post(url("registration_changelist"), action, follow=True).content.decode()
    assert "not yet consented" in page  # a mortgage waits for the owner, whatever the clerks think
    client.force_login(world.citizen_a)
    client.post(reverse("land_registry:consent", args=[registration.public_ref]),
                {"answer": "consent", "confirm": "yes"})
    client.force_login(world.checker)
    client.post(url("registration_changelist"), action)
    registration.refresh_from_db()
    assert registration.state == "approved" and registration.decided_by == world.checker


def test_service_rules_show_as_form_errors(clerk_x, world):
    world.register("seizure", [world.parcel], {"holder": world.court.public_ref})
    response = clerk_x.post(url("registration_add"), prepare_payload(
        world, world.parcel, "transfer", {"owners": [{"party": world.li.public_ref}]}))
    assert response.status_code == 200
    assert "release of the seizure" in response.content.decode()
    assert not Registration.objects.filter(kind="transfer").exists()


def test_a_clerk_cannot_prepare_on_another_offices_parcel(clerk_x, world):
    response = clerk_x.post(url("registration_add"), prepare_payload(world, world.parcel_y, office=world.y))
    assert response.status_code == 200
    assert not Registration.objects.filter(kind="mortgage").exists()


def test_actions_and_pages_of_another_office_do_nothing(clerk_x, world):
    foreign = services.registration_prepare(
        clerk=world.clerk_y, office=world.y, kind="caveat", parcels=[world.parcel_y],
        payload={"holder": world.wang.public_ref}, reason="预告")
    listing = clerk_x.get(url("registration_changelist")).content.decode()
    assert foreign.public_ref not in listing and "Y01-0001" not in listing
    clerk_x.post(url("registration_changelist"), {"action": "approve", "_selected_action": [foreign.pk],
                                                  "index": 0, "_approve": "1", "confirm": "on"})
    clerk_x.post(url("registration_changelist"), {"action": "reject", "_selected_action": [foreign.pk],
                                                  "index": 0, "_reject": "1", "note": "no"})
    assert clerk_x.get(url("registration_decide", foreign.pk)).status_code == 404
    assert clerk_x.post(url("registration_decide", foreign.pk), {"_reject": "1", "note": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == "prepared"
    response = clerk_x.get(url("registration_change", foreign.pk), follow=True)
    assert foreign.public_ref not in response.content.decode()


def test_parties_are_scoped_and_found_by_exact_id_number(client, world):
    client.force_login(world.clerk_y)
    listing = client.get(url("party_changelist")).content.decode()
    assert world.wang.public_ref in listing and world.zhang.public_ref not in listing
    assert world.zhang.public_ref not in client.get(
        url("party_changelist"), {"q": "110101199003076544"}).content.decode()
    assert client.get(url("party_change", world.zhang.pk), follow=True).redirect_chain
    client.force_login(world.maker)
    found = client.get(url("party_changelist"), {"q": "110101199003076544"}).content.decode()
    assert world.zhang.public_ref in found and world.li.public_ref not in found
    response = client.post(url("party_add"), {"kind": "person", "name": "赵敏", "id_number": "110101200001011232",
                                              "address": "", "user": "", "office": world.x.pk})
    assert response.status_code == 302
    assert Party.objects.get(pk__gt=world.wang.pk).name == "赵敏"
    response = client.post(url("party_add"), {"kind": "person", "name": "赵敏", "office": world.y.pk})
    assert response.status_code == 200  # office Y is not a choice for a clerk of X


def test_citizens_and_other_clerks_have_no_admin(client, world):
    client.force_login(world.citizen_a)
    assert client.get(url("parcel_changelist")).status_code == 302  # to the admin login
    client.force_login(world.maker)
    assert client.get(reverse("admin:land_registry_office_changelist")).status_code == 403
