"""A department user's own pages: ask, follow the requests, read what the holder approved."""
import datetime as dt
import re

import pytest
from django.urls import reverse

from licenses.models import Authorisation, UsageRecord
from tests.licenses.conftest import ALICE_ID, make_user

pytestmark = pytest.mark.django_db
HOME = reverse("department:home")
NOBODY_ID = "11010519491231002X"


def ask(client, national_id, **overrides):
    data = {"national_id": national_id, "fields": ["vehicle_class"], "purpose": "traffic case", "days": 10,
            **overrides}
    return client.post(reverse("department:request", args=["driving"]), data)


def test_a_department_user_lands_on_their_pages_after_login(client, bank_transport, alice):
    response = client.post(reverse("login"), {"username": "dept-transport", "password": "pw-dept-transport"})
    assert response.status_code == 302 and response.url == HOME
    html = client.get(HOME).content.decode()
    assert "Department requests" in html and "My licences" not in html
    client.logout()
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.url == reverse("home")


def test_request_approve_read_and_the_holder_sees_the_read(client, bank_transport, alice, alice_driving, driving):
    client.force_login(bank_transport)
    html = client.get(reverse("department:request", args=["driving"])).content.decode()
    assert "Vehicle class" in html and "vehicle_class" not in html.replace('value="vehicle_class"', "")
    response = ask(client, ALICE_ID)
    assert response.status_code == 302 and response.url == HOME
    page = client.get(HOME).content.decode()
    assert "Request sent." in page and "Waiting for an answer" in page and "Read the granted fields" not in page
    auth = Authorisation.objects.get()
    client.force_login(alice)
    client.post(reverse("licenses:authorisation-decide", args=[auth.public_ref, "approve"]))
    client.force_login(bank_transport)
    page = client.get(HOME).content.decode()
    assert "Approved: you may read it" in page and "Driving licence" in page
    read = reverse("department:read", args=[auth.public_ref])
    assert client.get(read).status_code == 405  # a read is a recorded act: POST
    html = client.post(read).content.decode()
    assert "C1" in html and "Fields the holder granted" in html and "1990-03-07" not in html
    assert UsageRecord.objects.filter(authorisation=auth, accessor="transport").count() == 1
    client.force_login(alice)
    usage = client.get(reverse("licenses:usage")).content.decode()
    assert "Transport Bureau" in usage and "traffic case" in usage and "Vehicle class" in usage


def test_a_request_for_nobody_looks_like_any_other(client, bank_transport, alice, alice_driving):
    client.force_login(bank_transport)
    holder, nobody = ask(client, ALICE_ID), ask(client, NOBODY_ID)
    assert (holder.status_code, holder.url) == (nobody.status_code, nobody.url)
    page = client.get(HOME).content.decode()
    assert page.count("Waiting for an answer") == 2
    assert "Driving licence</td>" not in page


def test_who_may_and_may_not(client, bank_transport, alice, alice_driving, transport):
    for url in (HOME, reverse("department:request", args=["driving"])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(alice)
    for url in (HOME, reverse("department:request", args=["driving"])):
        assert client.get(url).status_code == 403
    client.force_login(bank_transport)
    ask(client, ALICE_ID)
    auth = Authorisation.objects.get()
    from licenses import services
    services.authorisation_approve(authorisation=auth)
    other = make_user("dept-other", "department", "civil")
    client.force_login(other)  # department Y does not see or read department X's
    assert "traffic case" not in client.get(HOME).content.decode()
    assert client.post(reverse("department:read", args=[auth.public_ref])).status_code == 404
    client.force_login(alice)
    assert client.post(reverse("department:read", args=[auth.public_ref])).status_code == 403
    assert not UsageRecord.objects.exists()


@pytest.mark.parametrize("overrides", [
    {"national_id": "110101199003076545"}, {"national_id": "1" * 5000}, {"national_id": "11010\x00"},
    {"fields": ["spouse"]}, {"purpose": ""}, {"purpose": "x" * 201}, {"days": "9" * 30}, {"days": "0"},
    {"days": "90"},
])
def test_fuzzed_requests_are_a_4xx_and_ask_nothing(client, bank_transport, alice, alice_driving, overrides):
    client.force_login(bank_transport)
    response = ask(client, overrides.pop("national_id", ALICE_ID), **overrides)
    assert 400 <= response.status_code < 500
    assert not Authorisation.objects.exists()
    assert client.get(reverse("department:request", args=["no-such\x00type"])).status_code in (400, 404)
    assert client.post(reverse("department:read", args=["x" * 26])).status_code == 404


def test_the_pages_have_no_inline_script_or_style(client, bank_transport):
    client.force_login(bank_transport)
    for url in (HOME, reverse("department:request", args=["driving"])):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\ssrc=)|\sstyle=|\son[a-z]+=", html)


def test_the_readme_example_works_with_basic_authentication(client, alice, alice_driving, civil, alice_marriage):
    """The README's Department API example, as curl sends it (HTTP Basic, JSON)."""
    import base64
    import json

    from django.utils import timezone

    make_user("dept-housing", "department", "civil")
    basic = "Basic " + base64.b64encode(b"dept-housing:pw-dept-housing").decode()
    body = {"licence_type": "marriage", "national_id": ALICE_ID, "fields": ["holder_name"],
            "purpose": "公租房资格审核", "ends_at": (timezone.now() + dt.timedelta(days=30)).isoformat()}
    response = client.post("/api/licences/authorisations/request", json.dumps(body),
                           content_type="application/json", HTTP_AUTHORIZATION=basic)
    assert response.status_code == 202
    from licenses import services
    services.authorisation_approve(authorisation=Authorisation.objects.get())
    [listed] = client.get("/api/licences/authorisations/", HTTP_AUTHORIZATION=basic).json()
    read = client.get(f"/api/licences/authorisations/{listed['ref']}/read", HTTP_AUTHORIZATION=basic)
    assert read.status_code == 200 and "holder_name" in read.json()["fields"]
