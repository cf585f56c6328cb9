"""The admin's home shows a land clerk their work: what waits for them to check, what of theirs waits."""
import pytest
from django.urls import reverse

from land_registry import services

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")


def work_of(client, user) -> str:
    client.force_login(user)
    page = client.get(HOME).content.decode()
    return page.split('id="your-work"', 1)[1].split('id="content-main"', 1)[0] if 'id="your-work"' in page else ""


def test_each_clerk_sees_their_own_work_and_nothing_of_another_office(client, world):
    mortgage = services.registration_prepare(
        clerk=world.maker, office=world.x, kind="mortgage", parcels=[world.parcel],
        payload={"holder": world.bank.public_ref, "amount": 1000}, reason="抵押")
    caveat = services.registration_prepare(
        clerk=world.clerk_y, office=world.y, kind="caveat", parcels=[world.parcel_y],
        payload={"holder": world.wang.public_ref}, reason="预告")
    checker = work_of(client, world.checker)
    assert "Registrations waiting for you to check (1)" in checker and "X01-0001" in checker
    assert "1 owner(s) have not yet consented" in checker and "Y01-0001" not in checker
    assert reverse("admin:land_registry_registration_change", args=[mortgage.pk]) in checker
    maker = work_of(client, world.maker)
    assert "Registrations waiting for you to check (0)" in maker and "Nothing to check." in maker
    assert "waiting for 1 owner(s)&#x27; consent" in maker
    world.consent(mortgage)
    assert "ready for your decision" in work_of(client, world.checker)
    assert "waiting for a second clerk to check it" in work_of(client, world.maker)
    other = work_of(client, world.checker_y)
    assert "Y01-0001" in other and "X01-0001" not in other and caveat.parcel_numbers in other
    services.registration_approve(clerk=world.checker, registration=mortgage)
    assert "X01-0001" not in work_of(client, world.maker)


def test_people_with_no_office_see_no_work_list(client, world):
    client.force_login(world.citizen_a)
    assert "your-work" not in client.get(HOME).content.decode()
    client.logout()
    assert client.get(HOME).status_code == 302
