"""The monitor against a peer portal's public API served on loopback by an outside party (a
PeerLog): what it stores, and each misbehaviour it raises an alarm for, with both notes."""
import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ledger.models import Alarm, MonitoredCheckpoint
from ledger.tasks import monitor_peers
from ledger.tlog import merkle, note
from ledger.tlog.checkpoint import sign_checkpoint
from tests.ledger.peerlog import GetServer, PeerLog

pytestmark = pytest.mark.django_db


class PeerApi:
    """`GET /ledger/checkpoint` and `GET /api/ledger/proofs/consistency` of a peer, as `log` says."""

    def __init__(self, log: PeerLog):
        self.log, self.size, self.note = log, 0, ""
        self.server = GetServer(self.answer)
        self.url, self.httpd = self.server.url, self.server.httpd

    def answer(self, path: str):
        url = urlsplit(path)
        if url.path == "/ledger/checkpoint":
            return 200, self.note.encode()
        if url.path == "/api/ledger/proofs/consistency":
            query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
            proof = merkle.consistency_proof(self.log.leaves[:query["new"]], query["old"])
            b64 = lambda value: base64.b64encode(value).decode()  # noqa: E731
            return 200, json.dumps({
                "old": query["old"], "new": query["new"], "old_root": b64(self.log.root(query["old"])),
                "new_root": b64(self.log.root(query["new"])), "proof": [b64(p) for p in proof]}).encode()
        return 404, b"not found"

    def serve(self, size: int, log: PeerLog | None = None, signer=None):
        self.log = log or self.log
        self.note = sign_checkpoint(self.log.checkpoint(size), signer or self.log.signer)


@pytest.fixture
def peer():
    log = PeerLog(leaves=40)
    api = PeerApi(log)
    log.add_as_peer(url=api.url)
    yield api
    api.httpd.shutdown()
    api.httpd.server_close()


def seen(api) -> int:
    return MonitoredCheckpoint.objects.get(peer__origin=api.log.origin).size


def test_a_growing_consistent_log_is_followed_without_alarm(peer):
    peer.serve(10)
    assert monitor_peers() == 0 and seen(peer) == 10
    peer.serve(25)
    assert monitor_peers() == 0 and seen(peer) == 25
    assert not Alarm.objects.exists()


@pytest.mark.parametrize("attack,kind", [
    ("rollback", "rollback"), ("fork", "fork"), ("rewrite", "inconsistent"), ("other-key", "unknown-key"),
])
def test_each_misbehaviour_is_an_alarm_with_both_notes(peer, attack, kind):
    peer.serve(20)
    monitor_peers()
    before = peer.note
    forged = PeerLog(origin=peer.log.origin, leaves=40, history="rewritten")
    forged.signer = peer.log.signer  # the peer itself, keys included, signs another history
    if attack == "rollback":
        peer.serve(12)
    elif attack == "fork":
        peer.serve(20, log=forged)
    elif attack == "rewrite":
        peer.serve(30, log=forged)
    else:
        peer.serve(30, signer=note.Signer(note.generate_key(peer.log.origin)[0]))
    assert monitor_peers() == 1
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.origin) == (kind, peer.log.origin)
    assert before in alarm.evidence and peer.note in alarm.evidence
    assert seen(peer) == 20  # the last verified checkpoint stays the reference
    monitor_peers()
    assert Alarm.objects.count() == 1  # raised once while unacknowledged


def test_an_unreachable_or_garbled_peer_is_no_alarm(peer):
    peer.serve(10)
    monitor_peers()
    peer.note = "not a checkpoint\x00"
    assert monitor_peers() == 0
    peer.httpd.shutdown()
    peer.httpd.server_close()
    assert monitor_peers() == 0
    row = MonitoredCheckpoint.objects.get()
    assert row.size == 10 and row.last_error
    assert not Alarm.objects.exists()
