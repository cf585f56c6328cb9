"""The consent page: what an owner consents to, consent or refusal each confirmed, and who may answer."""
import re

import pytest
from django.urls import reverse

from land_registry import services
from land_registry.models import Consent
from ledger.models import Entry

pytestmark = pytest.mark.django_db


def mortgage(world):
    registration = services.registration_prepare(
        clerk=world.maker, office=world.x, kind="mortgage", parcels=[world.parcel],
        payload={"holder": world.bank.public_ref, "amount": 1200000}, reason="购房贷款")
    services.document_attach(registration=registration, title="抵押合同", content=b"%PDF-1.4 contract")
    return registration


def test_the_owner_sees_what_they_consent_to_and_confirms(client, world):
    registration = mortgage(world)
    url = reverse("land_registry:consent", args=[registration.public_ref])
    client.force_login(world.citizen_a)
    html = client.get(url).content.decode()
    assert "中国建设银行东城支行" in html and "1200000 yuan" in html and "抵押合同" in html
    assert "You keep your ownership (1/1) of parcel X01-0001" in html
    assert not re.search(r"<script|\sstyle=", html)
    html = client.post(url, {"answer": "consent"}).content.decode()  # the confirmation step
    assert "Confirm your consent" in html and 'name="confirm" value="yes"' in html
    assert not Consent.objects.exists()
    response = client.post(url, {"answer": "consent", "confirm": "yes"}, follow=True)
    assert "Your consent to the Mortgage of parcel X01-0001 is recorded." in response.content.decode()
    assert Consent.objects.get().refused is False
    assert client.get(url).status_code == 404  # answered: no longer waiting


def test_a_transfer_shows_the_new_owners_masked(client, world):
    registration = services.registration_prepare(
        clerk=world.maker, office=world.x, kind="transfer", parcels=[world.parcel],
        payload={"owners": [{"party": world.li.public_ref, "share": "1/2"},
                            {"party": world.bank.public_ref, "share": "1/2"}]}, reason="买卖")
    client.force_login(world.citizen_a)
    html = client.get(reverse("land_registry:consent", args=[registration.public_ref])).content.decode()
    assert "李*" in html and "李娜" not in html and "share 1/2" in html
    assert "Your ownership (1/1) of parcel X01-0001 ends" in html and "none attached" in html


def test_a_refusal_is_ledgered_and_stops_the_approval(client, world):
    registration = mortgage(world)
    url = reverse("land_registry:consent", args=[registration.public_ref])
    client.force_login(world.citizen_a)
    assert "Confirm your refusal" in client.post(url, {"answer": "refuse"}).content.decode()
    client.post(url, {"answer": "refuse", "confirm": "yes"})
    consent = Consent.objects.get()
    assert consent.refused is True
    entry = Entry.objects.filter(ref=consent.public_ref).latest("id")
    assert b'"action":"registration.refuse"' in bytes(entry.data)
    with pytest.raises(services.RegistrationRefused, match="refused"):
        services.registration_approve(clerk=world.checker, registration=registration)
    with pytest.raises(services.RegistrationRefused, match="already answered|does not wait"):
        services.consent_give(user=world.citizen_a, registration=registration)


def test_only_the_owner_may_see_or_answer(client, world):
    registration = mortgage(world)
    url = reverse("land_registry:consent", args=[registration.public_ref])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.post(url, {"answer": "consent", "confirm": "yes"}).status_code == 302
    client.force_login(world.citizen_b)
    assert client.get(url).status_code == 404
    client.post(url, {"answer": "refuse", "confirm": "yes"})
    client.force_login(world.maker)
    assert client.get(url).status_code == 404
    assert not Consent.objects.exists()


@pytest.mark.parametrize("answer", ["", "yes", "x" * 5000, "1" * 30, None])
def test_fuzzed_answers_are_a_400(client, world, answer):
    registration = mortgage(world)
    client.force_login(world.citizen_a)
    data = {} if answer is None else {"answer": answer, "confirm": "yes"}
    response = client.post(reverse("land_registry:consent", args=[registration.public_ref]), data)
    assert response.status_code == 400 and not Consent.objects.exists()
    assert client.get(reverse("land_registry:consent", args=["nul\x00ref"])).status_code in (400, 404)
