"""Search by index, reference, parcel number or share code; the downloads page and its export, written
by the scheduled task (never on request) and verifiable offline."""
import pytest
from django.conf import settings

from ledger import keys, tasks
from ledger.models import Entry
from ledger.tlog import audit
from tests.transparency.conftest import shared_licence

pytestmark = pytest.mark.django_db


@pytest.fixture
def export_dir(tmp_path, settings):
    settings.LEDGER_EXPORT_DIR = tmp_path / "exports"
    return settings.LEDGER_EXPORT_DIR


def search(client, q, status=200):
    response = client.get("/transparency/search", {"q": q}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == status
    return response.content.decode()


def test_search_by_parcel_number_index_and_public_reference(client, world):
    assert f'href="/land/parcels/{world.parcel.public_ref}/"' in search(client, "X01-0001")
    assert 'href="/transparency/entry/3/"' in search(client, "3")
    html = search(client, world.parcel.public_ref)
    indexes = Entry.objects.filter(ref=world.parcel.public_ref).values_list("leaf__leaf_index", flat=True)
    assert all(f'href="/transparency/entry/{i}/"' in html for i in indexes)
    assert "Nothing found" in search(client, "no-such-thing")


def test_search_by_share_code_or_link(client):
    token = shared_licence()
    assert f'href="/licences/verify/{token}"' in search(client, token)
    assert f'href="/licences/verify/{token}"' in search(client, f"https://portal.example/licences/verify/{token}")
    assert "/licences/verify/" not in search(client, token[:-1] + ("A" if token[-1] != "A" else "B"))


@pytest.mark.parametrize("q", ["9" * 19, "9" * 200, "x\x00", "a" * 26, "'; DROP TABLE x; --", "１２"])
def test_odd_queries_are_answered_not_500(client, world, q):
    response = client.get("/transparency/search", {"q": q})
    assert response.status_code in (200, 400)


def test_an_over_long_query_is_400(client):
    assert "too long" in search(client, "x" * 201, status=400)


def test_downloads_before_any_export(client, export_dir):
    html = client.get("/transparency/downloads/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No export has been written yet" in html
    assert client.get("/transparency/downloads/ledger-export.jsonl").status_code == 404
    assert not export_dir.exists()  # nothing is written on request


def test_the_scheduled_export_is_offered_and_verifies_offline(client, world, export_dir, tmp_path):
    assert settings.CELERY_BEAT_SCHEDULE["ledger-export"]["task"] == "ledger.tasks.export"
    written = tasks.export_ledger.apply().get()  # the Celery task, run in process
    assert written == Entry.objects.filter(leaf__isnull=False).count()
    html = client.get("/transparency/downloads/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"<dd>{written}</dd>" in html and keys.signer().verifier_key in html
    assert "python3 -m ledger.tlog.audit ledger-export.jsonl --key" in html
    response = client.get("/transparency/downloads/ledger-export.jsonl")
    assert response.status_code == 200
    downloaded = tmp_path / "downloaded.jsonl"
    downloaded.write_bytes(b"".join(response.streaming_content))
    assert audit.load_export(str(downloaded), [keys.signer().verifier_key]) == []
