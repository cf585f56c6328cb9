"""Every page: who is logged in, the login form's errors, local times and words instead of codes."""
import datetime as dt
import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from licenses import services
from tests.licenses.conftest import in_days

pytestmark = pytest.mark.django_db


def test_the_header_names_the_user_and_their_role(client, alice, bank_transport):
    alice.last_name, alice.first_name = "王", "丽华"
    alice.save()
    client.force_login(alice)
    html = client.get(reverse("licenses:list")).content.decode()
    assert '<span class="who">王丽华 · Citizen</span>' in html
    client.force_login(bank_transport)
    html = client.get(reverse("home")).content.decode()
    assert "Department user · Transport Bureau" in html  # the department's name, not its code
    client.logout()
    html = client.get(reverse("home")).content.decode()
    assert 'class="who"' not in html and "Log in" in html


def test_the_login_page_marks_its_errors(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="form-errors" role="alert"' in html
    assert html.count('class="field invalid"') == 2  # both inputs marked
    assert not re.search(r"<script|\sstyle=", html)
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert html.count('class="field invalid"') == 2 and "This field is required" in html


@pytest.mark.parametrize("value", ["2026-12-01T18:05:09.123456Z", dt.datetime(2026, 12, 1, 18, 5, 9, 123456,
                                                                              tzinfo=dt.UTC)])
def test_times_are_shown_in_shanghai_to_the_minute(value):
    html = Template("{% load portal_tags %}{{ v|local }}").render(Context({"v": value}))
    assert html == "2026-12-02 02:05"


def test_history_and_usage_in_words_in_both_languages(client, alice, alice_driving, bank_transport, driving):
    auth = services.authorisation_request(requested_by=bank_transport, licence_type=driving,
                                          national_id=alice_driving.national_id, fields=["holder_name"],
                                          purpose="case", ends_at=in_days(3))
    services.authorisation_approve(authorisation=auth)
    services.authorisation_read(authorisation=auth, reader=bank_transport)
    client.force_login(alice)
    html = client.get(reverse("licenses:detail", args=[alice_driving.public_ref])).content.decode()
    assert "Licence issued" in html and "licence.issue" not in html
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", html), "raw ISO time with microseconds"
    for path in (reverse("licenses:usage"), reverse("licenses:authorisations")):
        html = client.get(path).content.decode()
        assert "Holder name" in html and "holder_name" not in html
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    with translation.override("zh-hans"):
        html = client.get(reverse("licenses:usage")).content.decode()
    assert "持证人姓名" in html or "持有人姓名" in html


def test_type_names_and_labels_are_translatable_data(client, alice, transport):
    from django.core.exceptions import ValidationError

    from licenses.models import LicenceType, validate_field_schema
    from tests.licenses.conftest import ALICE_ADDRESS, ALICE_ID, ALICE_NAME

    with pytest.raises(ValidationError):
        validate_field_schema([{"name": "klass", "label": "类", "label_en": 3, "personal": False}])
    kind = LicenceType.objects.create(code="car", name="机动车驾驶证", name_en="Driving licence", department=transport,
                                      fields=[{"name": "vehicle_class", "label": "准驾车型",
                                               "label_en": "Vehicle class", "personal": False}])
    today = dt.date.today()
    licence = services.licence_issue(
        licence_type=kind, holder=alice, number="京A-EN-0001", holder_name=ALICE_NAME, national_id=ALICE_ID,
        address=ALICE_ADDRESS, values={"vehicle_class": "C1"}, valid_from=today,
        valid_until=today + dt.timedelta(days=9), reason="r")
    client.force_login(alice)
    url = reverse("licenses:detail", args=[licence.public_ref])
    html = client.get(url).content.decode()
    assert "<h1>Driving licence</h1>" in html and "Vehicle class" in html and "准驾车型" not in html
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    with translation.override("zh-hans"):
        html = client.get(url).content.decode()
    assert "<h1>机动车驾驶证</h1>" in html and "准驾车型" in html and "Vehicle class" not in html


def test_a_new_share_says_so_and_offers_its_link_to_copy_and_its_qr_code(client, alice, bob, alice_driving):
    client.force_login(alice)
    url = reverse("licenses:share-create", args=[alice_driving.public_ref])
    response = client.post(url, {"fields": ["vehicle_class"], "days": 3, "purpose": "hotel"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "The share is created" in html
    assert 'data-copy="share-link"' in html and "Copy the link" in html and "/static/js/copy.js" in html
    assert "<svg" in html and re.search(r'id="share-link"[^>]*value="http://testserver/licences/verify/', html)
    client.force_login(bob)
    assert client.get(response.redirect_chain[-1][0]).status_code == 404


@pytest.mark.parametrize("data", [{"days": "9" * 30, "purpose": "p"}, {"days": "1", "purpose": "p\x00"},
                                  {"days": "1", "purpose": "x" * 5000}, {"days": "1", "purpose": "p",
                                                                         "max_views": "-1"}])
def test_fuzzed_share_forms_are_refused_with_a_4xx_or_the_form_again(client, alice, alice_driving, data):
    client.force_login(alice)
    response = client.post(reverse("licenses:share-create", args=[alice_driving.public_ref]), data)
    html = response.content.decode()
    assert response.status_code == 400 or (response.status_code == 200 and "field invalid" in html)
    assert not alice_driving.shares.exists()


def test_the_json_of_a_viewed_share_does_not_use_up_a_view(client, alice_driving):
    share, token = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p",
                                         max_views=2)
    html = client.get(reverse("licenses:verify", args=[token])).content.decode()
    api_url = re.search(r'href="(/api/licences/shares/[^"]+/verify\?ticket=[^"]+)"', html).group(1)
    for _ in range(3):
        assert client.get(api_url.replace("&amp;", "&")).status_code == 200
    share.refresh_from_db()
    assert share.view_count == 1 and share.usage.count() == 1
    # A forged or foreign ticket is no ticket: that fetch is a view like any other.
    verify_api = reverse("licenses:api-share-verify", args=[token])
    assert client.get(verify_api, {"ticket": "x\x00"}).status_code == 400
    assert client.get(verify_api, {"ticket": share.public_ref + ":1abc:forged"}).status_code == 200
    share.refresh_from_db()
    assert share.view_count == 2
    assert client.get(api_url.replace("&amp;", "&")).status_code == 410  # the limit still holds
