"""The log as C2SP tlog-tiles at /log/: read back over HTTP by an independent reader written from
the spec (tests/tlog/tilespec.py), partial tiles becoming full, cache headers, bad paths."""
import base64

import pytest
from django.db import transaction

from ledger import keys, publish, services
from ledger.models import Cosignature
from ledger.tasks import publish_tiles, seal
from ledger.tlog import tiles as ttiles
from ledger.tlog.checkpoint import cosign, parse_checkpoint
from ledger.tlog.note import parse_note
from portal.celery import app
from tests.ledger.peerlog import PeerLog
from tests.ledgerapp.models import Record
from tests.tlog import tilespec

pytestmark = pytest.mark.django_db


def add_records(count: int, start: int = 0) -> None:
    with transaction.atomic():
        Record.objects.bulk_create([Record(title=f"r{start + i}") for i in range(count)])


def seal_and_publish() -> int:
    services.ledger_seal_all()
    return publish_tiles()


def getter(client, prefix="/log/"):
    def get(path):
        response = client.get(prefix + path)
        return response.status_code, response.content
    return get


def read(client, prefix="/log/"):
    return tilespec.read_log(getter(client, prefix), keys.signer().verifier_key)


def test_the_spec_reader_re_derives_the_checkpoint_from_the_tiles(client):
    add_records(599)
    size = seal_and_publish()
    assert size == 600  # and the signing key's entry
    log = read(client)
    assert log.size == 600 and log.root == bytes(services.LedgerState.objects.get().root)
    # The entries' bytes are the API's entry bytes, index for index.
    for index in (0, 255, 256, 599):
        api = client.get(f"/api/ledger/entries/{index}").json()
        assert base64.b64decode(api["data"]) == log.entries[index]
    # What the independent writer makes of the same entries is what the portal serves.
    expected = tilespec.build_tiles(log.entries)
    assert set(expected) == {"tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/entries/000",
                             "tile/entries/001", "tile/entries/002.p/88", "tile/1/000.p/2"}
    for path, body in expected.items():
        assert client.get("/log/" + path).content == body


def test_partial_tiles_become_full_and_old_partials_go(client, settings):
    add_records(99)
    assert seal_and_publish() == 100
    partial = client.get("/log/tile/0/000.p/100")
    assert partial.status_code == 200 and len(partial.content) == 100 * 32
    assert partial["Cache-Control"] == "public, max-age=5"
    assert client.get("/log/tile/0/000").status_code == 404
    add_records(100, start=99)
    assert seal_and_publish() == 200
    assert client.get("/log/tile/0/000.p/100").status_code == 200  # a checkpoint a client may still hold
    wider = client.get("/log/tile/0/000.p/200").content
    assert wider[:100 * 32] == partial.content
    add_records(60, start=199)
    assert seal_and_publish() == 260
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full["Content-Type"] == "application/octet-stream"
    assert full.content[:200 * 32] == wider
    assert client.get("/log/tile/0/000.p/100").status_code == 404  # deleted once full
    assert client.get("/log/tile/entries/001.p/4").status_code == 200
    assert client.get("/log/tile/1/000.p/1").content == tilespec.mth(
        [full.content[i:i + 32] for i in range(0, 8192, 32)])
    checkpoint = client.get("/log/checkpoint")
    assert checkpoint["Content-Type"] == "text/plain; charset=utf-8"
    assert checkpoint["Cache-Control"] == "public, max-age=5"
    assert read(client).size == 260


def test_full_tiles_are_written_once(client, settings):
    add_records(300)
    seal_and_publish()
    written = (settings.LEDGER_TILES_DIR / "tile/0/000").stat().st_mtime_ns
    add_records(5, start=300)
    seal_and_publish()
    assert (settings.LEDGER_TILES_DIR / "tile/0/000").stat().st_mtime_ns == written
    assert read(client).size == 306


def test_the_seal_task_publishes(client):
    add_records(3)
    app.conf.task_always_eager = True  # the worker's run of the chained task, in this process
    try:
        seal()
    finally:
        app.conf.task_always_eager = False
    assert read(client).size == 4


def test_entries_sealed_outside_the_task_are_published_by_its_next_run(client):
    add_records(3)
    services.ledger_seal_all()  # as `manage.py seal` does
    assert client.get("/log/checkpoint").status_code == 404
    app.conf.task_always_eager = True
    try:
        seal()  # nothing left to seal, but the tiles are behind
    finally:
        app.conf.task_always_eager = False
    assert read(client).size == 4


def test_nothing_published_gives_404(client):
    assert client.get("/log/checkpoint").status_code == 404
    assert client.get("/log/tile/0/000").status_code == 404


def test_the_checkpoint_file_carries_the_cosignatures(client):
    add_records(2)
    seal_and_publish()
    before = client.get("/log/checkpoint").content.decode()
    witness = PeerLog()
    peer = witness.add_as_peer()
    line = cosign(parse_checkpoint(parse_note(before)[0]), witness.cosigner, 1_700_000_000)
    Cosignature.objects.create(peer=peer, tree_size=3, line=line, timestamp=1_700_000_000)
    publish_tiles()
    assert client.get("/log/checkpoint").content.decode() == before + line


def test_paths_at_large_indexes():
    assert ttiles.tile_path(0, 1234067) == tilespec.path(0, 1234067) == "tile/0/x001/x234/067"
    assert ttiles.tile_path(ttiles.ENTRIES, 1000, 7) == "tile/entries/x001/000.p/7"
    for n in (0, 5, 999, 1000, 1001, 999999, 1000000, 2**64 - 1):
        path = ttiles.tile_path(3, n, 17)
        assert path == tilespec.path(3, n, 17)
        assert ttiles.parse_tile_path(path) == ttiles.Tile(3, n, 17)


def test_a_large_index_is_served_from_its_nested_folder(client, settings):
    target = settings.LEDGER_TILES_DIR / "tile/2/x001/x234/067"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x07" * 8192)
    response = client.get("/log/tile/2/x001/x234/067")
    assert response.status_code == 200 and response.content == b"\x07" * 8192


@pytest.mark.parametrize("path", [
    "tile/0/1", "tile/0/0000", "tile/0/x000/001", "tile/00/000", "tile/64/000", "tile/0/000.p/256",
    "tile/0/000.p/0", "tile/0/000.p/007", "tile/0/000.p/", "tile/0/001/002", "tile/0/x001",
    "tile/0/" + "x999/" * 30 + "999", "tile/99999999999999999999999999/000", "tile/0/000.p/99999999999",
    "tile/0/%00", "tile/0/000%00", "tile/entries/../../checkpoint", "../settings.py", "tile/0/..%2f..%2fx",
    "tile/0/000/..", "checkpoint/x", "tile/-1/000", "tile/0/-001", "tile/0/" + "0" * 5000, "tile",
    "tile/0/ 000", "tile/0/000.p/1/", "%ff%fe",
])
def test_bad_paths_are_4xx(client, path):
    add_records(1)
    seal_and_publish()
    for prefix in ("/log/", "/mirror/" + "a" * 64 + "/"):
        response = client.get(prefix + path)
        # 400: the portal's own guard against numbers past 64 bits in any path; never a 5xx
        assert response.status_code in (400, 404), (prefix, path, response.status_code)


@pytest.mark.parametrize("origin_hash", ["x" * 64, "A" * 64, "a" * 63, "..", "%00" + "a" * 61])
def test_bad_mirror_names_are_4xx(client, origin_hash):
    assert client.get(f"/mirror/{origin_hash}/checkpoint").status_code in (400, 404)


def test_only_get(client):
    add_records(1)
    seal_and_publish()
    assert client.post("/log/checkpoint").status_code == 405
    assert client.put("/log/tile/0/000.p/2").status_code == 405
    assert client.get("/log/checkpoint").status_code == 200
    assert client.head("/log/tile/0/000.p/2").status_code == 200


def test_anyone_signed_in_or_not_reads_the_same_tiles(client, django_user_model):
    add_records(3)
    seal_and_publish()
    anonymous = client.get("/log/tile/entries/000.p/4").content
    client.force_login(django_user_model.objects.create_user("citizen-a", password="x"))
    assert client.get("/log/tile/entries/000.p/4").content == anonymous


def test_a_database_behind_or_beside_the_published_tiles_publishes_nothing(client, settings):
    add_records(9)
    seal_and_publish()
    published = read(client)
    (settings.LEDGER_TILES_DIR / "checkpoint").write_bytes(
        client.get("/log/checkpoint").content.replace(b"\n10\n", b"\n20\n"))  # a tree this database lacks
    add_records(30, start=9)
    assert seal_and_publish() is None
    assert not publish.tiles_behind()  # so the sealing runs do not ask again and again
    assert client.get("/log/tile/0/000.p/40").status_code == 404
    assert client.get("/log/tile/0/000.p/10").content == b"".join(
        tilespec.leaf_hash(e) for e in published.entries)


def test_bundles_are_gzipped_for_clients_that_accept_it(client):
    import gzip

    add_records(300)
    seal_and_publish()
    plain = client.get("/log/tile/entries/000")
    packed = client.get("/log/tile/entries/000", HTTP_ACCEPT_ENCODING="gzip, identity")
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content and len(packed.content) < len(plain.content) / 2
    assert "Accept-Encoding" in packed["Vary"] and packed["Cache-Control"] == plain["Cache-Control"]
    hashes = client.get("/log/tile/0/000", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in hashes and len(hashes.content) == 8192  # hashes do not compress
