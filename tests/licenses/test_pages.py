"""Citizens' pages and the public verify page, as a browser sees them."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.services import ledger_seal, ledger_seal_all
from licenses import services
from licenses.models import Authorisation, Share
from tests.licenses.conftest import ALICE_ID, in_days, issue_driving

pytestmark = pytest.mark.django_db


def page(client, name, *args, status=200, **query):
    response = client.get(reverse(f"licenses:{name}", args=args), query)
    assert response.status_code == status, (name, response.status_code)
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\ssrc=)|\sstyle=|\son[a-z]+=", html), "inline script or style breaks the CSP"
    return html


def test_pages_need_a_login(client, alice_driving):
    for name, args in [("list", ()), ("detail", (alice_driving.public_ref,)), ("shares", ()),
                       ("authorisations", ()), ("usage", ()), ("share-create", (alice_driving.public_ref,))]:
        response = client.get(reverse(f"licenses:{name}", args=args))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), name


def test_list_shows_own_licences_with_status_and_a_reminder(client, alice, bob, driving, alice_marriage,
                                                           bob_driving):
    soon = issue_driving(driving, alice, number="D-SOON", until=timezone.localdate() + dt.timedelta(days=20))
    services.licence_suspend(licence=alice_marriage, reason="r")
    client.force_login(alice)
    html = page(client, "list")
    assert soon.public_ref in html and alice_marriage.public_ref in html and bob_driving.public_ref not in html
    assert "expires within 30 days" in html and "status-suspended" in html
    client.force_login(bob)
    assert "expires within" not in page(client, "list")


def test_detail_masks_personal_fields_until_asked_and_shows_history(client, alice, bob, alice_driving):
    client.force_login(alice)
    html = page(client, "detail", alice_driving.public_ref)
    assert ALICE_ID not in html and "11••••••••••••••44" in html and "C1" in html
    assert "seal pending" in html
    assert ALICE_ID in page(client, "detail", alice_driving.public_ref, reveal="1")
    ledger_seal()
    assert "verified (entry" in page(client, "detail", alice_driving.public_ref)
    client.force_login(bob)
    page(client, "detail", alice_driving.public_ref, status=404)
    page(client, "detail", "garbage", status=404)


def test_share_from_the_page_then_verify_and_revoke(client, alice, bob, alice_driving):
    client.force_login(alice)
    form = page(client, "share-create", alice_driving.public_ref)
    assert 'value="national_id"' in form and 'value="valid_until"' not in form  # always disclosed
    response = client.post(reverse("licenses:share-create", args=[alice_driving.public_ref]),
                           {"fields": ["vehicle_class"], "days": "91", "purpose": "rental"})
    assert response.status_code == 200 and Share.objects.count() == 0
    response = client.post(reverse("licenses:share-create", args=[alice_driving.public_ref]),
                           {"fields": ["vehicle_class"], "days": "7", "purpose": "rental", "max_views": "5"})
    share = Share.objects.get()
    assert response.url == reverse("licenses:share", args=[share.public_ref])
    html = page(client, "share", share.public_ref)
    assert "<svg" in html and share.token in html
    assert "<svg" in page(client, "detail", alice_driving.public_ref)  # QR of the newest active share
    ledger_seal()
    # The holder's own look does not count as a view; a verifier's does.
    page(client, "verify", share.token)
    client.logout()
    html = page(client, "verify", share.token)
    assert "Valid, and proven by the ledger" in html and "C1" in html and ALICE_ID not in html
    assert "Transport Bureau" in html
    share.refresh_from_db()
    assert share.view_count == 1
    client.force_login(bob)
    page(client, "share", share.public_ref, status=404)
    assert client.post(reverse("licenses:share-revoke", args=[share.public_ref])).status_code == 404
    client.force_login(alice)
    client.post(reverse("licenses:share-revoke", args=[share.public_ref]))
    assert "revoked" in page(client, "shares")
    client.logout()
    assert "The holder has revoked this share" in page(client, "verify", share.token, status=410)


def test_quick_show_creates_a_short_share_of_non_personal_fields(client, alice, alice_driving):
    client.force_login(alice)
    client.post(reverse("licenses:share-create", args=[alice_driving.public_ref]), {"quick": "1"})
    share = Share.objects.get()
    assert "national_id" not in share.fields and "number" in share.fields
    assert share.expires_at <= timezone.now() + dt.timedelta(minutes=15)


def test_verify_page_states(client, alice_driving):
    page(client, "verify", "tampered-token", status=404)
    _, over = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p",
                                    max_views=1)
    assert "Seal pending" in page(client, "verify", over)
    assert "view limit" in page(client, "verify", over, status=410)
    expired, token = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="p")
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert "expired" in page(client, "verify", token, status=410)
    _, live = services.share_create(licence=alice_driving, fields=["number"], expires_at=in_days(1), purpose="p")
    services.licence_suspend(licence=alice_driving, reason="fines")
    html = page(client, "verify", live)
    assert "NOT VALID: this licence is Suspended" in html and "proven by the ledger" not in html
    ledger_seal()
    html = page(client, "verify", live)
    assert "NOT VALID: this licence is Suspended" in html and "Valid, and proven" not in html


def test_authorisation_pages_and_usage_log(client, alice, bob, alice_driving, driving, bank_transport):
    auth = services.authorisation_request(requested_by=bank_transport, licence_type=driving, national_id=ALICE_ID,
                                          fields=["number"], purpose="traffic case", ends_at=in_days(5))
    client.force_login(bob)
    assert "traffic case" not in page(client, "authorisations")
    approve = reverse("licenses:authorisation-decide", args=[auth.public_ref, "approve"])
    assert client.post(approve).status_code == 404
    client.force_login(alice)
    assert "One department asks" in page(client, "list")
    assert "traffic case" in page(client, "authorisations")
    client.post(approve)
    auth.refresh_from_db()
    assert auth.status == "approved"
    services.authorisation_read(authorisation=auth, reader=bank_transport)
    _, token = services.share_create(licence=alice_driving, fields=[], expires_at=in_days(1), purpose="hotel")
    client.logout()
    page(client, "verify", token)
    client.force_login(alice)
    html = page(client, "usage")
    assert "Transport Bureau" in html and "traffic case" in html and "public link" in html and "hotel" in html
    assert "Licence number" in html and ">transport<" not in html  # names and labels, not codes
    client.force_login(bob)
    assert "traffic case" not in page(client, "usage")
    assert Authorisation.objects.get().status == "approved"


def test_pages_are_in_chinese_by_default(alice, alice_driving):
    from django.test import Client

    client = Client()
    client.force_login(alice)
    html = client.get(reverse("licenses:list")).content.decode()
    assert "我的证照" in html


def test_the_licence_page_reads_a_bounded_number_of_queries_whatever_its_history(client, alice, alice_driving):
    def queries():
        ledger_seal_all()
        with CaptureQueriesContext(connection) as captured:
            assert "verified (entry" in page(client, "detail", alice_driving.public_ref)
        return len(captured)

    client.force_login(alice)
    short = queries()
    for n in range(4):
        services.licence_suspend(licence=alice_driving, reason=f"check {n}")
        services.licence_reinstate(licence=alice_driving, reason=f"cleared {n}")
    assert queries() == short


def test_history_in_words_linking_each_entry_to_its_public_page(client, alice, alice_driving):
    ledger_seal()
    client.force_login(alice)
    html = page(client, "detail", alice_driving.public_ref)
    history = html[html.index("History in the ledger"):]
    assert "Licence issued" in history and "licence.issue" not in history
    assert ">Valid<" in history and ">valid<" not in history
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", history)  # no raw ISO times
    index = re.search(r'href="/transparency/entry/(\d+)/"', history).group(1)
    assert client.get(f"/transparency/entry/{index}/").status_code == 200


def test_the_share_verifier_page_checks_the_entry_in_the_browser(client, alice, alice_driving):
    _share, token = services.share_create(licence=alice_driving, fields=["vehicle_class"],
                                          expires_at=in_days(7), purpose="rental")
    ledger_seal()
    html = page(client, "verify", token)
    index = re.search(r'href="/transparency/entry/(\d+)/"', html).group(1)
    assert f'data-index="{index}"' in html and "data-verify-button" in html
    assert client.get(f"/api/ledger/entries/{index}").status_code == 200
