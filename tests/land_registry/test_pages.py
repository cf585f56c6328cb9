"""Public pages, the extract, a citizen's parcels and consents, following: as each kind of user sees them."""
import base64
import re

import pytest
from django.core import mail
from django.urls import reverse

from land_registry.models import Consent, Follow, Parcel
from ledger.keys import signer
from ledger.services import ledger_seal
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle, note

pytestmark = pytest.mark.django_db
CONSENT = {"answer": "consent", "confirm": "yes"}
PERSONAL = ("张伟", "李娜", "王芳", "110101199003076544", "和平里1号")


def page(client, name, *args, **query):
    response = client.get(reverse(f"land_registry:{name}", args=args), query)
    assert response.status_code == 200, response
    html = response.content.decode()
    # strict CSP: no inline style or handler; the only script is the in-browser ledger check, a module file
    assert "style=" not in html and "onclick" not in html
    assert set(re.findall(r"<script[^>]*>", html)) <= {'<script type="module" src="/static/transparency/verify.js">'}
    assert not re.search(r"<script[^>]*>[^<]", html)
    return html


def test_anyone_searches_by_number_or_location_and_sees_masked_owners(client, world):
    assert "X01-0001" in page(client, "search", q="X01-0001")
    assert "X01-0001" in page(client, "search", q="和平里北街")
    assert "X01-0001" not in page(client, "search", q="金融街")
    html = page(client, "parcel", world.parcel.public_ref)
    assert "张*" in html and "东城区和平里北街 3 号" in html
    for value in PERSONAL:
        assert value not in html
    assert client.get(reverse("land_registry:parcel", args=["nosuchref"])).status_code == 404


def test_each_event_links_to_its_ledger_entry_and_a_working_inclusion_proof(client, world):
    world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 7})
    assert "awaiting sealing" in page(client, "parcel", world.parcel.public_ref)
    ledger_seal()
    html = page(client, "parcel", world.parcel.public_ref)
    assert "中国建设银行东城支行" in html  # an organisation is named in full
    # Each event links to its entry's public page, and verifies it in the visitor's browser right here.
    pages = re.findall(r'href="/transparency/entry/(\d+)/"', html)
    checks = re.findall(r'data-verify data-index="(\d+)"', html)
    assert len(pages) == 2 and pages == checks
    entry = client.get(f"/api/ledger/entries/{pages[1]}").json()
    assert b'"state":"approved"' in base64.b64decode(entry["data"])
    assert b'"kind":"mortgage"' in base64.b64decode(entry["data"])
    assert "data-verify" in client.get(f"/transparency/entry/{pages[1]}/").content.decode()


def test_the_extract_verifies_against_the_signed_checkpoint(client, world):
    ledger_seal()
    html = page(client, "extract", world.parcel.public_ref)
    assert "<svg" in html and "张*" in html and "张伟" not in html
    note_text = re.search(r'<pre class="mono lr-checkpoint">(.*?)</pre>', html, re.S).group(1)
    note_text = note_text.replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    signed = tcheckpoint.open_checkpoint(note_text, note.Verifier(signer().verifier_key))
    links = re.findall(r'href="/api/ledger/proofs/inclusion\?index=(\d+)&amp;size=(\d+)"', html)
    assert len(links) == 2  # the parcel and its ownership right
    for index, size in links:
        assert int(size) == signed.size
        data = base64.b64decode(client.get(f"/api/ledger/entries/{index}").json()["data"])
        proof = client.get("/api/ledger/proofs/inclusion", {"index": index, "size": size}).json()["proof"]
        merkle.verify_inclusion(merkle.leaf_hash(data), int(index), signed.size,
                                [base64.b64decode(node) for node in proof], signed.root_hash)
    parcel_entry = base64.b64decode(client.get(f"/api/ledger/entries/{links[0][0]}").json()["data"])
    assert b'"area_m2":500' in parcel_entry and b'"number":"X01-0001"' in parcel_entry


def test_an_extract_before_sealing_says_so(client, world):
    assert "not sealed" in page(client, "extract", world.parcel.public_ref)


def test_splits_show_as_a_family_tree(client, world):
    world.register("split", [world.parcel], {"parts": [
        {"number": "X01-0001-1", "location": "北", "area_m2": 250},
        {"number": "X01-0001-2", "location": "南", "area_m2": 250}]})
    html = page(client, "parcel", world.parcel.public_ref)
    assert "X01-0001-1" in html and "X01-0001-2" in html
    child = Parcel.objects.get(number="X01-0001-1")
    assert 'X01-0001</a>' in page(client, "parcel", child.public_ref)


def test_a_citizen_sees_own_parcels_with_full_history_and_nobody_elses(client, world):
    world.register("transfer", [world.parcel], {"owners": [
        {"party": world.zhang.public_ref, "share": "1/2"}, {"party": world.li.public_ref, "share": "1/2"}]})
    client.force_login(world.citizen_a)
    assert "X01-0001" in page(client, "mine") and "Y01-0001" not in page(client, "mine")
    html = page(client, "my-parcel", world.parcel.public_ref)
    assert "张伟" in html and "李*" in html and "李娜" not in html
    assert client.get(reverse("land_registry:my-parcel", args=[world.parcel_y.public_ref])).status_code == 404
    client.force_login(world.citizen_b)
    html = page(client, "my-parcel", world.parcel.public_ref)
    assert "李娜" in html and "张伟" not in html
    client.logout()
    response = client.get(reverse("land_registry:mine"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_owner_consents_on_the_page_and_no_one_else_can(client, world):
    from land_registry import services

    registration = services.registration_prepare(
        clerk=world.maker, office=world.x, kind="transfer", parcels=[world.parcel],
        payload={"owners": [{"party": world.li.public_ref}]}, reason="买卖")
    consent_url = reverse("land_registry:consent", args=[registration.public_ref])
    client.force_login(world.citizen_b)
    assert registration.public_ref not in page(client, "mine")
    client.post(consent_url, CONSENT)
    assert not Consent.objects.exists()
    client.force_login(world.citizen_a)
    assert consent_url in page(client, "mine")
    client.post(consent_url, CONSENT)
    assert Consent.objects.get().party == world.zhang
    assert consent_url not in page(client, "mine")
    client.logout()
    assert client.post(consent_url, CONSENT).status_code == 302 and Consent.objects.count() == 1


def test_following_a_parcel_brings_notices(client, world, django_capture_on_commit_callbacks):
    follow_url = reverse("land_registry:follow", args=[world.parcel.public_ref])
    assert client.post(follow_url).status_code == 302 and not Follow.objects.exists()  # anonymous: login
    client.force_login(world.citizen_a)
    assert "Follow this parcel" in page(client, "parcel", world.parcel.public_ref)
    client.post(follow_url)
    assert Follow.objects.get().user == world.citizen_a
    with django_capture_on_commit_callbacks(execute=True):
        world.register("easement", [world.parcel], {"holder": world.li.public_ref})
    assert "X01-0001" in page(client, "notices") and len(mail.outbox) == 1
    client.force_login(world.citizen_b)
    assert "X01-0001" not in page(client, "notices")
    client.force_login(world.citizen_a)
    assert "Stop following" in page(client, "parcel", world.parcel.public_ref)
    client.post(follow_url, {"follow": "0"})
    assert not Follow.objects.exists()


def test_pages_speak_chinese_by_default(client, world):
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE")
    html = page(client, "parcel", world.parcel.public_ref)
    assert "当前权利" in html and "所有权" in html
