"""Anchoring: our checkpoints go to peers' witnesses, verified cosignatures come back and are served."""
from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from ledger import anchoring, keys, services, tasks
from ledger.models import Alarm, Checkpoint, Cosignature, PeerAnchor, WitnessedCheckpoint
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle, note, witness
from tests.ledger.peerlog import PeerLog, WitnessServer
from tests.ledgerapp.models import Record


def seal(n: int) -> Checkpoint:
    for i in range(n):
        Record.objects.create(title=f"r{i}", amount=i)
    services.ledger_seal()
    return Checkpoint.objects.order_by("-tree_size").first()


def add_server_peer(server: WitnessServer, origin: str):
    log = PeerLog(origin)
    return services.peer_add(origin=origin, url=server.url, log_key=log.signer.verifier_key,
                             witness_key=server.cosigner.verifier_key)


def honest(server, body):
    return 200, "text/plain; charset=utf-8", server.cosign(body)


@pytest.fixture
def servers():
    started = []

    def start(behaviour, name="witness.example/w1"):
        server = WitnessServer(behaviour, name)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.mark.django_db(transaction=True)
def test_anchoring_to_a_real_witness_endpoint_then_serving_the_cosigned_checkpoint(live_server):
    # The peer is this very portal's witness endpoint: our origin, our log key, our witness key.
    services.peer_add(origin=settings.PORTAL_ORIGIN, url=live_server.url, log_key=keys.signer().verifier_key,
                      witness_key=keys.witness_signer().verifier_key)
    first = seal(3)
    assert tasks.anchor.apply().get() == {settings.PORTAL_ORIGIN: f"cosigned {first.tree_size}"}
    second = seal(4)
    assert anchoring.anchor_checkpoint() == {settings.PORTAL_ORIGIN: f"cosigned {second.tree_size}"}
    assert WitnessedCheckpoint.objects.get(origin=settings.PORTAL_ORIGIN).size == second.tree_size
    assert anchoring.anchor_checkpoint() == {}  # nothing new: nobody is asked again

    served = Client().get("/ledger/checkpoint").content.decode()
    verifier = tcheckpoint.CosignatureVerifier(keys.witness_signer().verifier_key)
    parsed = tcheckpoint.open_checkpoint(served, note.Verifier(keys.signer().verifier_key))
    assert parsed.size == second.tree_size and tcheckpoint.verify_cosignature(served, parsed, verifier) > 0
    assert served.startswith(second.note) and served.count("\u2014 ") == 2

    status = Client().get("/api/ledger/anchoring").json()
    assert status["newest_size"] == second.tree_size and status["quorum"] == 1 and status["anchored"]
    assert status["anchored_size"] == second.tree_size and status["anchored_age_seconds"] >= 0
    assert status["peers"][0]["cosigned_size"] == second.tree_size and status["peers"][0]["last_error"] == ""


@pytest.mark.django_db(transaction=True)
def test_a_409_teaches_the_size_and_the_retry_carries_the_proof_from_it(live_server):
    peer = services.peer_add(origin=settings.PORTAL_ORIGIN, url=live_server.url,
                             log_key=keys.signer().verifier_key, witness_key=keys.witness_signer().verifier_key)
    first = seal(2)
    anchoring.anchor_checkpoint()
    PeerAnchor.objects.filter(peer=peer).update(cosigned_size=0)  # we forgot what the peer cosigned
    second = seal(3)
    assert anchoring.anchor_checkpoint() == {settings.PORTAL_ORIGIN: f"cosigned {second.tree_size}"}
    assert PeerAnchor.objects.get(peer=peer).cosigned_size == second.tree_size
    assert first.tree_size < second.tree_size


@pytest.mark.django_db
def test_first_request_is_old_zero_without_proof_then_proofs_from_the_cosigned_size(servers):
    server = servers(honest)
    add_server_peer(server, "gongxin.example/city-b")
    first = seal(3)
    anchoring.anchor_checkpoint()
    second = seal(5)
    anchoring.anchor_checkpoint()
    one, two = (witness.parse_add_checkpoint(body) for body in server.requests)
    assert server.requests[0].startswith(b"old 0\n\n") and one.proof == ()
    assert two.old_size == first.tree_size and two.checkpoint.size == second.tree_size
    old_root = bytes(tcheckpoint.parse_checkpoint(note.parse_note(first.note)[0]).root_hash)
    merkle.verify_consistency(first.tree_size, second.tree_size, old_root, two.checkpoint.root_hash, two.proof)


@pytest.mark.django_db
@override_settings(LEDGER_ANCHOR_TIMEOUT=0.5)
def test_slow_garbage_failing_and_dead_peers_do_not_stop_the_honest_one(servers):
    good = servers(honest, "witness.example/good")
    slow = servers(lambda server, body: "hang", "witness.example/slow")
    garbage = servers(lambda server, body: (200, "text/plain", b"\x00garbage\r\n"), "witness.example/garbage")
    failing = servers(lambda server, body: (500, "text/plain", b"oops\n"), "witness.example/500")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]  # closed again: nothing listens there
    peers = {name: add_server_peer(server, f"gongxin.example/{name}")
             for name, server in (("good", good), ("slow", slow), ("garbage", garbage), ("failing", failing))}
    log = PeerLog("gongxin.example/dead")
    services.peer_add(origin=log.origin, url=f"http://127.0.0.1:{dead_port}", log_key=log.signer.verifier_key,
                      witness_key=log.cosigner.verifier_key)
    checkpoint = seal(2)
    outcomes = anchoring.anchor_checkpoint()
    assert outcomes["gongxin.example/good"] == f"cosigned {checkpoint.tree_size}"
    for name in ("slow", "garbage", "failing", "dead"):
        assert outcomes[f"gongxin.example/{name}"].startswith("failed"), outcomes
    assert "HTTP 500" in outcomes["gongxin.example/failing"]
    assert list(Cosignature.objects.values_list("peer__origin", flat=True)) == ["gongxin.example/good"]
    assert not Alarm.objects.exists()  # failures are not evidence of misbehaviour
    failing_anchor = PeerAnchor.objects.get(peer=peers["failing"])
    assert failing_anchor.failures == 1 and failing_anchor.next_attempt > timezone.now()
    assert "500" in failing_anchor.last_error

    assert anchoring.anchor_checkpoint() == {}  # backing off: nobody is asked again yet
    PeerAnchor.objects.filter(peer=peers["failing"]).update(next_attempt=timezone.now() - dt.timedelta(seconds=1))
    before = timezone.now()
    assert list(anchoring.anchor_checkpoint()) == ["gongxin.example/failing"]
    again = PeerAnchor.objects.get(peer=peers["failing"])
    delay = (again.next_attempt - before).total_seconds()
    interval = settings.LEDGER_ANCHOR_INTERVAL
    assert again.failures == 2 and interval * 2 * 0.5 <= delay <= interval * 2 * 1.5 + 1


@pytest.mark.django_db
def test_a_cosignature_over_a_root_we_never_signed_is_an_alarm_and_not_stored(servers):
    def wrong_root(server, body):
        ours = witness.parse_add_checkpoint(body).checkpoint
        other = tcheckpoint.Checkpoint(ours.origin, ours.size, bytes(32))
        return 200, "text/plain", server.cosign(body, other)

    server = servers(wrong_root)
    add_server_peer(server, "gongxin.example/city-b")
    checkpoint = seal(2)
    assert anchoring.anchor_checkpoint()["gongxin.example/city-b"].startswith("failed")
    assert not Cosignature.objects.exists()
    alarm = Alarm.objects.get()
    assert alarm.kind == "bad-cosignature" and checkpoint.note in alarm.evidence
    listed = Client().get("/api/ledger/alarms").json()
    assert [a["kind"] for a in listed] == ["bad-cosignature"] and listed[0]["origin"] == "gongxin.example/city-b"


@pytest.mark.django_db
def test_other_witnesses_lines_are_ignored_and_a_missing_own_line_is_a_failure(servers):
    stranger = WitnessServer(honest, "witness.example/stranger")
    try:
        server = servers(lambda server, body: (200, "text/plain", stranger.cosign(body)))
        add_server_peer(server, "gongxin.example/city-b")
        seal(2)
        assert "no cosignature by the configured witness key" in anchoring.anchor_checkpoint()["gongxin.example/city-b"]
        assert not Cosignature.objects.exists() and not Alarm.objects.exists()
    finally:
        stranger.close()


@pytest.mark.django_db
def test_a_peer_that_cosigned_more_than_we_have_raises_a_rollback_alarm(servers):
    server = servers(lambda server, body: (409, "text/x.tlog.size", b"1000000\n"))
    add_server_peer(server, "gongxin.example/city-b")
    seal(2)
    assert "beyond" in anchoring.anchor_checkpoint()["gongxin.example/city-b"]
    assert Alarm.objects.get().kind == "rolled-back"


@pytest.mark.django_db
def test_a_peer_that_refuses_with_422_raises_an_alarm(servers):
    server = servers(lambda server, body: (422, "text/plain", b"consistency proof does not verify\n"))
    add_server_peer(server, "gongxin.example/city-b")
    seal(2)
    anchoring.anchor_checkpoint()
    assert Alarm.objects.get().kind == "peer-refused"


@pytest.mark.django_db
def test_quorum_is_a_majority_of_active_peers_and_none_without_peers(servers):
    assert Client().get("/api/ledger/anchoring").json()["quorum"] is None
    assert not Client().get("/api/ledger/anchoring").json()["anchored"]
    good = [servers(honest, f"witness.example/w{i}") for i in range(2)]
    bad = servers(lambda server, body: (500, "text/plain", b"down\n"), "witness.example/down")
    for i, server in enumerate([*good, bad]):
        add_server_peer(server, f"gongxin.example/p{i}")
    checkpoint = seal(2)
    anchoring.anchor_checkpoint()
    status = Client().get("/api/ledger/anchoring").json()
    assert (status["quorum"], status["newest_cosignatures"], status["anchored"]) == (2, 2, True)
    with override_settings(LEDGER_WITNESS_QUORUM=3):
        status = Client().get("/api/ledger/anchoring").json()
        assert (status["quorum"], status["anchored"], status["anchored_size"]) == (3, False, None)
    assert Client().get("/ledger/checkpoint").content.decode().count("\u2014 ") == 3
    assert checkpoint.tree_size == status["newest_size"]


@pytest.mark.django_db
def test_home_page_says_whether_the_newest_checkpoint_is_anchored(servers):
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "No peer portal witnesses this ledger yet." in english.get("/").content.decode()
    good = servers(honest, "witness.example/good")
    down = servers(lambda server, body: (503, "text/plain", b"down\n"), "witness.example/down")
    add_server_peer(good, "gongxin.example/p1")
    add_server_peer(down, "gongxin.example/p2")
    first = seal(2)
    anchoring.anchor_checkpoint()
    page = english.get("/").content.decode()
    assert "not anchored yet: 1 of 2 cosignatures" in page and "newest anchored" not in page
    with override_settings(LEDGER_WITNESS_QUORUM=1):
        assert "anchored: 1 peer portals cosigned it (quorum 1)" in english.get("/").content.decode()
        seal(1)
        page = english.get("/").content.decode()
        assert "not anchored yet: 0 of 1" in page and f"(tree size {first.tree_size})" in page
    assert "尚未锚定" in Client().get("/").content.decode()


@pytest.mark.django_db(transaction=True)
@override_settings(LEDGER_ANCHOR_TIMEOUT=20)
def test_writes_and_sealing_go_on_while_anchoring_waits_on_a_hanging_peer(servers):
    import threading
    import time

    from django.db import connection

    hanging = servers(lambda server, body: "hang", "witness.example/hangs")
    add_server_peer(hanging, "gongxin.example/hangs")
    before = seal(1)
    outcome = {}

    def run():
        try:
            outcome.update(anchoring.anchor_checkpoint())
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    for _ in range(600):  # until the peer holds the request (a wait, not a timed assertion)
        if hanging.requests:
            break
        time.sleep(0.05)
    assert hanging.requests and worker.is_alive()
    after = seal(3)  # data writes and a seal, while the anchoring run is still waiting
    assert after.tree_size > before.tree_size and worker.is_alive()
    hanging.close()
    worker.join(30)
    assert not worker.is_alive() and outcome["gongxin.example/hangs"].startswith("failed")
