"""Mirrors against a peer's tiles served on loopback by an outside party (tiles made by the
independent spec writer, tests/tlog/tilespec.py): what is stored and served, and that a tampered
tile, a truncated bundle or an inconsistent checkpoint stores nothing and raises an alarm."""

import pytest

from ledger.models import Alarm, MirroredLog
from ledger.tasks import mirror_peers
from ledger.tlog import note
from ledger.tlog.checkpoint import Checkpoint, sign_checkpoint
from ledger.tlog.witness import origin_hash
from tests.ledger.peerlog import GetServer, PeerLog
from tests.tlog import tilespec

pytestmark = pytest.mark.django_db


def entries(count: int, history: str = "") -> list[bytes]:
    return [f'{{"entry":{i},"history":"{history}","pad":"{"x" * (i % 50)}"}}'.encode() for i in range(count)]


class TileServer:
    """`<url>/log/checkpoint` and `<url>/log/tile/...` of a peer, as `serve` sets them."""

    def __init__(self, log: PeerLog):
        self.log, self.files, self.requests, self.api_note = log, {}, [], b""
        self.cut_after = None  # answer this many tile requests, then drop every connection
        server = GetServer(self.answer)
        self.url, self.httpd = server.url, server.httpd

    def answer(self, path: str):
        if path == "/ledger/checkpoint":  # what the monitor reads
            return 200, self.api_note or self.files["checkpoint"]
        path = path.removeprefix("/log/")
        self.requests.append(path)
        if self.cut_after is not None and path != "checkpoint":
            if self.cut_after <= 0:
                return None  # no answer at all: a network cut
            self.cut_after -= 1
        body = self.files.get(path)
        return (200, body) if body is not None else (404, b"not found")

    def serve(self, data: list[bytes], signer=None):
        self.files = tilespec.build_tiles(data)
        root = tilespec.mth([tilespec.leaf_hash(e) for e in data])
        self.files["checkpoint"] = sign_checkpoint(Checkpoint(self.log.origin, len(data), root),
                                                   signer or self.log.signer).encode()
        self.requests = []


@pytest.fixture
def peer():
    log = PeerLog()
    server = TileServer(log)
    log.add_as_peer(url=server.url)
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def copy(client, server):
    """The mirror's copy, read over HTTP with the independent reader and the peer's log key."""
    prefix = f"/mirror/{origin_hash(server.log.origin)}/"

    def get(path):
        response = client.get(prefix + path)
        return response.status_code, response.content
    return tilespec.read_log(get, server.log.signer.verifier_key)


def mirrored(server) -> int:
    return MirroredLog.objects.get(peer__origin=server.log.origin).size


def test_a_growing_log_is_copied_and_served(client, peer):
    first = entries(300)
    peer.serve(first)
    assert mirror_peers() == 300
    assert mirrored(peer) == 300 and copy(client, peer).entries == first
    more = entries(700)
    peer.serve(more)
    assert mirror_peers() == 400
    log = copy(client, peer)
    assert log.size == 700 and log.entries == more
    assert log.note == peer.files["checkpoint"].decode()  # the peer's signed checkpoint, as served
    assert "tile/0/000" not in peer.requests and "tile/entries/000" not in peer.requests  # kept, not refetched
    assert len(peer.requests) == len(set(peer.requests))
    response = client.get(f"/mirror/{origin_hash(peer.log.origin)}/tile/0/001")
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    peer.serve(more)
    assert mirror_peers() == 0 and peer.requests == ["checkpoint"]
    assert not Alarm.objects.exists()


def nothing_stored(client, server, size: int) -> None:
    assert mirrored(server) == size
    if size:
        assert copy(client, server).size == size
    else:
        assert client.get(f"/mirror/{origin_hash(server.log.origin)}/checkpoint").status_code == 404
    assert MirroredLog.objects.get(peer__origin=server.log.origin).last_error


def alarm(kind: str, server) -> Alarm:
    alarms = list(Alarm.objects.all())
    assert [a.kind for a in alarms] == [kind]
    assert alarms[0].origin == server.log.origin
    return alarms[0]


@pytest.mark.parametrize("path,kind", [
    ("tile/0/001", "mirror-tile"),  # a full tile: does not hash to its hash in the level above
    ("tile/0/002.p/188", "mirror-tile"),  # a partial tile: the right edge does not make the root
    ("tile/1/000.p/2", "mirror-tile"),
    ("tile/entries/001", "mirror-bundle"),  # an entry changed
    ("tile/entries/002.p/188", "mirror-bundle"),
])
def test_a_tampered_tile_stores_nothing_and_raises_an_alarm(client, peer, path, kind):
    peer.serve(entries(100))
    mirror_peers()
    peer.serve(entries(700))
    body = bytearray(peer.files[path])
    body[-5] ^= 0x01
    peer.files[path] = bytes(body)
    assert mirror_peers() == 0
    nothing_stored(client, peer, 100)
    assert client.get(f"/mirror/{origin_hash(peer.log.origin)}/{path}").status_code == 404
    found = alarm(kind, peer)
    assert path in found.evidence and "# checkpoint served now" in found.evidence
    kept = next(line for line in found.evidence.splitlines() if line.endswith("/" + path)).rsplit("kept in ", 1)[1]
    assert open(kept, "rb").read() == bytes(body)  # the evidence: the bytes as served
    peer.serve(entries(700))  # the peer serves the right tile again: the mirror goes on
    assert mirror_peers() == 600 and copy(client, peer).size == 700


@pytest.mark.parametrize("path,cut", [("tile/0/001", 1), ("tile/0/002.p/88", 32), ("tile/1/000.p/2", 31)])
def test_a_truncated_hash_tile_stores_nothing(client, peer, path, cut):
    peer.serve(entries(600))
    peer.files[path] = peer.files[path][:-cut]
    mirror_peers()
    nothing_stored(client, peer, 0)
    found = alarm("mirror-tile", peer)
    assert f"{path} is malformed" in found.message
    assert [line for line in found.evidence.splitlines() if line.startswith("# tile/")] == [f"# {path} as served"]


@pytest.mark.parametrize("cut", [1, 2, 300])
def test_a_truncated_bundle_stores_nothing(client, peer, cut):
    peer.serve(entries(600))
    peer.files["tile/entries/001"] = peer.files["tile/entries/001"][:-cut]
    mirror_peers()
    nothing_stored(client, peer, 0)
    assert "truncated" in alarm("mirror-bundle", peer).message


def test_a_bundle_with_an_entry_too_many_stores_nothing(client, peer):
    peer.serve(entries(600))
    peer.files["tile/entries/001"] += b"\x00\x01x"
    mirror_peers()
    nothing_stored(client, peer, 0)
    alarm("mirror-bundle", peer)


def test_an_inconsistent_checkpoint_stores_nothing(client, peer):
    peer.serve(entries(300))
    mirror_peers()
    peer.serve(entries(700, history="rewritten"))  # well signed and tiled, but another history
    mirror_peers()
    nothing_stored(client, peer, 300)
    found = alarm("mirror-inconsistent", peer)
    assert "# checkpoint seen before" in found.evidence and "\n300\n" in found.evidence and "\n700\n" in found.evidence


@pytest.mark.parametrize("size,kind", [(200, "mirror-rollback"), (300, "mirror-fork")])
def test_a_smaller_tree_or_another_root_is_an_alarm(client, peer, size, kind):
    peer.serve(entries(300))
    mirror_peers()
    peer.serve(entries(size, history="other"))
    mirror_peers()
    nothing_stored(client, peer, 300)
    alarm(kind, peer)
    mirror_peers()
    assert Alarm.objects.count() == 1  # once while unacknowledged


def test_a_checkpoint_without_the_announced_key_stores_nothing(client, peer):
    peer.serve(entries(40), signer=note.Signer(note.generate_key(peer.log.origin)[0]))
    mirror_peers()
    nothing_stored(client, peer, 0)
    alarm("mirror-key", peer)


@pytest.mark.parametrize("answered", [5, 10])  # among the hash tiles; among the entry bundles
def test_a_network_cut_is_resumed_where_it_stopped(client, peer, answered):
    data = entries(1500)
    peer.serve(data)
    peer.cut_after = answered  # that many tiles, then the network goes
    assert mirror_peers() == 0
    nothing_stored(client, peer, 0)
    assert not Alarm.objects.exists()  # a cut is no alarm
    fetched = [p for p in peer.requests if p != "checkpoint"][:answered]
    assert len(fetched) == answered
    peer.cut_after, peer.requests = None, []
    assert mirror_peers() == 1500
    assert copy(client, peer).entries == data
    assert not set(fetched) & set(peer.requests)  # what came before the cut was not fetched again
    assert mirrored(peer) == 1500 and MirroredLog.objects.get().last_error == ""


def test_an_unreachable_peer_is_no_alarm(peer):
    peer.httpd.shutdown()
    peer.httpd.server_close()
    assert mirror_peers() == 0
    assert not Alarm.objects.exists()
    assert MirroredLog.objects.get().last_error


def test_the_alarm_is_in_chinese_and_public(client, peer):
    peer.serve(entries(600))
    peer.files["tile/entries/001"] = peer.files["tile/entries/001"][:-1]
    mirror_peers()
    [alarm] = client.get("/api/ledger/alarms").json()
    assert alarm["kind"] == "mirror-bundle" and "条目包无法用其树大小为 600 的检查点验证" in alarm["message"]


def test_mirrored_logs_admin_is_read_only_for_administrators(client, peer):
    from tests.ledger.test_peers import make_user

    peer.serve(entries(10))
    mirror_peers()
    listing = "/admin/ledger/mirroredlog/"
    client.force_login(make_user("root", "admin", is_superuser=True))
    response = client.get(listing)
    assert response.status_code == 200 and peer.log.origin in response.content.decode()
    assert client.get(listing + "add/").status_code == 403
    for user in (make_user("clerk", "clerk"), make_user("citizen", "citizen")):
        client.force_login(user)
        assert client.get(listing).status_code in (302, 403)
    client.logout()
    assert client.get(listing).status_code == 302


def test_a_file_cut_short_by_a_crash_is_fetched_again_not_blamed_on_the_peer(client, peer, settings):
    data = entries(600)
    peer.serve(data)
    peer.cut_after = 4
    mirror_peers()
    incoming = settings.LEDGER_MIRROR_DIR / origin_hash(peer.log.origin) / ".incoming"
    kept = incoming / "tile/0/001"
    assert kept.exists()
    kept.write_bytes(kept.read_bytes()[:100])  # as a crash before the flush may leave it
    peer.cut_after = None
    assert mirror_peers() == 600
    assert copy(client, peer).entries == data and not Alarm.objects.exists()


def test_tiles_of_another_history_than_the_api_showed_the_monitor_store_nothing(client, peer):
    from ledger.tasks import monitor_peers

    peer.serve(entries(300, history="shown to the API"))
    peer.api_note = peer.files["checkpoint"]
    assert monitor_peers() == 0  # the monitor verified size 300 of that history
    peer.serve(entries(700))  # the tiles: a well signed, well tiled other history
    mirror_peers()
    nothing_stored(client, peer, 0)
    found = alarm("mirror-split", peer)
    assert "300" in found.message and "monitored-checkpoint" in found.evidence


def test_tiles_of_the_history_the_monitor_saw_are_mirrored(client, peer):
    from ledger.tasks import monitor_peers

    peer.serve(entries(300))
    peer.api_note = peer.files["checkpoint"]
    monitor_peers()
    peer.serve(entries(700))
    assert mirror_peers() == 700 and not Alarm.objects.exists()
