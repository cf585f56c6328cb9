"""Backups held by peers: POST /ledger/backups/<origin hash> stores a peer's encrypted backup, signed
by its log key; GET gives the newest back to that peer alone; the beat task writes, prunes, pushes."""
import hashlib
import time

import pytest

from ledger import backup, backup_peers, keys, services
from ledger.models import LedgerState
from ledger.tasks import backup_database
from ledger.tlog.witness import origin_hash
from tests.ledger.peerlog import PeerLog
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dirs(tmp_path, settings):
    settings.LEDGER_PEER_BACKUP_DIR = tmp_path / "peer-backups"
    settings.LEDGER_BACKUP_DIR = tmp_path / "backups"
    settings.LEDGER_BACKUP_KEEP = 2
    return tmp_path


def peer_backup_file(peer: PeerLog, folder, created="2026-12-01T10:00:00Z", size=5) -> bytes:
    """An encrypted backup as peer `peer` makes it, for a key of its own that we do not hold."""
    plain = folder / "plain"
    plain.write_bytes(b"SQLite format 3\x00 the peer's citizens" * 50)
    their_key = folder / "their.key"
    recipient = backup.create_backup_key(their_key)
    out = folder / "theirs.gxb"
    backup.encrypt_file(plain, out, {"origin": peer.origin, "tree_size": size, "root": "00" * 32,
                                     "engine": "sqlite", "created": created}, recipient)
    return out.read_bytes()


def post(client, peer: PeerLog, body: bytes, *, signer=None, digest=None, hashed=None, at=None):
    signature = backup_peers.sign_request(backup_peers.PUSH, digest or hashlib.sha256(body).hexdigest(),
                                          origin=peer.origin, signer=signer or peer.signer, at=at)
    return client.post(f"/ledger/backups/{hashed or origin_hash(peer.origin)}", body,
                       content_type="application/octet-stream", HTTP_GONGXIN_BACKUP=signature)


def fetch(client, peer: PeerLog, *, signer=None, hashed=None):
    signature = backup_peers.sign_request(backup_peers.FETCH, "newest", origin=peer.origin,
                                          signer=signer or peer.signer)
    return client.get(f"/ledger/backups/{hashed or origin_hash(peer.origin)}", HTTP_GONGXIN_BACKUP=signature)


def test_a_peer_stores_its_backup_and_alone_gets_it_back(client, dirs):
    b, c = PeerLog("gongxin.example/city-b"), PeerLog("gongxin.example/city-c")
    b.add_as_peer()
    c.add_as_peer()
    body = peer_backup_file(b, dirs)
    response = post(client, b, body)
    assert response.status_code == 201, response.content
    stored = list((dirs / "peer-backups" / origin_hash(b.origin)).glob("*.gxb"))
    assert [path.read_bytes() for path in stored] == [body]
    back = fetch(client, b)
    assert back.status_code == 200 and b"".join(back.streaming_content) == body
    # Another peer, with its own valid key, does not get B's backup: neither under B's address...
    assert fetch(client, c, hashed=origin_hash(b.origin)).status_code == 403
    # ...nor by signing as B with its own key.
    assert fetch(client, PeerLog(b.origin), signer=c.signer).status_code == 403
    assert fetch(client, c).status_code == 404  # and it has none of its own here
    assert client.get(f"/ledger/backups/{origin_hash(b.origin)}").status_code == 401  # anonymous


def test_refusals_are_clear_4xx(client, dirs, settings):
    b, stranger = PeerLog("gongxin.example/city-b"), PeerLog("gongxin.example/stranger")
    b.add_as_peer()
    body = peer_backup_file(b, dirs)
    assert post(client, stranger, body).status_code == 403  # not a peer of ours
    assert post(client, b, body, signer=stranger.signer).status_code == 403  # not B's log key
    assert post(client, b, body, digest="0" * 64).status_code == 400  # not the signed body
    assert post(client, b, body, at=time.time() - 3600).status_code == 403  # an old request replayed
    assert post(client, b, body, hashed="0" * 64).status_code == 403  # another portal's address
    assert client.post(f"/ledger/backups/{origin_hash(b.origin)}", body, content_type="application/octet-stream",
                       HTTP_GONGXIN_BACKUP="x\x00y").status_code == 400
    assert client.post(f"/ledger/backups/{origin_hash(b.origin)}", body, content_type="application/octet-stream",
                       HTTP_GONGXIN_BACKUP="A" * 5000).status_code == 401
    assert client.get("/ledger/backups/not-a-hash").status_code == 404
    assert post(client, b, b"not a backup at all").status_code == 400
    c = PeerLog("gongxin.example/city-c")
    c.add_as_peer()
    assert post(client, c, body).status_code == 400  # B's backup, sent by C
    settings.LEDGER_BACKUP_MAX_BYTES = 100
    assert post(client, b, body).status_code == 413
    assert client.put(f"/ledger/backups/{origin_hash(b.origin)}").status_code == 405
    assert not list((dirs / "peer-backups").rglob("*.gxb"))  # nothing stored by any of these


def test_a_backup_larger_than_a_form_body_is_stored(client, dirs, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the limit of forms and JSON bodies, not of backups
    b = PeerLog("gongxin.example/city-b")
    b.add_as_peer()
    body = peer_backup_file(b, dirs)
    assert len(body) > 1000
    assert post(client, b, body).status_code == 201


def test_only_the_newest_backups_are_kept(client, dirs):
    b = PeerLog("gongxin.example/city-b")
    b.add_as_peer()
    for day in (1, 3, 2):
        assert post(client, b, peer_backup_file(b, dirs, created=f"2026-12-0{day}T10:00:00Z")).status_code == 201
    kept = sorted(path.name[:23] for path in (dirs / "peer-backups" / origin_hash(b.origin)).glob("*.gxb"))
    assert kept == ["backup-20261202T100000Z", "backup-20261203T100000Z"]


def test_the_task_writes_prunes_and_pushes_to_a_real_peer(live_server, dirs, settings):
    # The peer is this very portal, served on loopback: the push goes through HTTP and its signature
    # is checked against the log key configured for the origin.
    services.peer_add(origin=settings.PORTAL_ORIGIN, url=live_server.url, log_key=keys.signer().verifier_key)
    Record.objects.create(title="before the backup")
    services.ledger_seal_all()
    for _ in range(3):
        assert backup_database() == {settings.PORTAL_ORIGIN: 201}
        time.sleep(1.05)  # one backup a second: names carry the second
    own = sorted((dirs / "backups").glob("backup-*.gxb"))
    assert len(own) == 2
    held = sorted((dirs / "peer-backups" / origin_hash(settings.PORTAL_ORIGIN)).glob("*.gxb"))
    assert len(held) == 2 and held[-1].read_bytes() == own[-1].read_bytes()
    fetched = backup_peers.fetch_own(live_server.url, dirs / "fetched.gxb")
    assert fetched.read_bytes() == own[-1].read_bytes()
    header = backup.decrypt_file(fetched, dirs / "plain", backup.backup_private_key())
    assert header["tree_size"] == LedgerState.objects.get(pk=1).tree_size > 0


def test_an_unreachable_peer_is_reported_not_raised(dirs, settings):
    services.peer_add(origin="gongxin.example/city-b", url="http://127.0.0.1:9",
                      log_key=PeerLog("gongxin.example/city-b").signer.verifier_key)
    assert backup_database() == {"gongxin.example/city-b": None}
    assert len(list((dirs / "backups").glob("*.gxb"))) == 1
