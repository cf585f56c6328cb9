"""The transparency pages over HTTP: anyone sees them, bad addresses get 404, no personal data shows."""
import pytest

from tests.transparency.conftest import cosigned_by_peers

pytestmark = pytest.mark.django_db

PERSONAL = ["张伟", "李娜", "王芳", "110101199003076544", "11010219770101003X", "和平里1号", "a@example.org",
            "citizena"]


def test_anonymous_sees_the_dashboard_with_the_newest_checkpoint(client, world):
    from ledger.models import Checkpoint, LedgerKey

    response = client.get("/transparency/")
    assert response.status_code == 200
    html = response.content.decode()
    newest = Checkpoint.objects.order_by("-tree_size").first()
    assert f'data-live="size">{newest.tree_size}<' in html
    assert LedgerKey.objects.get(active=True).verifier_key in html
    assert 'href="/transparency/block/0/"' in html
    assert 'src="/static/transparency/dashboard.js"' in html and 'type="module"' in html
    assert not any(word in html for word in PERSONAL)


def test_every_page_links_the_dashboard(client, world):
    for url in ["/", "/land/", "/accounts/login/"]:
        assert 'href="/transparency/"' in client.get(url).content.decode(), url


def test_the_latest_endpoint_gives_localised_times_and_kinds_in_words(client, world):
    latest = client.get("/api/transparency/latest", HTTP_ACCEPT_LANGUAGE="en").json()
    assert latest["checkpoint"]["size"] == latest["blocks"][0]["tree_size"]
    entry = latest["entries"][0]
    assert entry["url"] == f"/transparency/entry/{entry['index']}/"
    assert "." not in entry["created"] and "T" not in entry["created"]  # no raw ISO with microseconds
    assert "_" not in entry["kind_label"] and "." not in entry["kind_label"]
    zh = client.get("/api/transparency/latest", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["entries"][0]["kind_label"] != entry["kind_label"]


def test_block_page_explains_the_header_and_lists_its_entries(client, world):
    response = client.get("/transparency/block/0/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "the chain link" in html and "Previous block hash" in html
    assert 'href="/transparency/entry/0/"' in html
    assert not any(word in html for word in PERSONAL)


def test_entry_page_shows_public_fields_digests_proof_and_the_verify_button(client, world):
    from ledger.models import Entry

    index = Entry.objects.filter(kind="land_registry.parcel").order_by("leaf__leaf_index").first().leaf_index
    response = client.get(f"/transparency/entry/{index}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert world.parcel.number in html  # public by law
    assert "Parcel" in html and "land_registry.parcel" not in html
    assert "Inclusion proof" in html and "data-verify" in html
    assert 'src="/static/transparency/verify.js"' in html
    assert not any(word in html for word in PERSONAL)
    zh = client.get(f"/transparency/entry/{index}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "在我的浏览器中验证" in zh


def test_party_entries_show_no_personal_data(client, world):
    from ledger.models import Entry

    for entry in Entry.objects.filter(kind="land_registry.party"):
        html = client.get(f"/transparency/entry/{entry.leaf_index}/").content.decode()
        assert not any(word in html for word in PERSONAL)


@pytest.mark.parametrize("url", [
    "/transparency/block/999/", "/transparency/entry/99999/",
    "/transparency/block/99999999999999999999999/", "/transparency/entry/18446744073709551616/",
    "/transparency/entry/-1/", "/transparency/entry/1%00/", "/transparency/block/%00/",
    "/transparency/entry/abc/", "/transparency/block/" + "9" * 5000 + "/",
])
def test_missing_or_malformed_ids_are_404_not_500(client, world, url):
    assert client.get(url).status_code in (400, 404)


def test_dashboard_before_anything_is_sealed(client):
    response = client.get("/transparency/")
    assert response.status_code == 200
    assert client.get("/api/transparency/latest").json()["checkpoint"] is None


def test_pages_are_read_only(client, world):
    assert client.post("/transparency/").status_code == 405
    assert client.post("/api/transparency/latest").status_code == 405


def test_the_dashboard_lists_each_peers_cosignature_and_its_freshness(client, world):
    cosigned_by_peers("city-b.example", "city-c.example")
    html = client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "city-b.example" in html and "city-c.example" in html
    assert html.count(" ago</td>") == 2 and html.count("data-witness-key=") == 2
    assert "The newest checkpoint is anchored" in html
