"""The transparency dashboard in a real browser: the newest checkpoint, an entry verified in the
browser (and caught when a proof is altered in flight), language switching, desktop and phone."""
import base64
import json
import re

import pytest
from playwright.sync_api import expect

from ledger import services
from ledger.actor import acting_as, system_actor
from ledger.models import Checkpoint, Entry
from tests.land_registry.conftest import World
from tests.ledgerapp.models import Record
from tests.transparency.conftest import cosigned_by_peers

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = {"zh-hans": "透明度看板", "en": "Transparency dashboard"}
VERIFIED = {"zh-hans": "验证通过", "en": "Verified"}
FAILED = {"zh-hans": "验证失败，失败的步骤：", "en": "Verification failed at step:"}
INCLUSION = {"zh-hans": "包含证明", "en": "Inclusion proof"}
SIGNATURE = {"zh-hans": "检查点签名", "en": "Checkpoint signature"}
LEAF = {"zh-hans": "叶哈希", "en": "Leaf hash"}


def failed_at(visit, step):
    """The verdict, once it names the failed step."""
    pattern = re.compile(re.escape(FAILED[visit.language]) + r"\s*" + re.escape(step[visit.language]))
    visit.page.locator("[data-verdict]").filter(has_text=pattern).wait_for(timeout=10000)
OTHER = {"zh-hans": "en", "en": "zh-hans"}


@pytest.fixture
def ledger():
    World()
    services.ledger_seal_all()
    return Checkpoint.objects.order_by("-tree_size").first()


def parcel_index() -> int:
    return Entry.objects.filter(kind="land_registry.parcel").order_by("leaf__leaf_index").first().leaf_index


def test_dashboard_shows_the_newest_checkpoint(visit, ledger):
    assert visit.open("/transparency/").status == 200
    assert TITLE[visit.language] in visit.page.title()
    assert visit.page.locator('[data-live="size"]').inner_text() == str(ledger.tree_size)
    assert visit.page.locator('[data-live="blocks"] tr').count() >= 1
    visit.page.locator('#charts[data-drawn="true"]').wait_for(timeout=10000)
    assert visit.page.evaluate("window.Chart.getChart('chart-kind').data.datasets.length") >= 1
    assert not visit.overflows()
    visit.shot("dashboard")


def test_dashboard_refreshes_without_a_reload(visit, ledger):
    visit.open("/transparency/")
    with acting_as(system_actor("test")):
        Record.objects.create(title="new")
    services.ledger_seal_all()
    newest = Checkpoint.objects.order_by("-tree_size").first().tree_size
    expect(visit.page.locator('[data-live="size"]')).to_have_text(str(newest), timeout=15000)
    first = visit.page.locator('[data-live="entries"] tr').first.locator("td").first
    assert first.inner_text() == str(newest - 1)


def test_an_entry_verifies_in_the_browser(visit, ledger):
    index = parcel_index()
    assert visit.open(f"/transparency/entry/{index}/").status == 200
    visit.page.click("[data-verify-button]")
    verdict = visit.page.locator("[data-verdict]")
    verdict.filter(has_text=VERIFIED[visit.language]).wait_for(timeout=10000)
    assert visit.page.locator("[data-step].ok").count() == 3
    assert not visit.overflows()
    visit.shot("entry-verified")


def test_an_altered_proof_fails_naming_the_step(visit, ledger):
    index = parcel_index()

    def alter(route):
        response = route.fetch()
        body = response.json()
        node = bytearray(base64.b64decode(body["proof"][0]))
        node[0] ^= 1
        body["proof"][0] = base64.b64encode(bytes(node)).decode()
        route.fulfill(response=response, body=json.dumps(body))

    visit.page.route("**/api/ledger/proofs/inclusion*", alter)
    visit.open(f"/transparency/entry/{index}/")
    visit.page.click("[data-verify-button]")
    failed_at(visit, INCLUSION)
    assert visit.page.locator('[data-step="leaf"].ok').count() == 1
    assert visit.page.locator('[data-step="inclusion"].bad').count() == 1
    visit.shot("entry-tampered")


def test_altered_entry_data_fails_at_the_leaf_hash(visit, ledger):
    def alter(route):
        response = route.fetch()
        body = response.json()
        data = base64.b64decode(body["data"]).replace(b"X01-0001", b"X01-0002")
        body["data"] = base64.b64encode(data).decode()
        route.fulfill(response=response, body=json.dumps(body))

    visit.page.route("**/api/ledger/entries/*", alter)
    visit.open(f"/transparency/entry/{parcel_index()}/")
    visit.page.click("[data-verify-button]")
    failed_at(visit, LEAF)
    assert visit.page.locator("[data-step].ok").count() == 0


def test_a_forged_checkpoint_signature_fails_naming_the_step(visit, ledger):
    def forge(route):
        note = route.fetch().text()
        body, signatures = note.split("\n\n", 1)
        name, sig = signatures.split("\n")[0].rsplit(" ", 1)
        raw = bytearray(base64.b64decode(sig))
        raw[-1] ^= 1
        route.fulfill(status=200, content_type="text/plain; charset=utf-8",
                      body=f"{body}\n\n{name} {base64.b64encode(bytes(raw)).decode()}\n")

    visit.page.route("**/ledger/checkpoint", forge)
    visit.open(f"/transparency/entry/{parcel_index()}/")
    visit.page.click("[data-verify-button]")
    failed_at(visit, SIGNATURE)
    assert visit.page.locator('[data-step="inclusion"].ok').count() == 1


def test_switch_language_on_the_dashboard(visit, ledger):
    visit.open("/transparency/")
    visit.page.click(f'header button[name="language"][value="{OTHER[visit.language]}"]')
    visit.page.wait_for_load_state()
    assert TITLE[OTHER[visit.language]] in visit.page.title()
    visit.page.click('a[href="/transparency/block/0/"]')
    assert visit.page.url.endswith("/transparency/block/0/")
    assert not visit.overflows()
    visit.shot("block")


def test_verify_a_parcel_event_from_its_timeline(visit, ledger):
    from land_registry.models import Parcel

    parcel = Parcel.objects.get(number="X01-0001")
    visit.open(f"/land/parcels/{parcel.public_ref}/")
    event = visit.page.locator("details.verify-inline").first
    event.locator("summary").click()
    event.locator("[data-verify-button]").click()
    event.locator("[data-verdict]").filter(has_text=VERIFIED[visit.language]).wait_for(timeout=10000)
    assert not visit.overflows()
    visit.shot("parcel-event-verified")
    with visit.page.expect_navigation():
        visit.page.locator('main a[href^="/transparency/entry/"]').first.click()
    assert "/transparency/entry/" in visit.page.url


def test_a_verifier_opens_a_share_link_and_checks_it_in_the_browser(visit, ledger):
    from django.urls import reverse

    from tests.transparency.conftest import shared_licence

    token = shared_licence()
    services.ledger_seal_all()
    visit.open(reverse("licenses:verify", args=[token]))
    visit.page.click("[data-verify-button]")
    visit.page.locator("[data-verdict]").filter(has_text=VERIFIED[visit.language]).wait_for(timeout=10000)
    assert not visit.overflows()
    visit.shot("share-verified")


def test_search_and_downloads(visit, ledger):
    visit.open("/transparency/")
    visit.page.fill("#transparency-q", "X01-0001")
    visit.page.press("#transparency-q", "Enter")
    visit.page.wait_for_load_state()
    link = visit.page.locator('main a[href^="/land/parcels/"]')
    assert link.count() == 1
    assert not visit.overflows()
    visit.shot("search")
    visit.open("/transparency/downloads/")
    assert "python3 -m ledger.tlog.audit" in visit.page.content()
    assert not visit.overflows()
    visit.shot("downloads")


def test_checkpoint_and_cosignatures_checked_in_the_browser(visit, ledger):
    cosigned_by_peers("city-b.example", "city-c.example", forged="city-c.example")
    visit.open("/transparency/")
    rows = visit.page.locator("[data-witness-key]")
    assert rows.count() == 2
    visit.page.click("[data-check-checkpoint]")
    visit.page.locator('#checkpoint[data-checked="true"]').wait_for(timeout=10000)
    assert visit.page.locator('[data-result="signature"].ok').count() == 1
    assert rows.nth(0).locator('[data-result].ok').count() == 1  # city-b: an honest cosignature
    assert rows.nth(1).locator('[data-result].bad').count() == 1  # city-c cosigned another root
    assert not visit.overflows()
    visit.shot("cosignatures")
