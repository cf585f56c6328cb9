"""This portal as a C2SP tlog-witness: add-checkpoint over HTTP, byte for byte, and who may do what."""
from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import keys
from ledger.models import Alarm, WitnessedCheckpoint
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note, witness
from tests.ledger.peerlog import PeerLog

ADD = "/ledger/witness/add-checkpoint"


def post(body: bytes, client=None):
    return (client or Client()).post(ADD, data=body, content_type="application/octet-stream")


@pytest.fixture
def log(db):
    peer_log = PeerLog()
    peer_log.add_as_peer()
    return peer_log


def cosigned_by_us(log: PeerLog, size: int, line: str) -> int:
    """The timestamp of this portal's valid cosignature `line` over the log's checkpoint."""
    verifier = tcheckpoint.CosignatureVerifier(keys.witness_signer().verifier_key)
    return tcheckpoint.verify_cosignature(log.note(size) + line, log.checkpoint(size), verifier)


def test_cosigns_a_consistent_chain_of_checkpoints(log):
    first = post(log.body(0, 5))
    assert first.status_code == 200 and first["Content-Type"].startswith("text/plain")
    line = first.content.decode()
    assert line.startswith("\u2014 ") and line.endswith("\n") and line.count("\n") == 1
    assert cosigned_by_us(log, 5, line) > 0
    second = post(log.body(5, 13))
    assert second.status_code == 200 and cosigned_by_us(log, 13, second.content.decode()) > 0
    again = post(log.body(13, 13))  # the same checkpoint again is cosigned again
    assert again.status_code == 200
    stored = WitnessedCheckpoint.objects.get(origin=log.origin)
    assert (stored.size, bytes(stored.root)) == (13, log.root(13))


def test_monitoring_serves_the_newest_cosigned_checkpoint(log):
    url = f"/ledger/witness/{witness.origin_hash(log.origin)}/checkpoint"
    assert Client().get(url).status_code == 404
    post(log.body(0, 8))
    line = post(log.body(8, 21)).content.decode()
    page = Client().get(url)
    assert page.status_code == 200 and page.content.decode() == log.note(21) + line
    verifier = tcheckpoint.CosignatureVerifier(keys.witness_signer().verifier_key)
    assert note.open_note(page.content.decode(), [log.signer.verifier(), verifier])[1] == [log.origin, verifier.name]
    assert Client().get("/ledger/witness/" + "0" * 64 + "/checkpoint").status_code == 404
    assert Client().get("/ledger/witness/%2E%2E/checkpoint").status_code == 404


def test_witness_key_is_served_as_text():
    page = Client().get("/ledger/witness/key")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/plain")
    key = page.content.decode().strip()
    assert key == keys.witness_signer().verifier_key
    assert tcheckpoint.CosignatureVerifier(key).verifier_key == key  # a cosignature/v1 (0x04) key
    assert key != keys.signer().verifier_key


def test_statuses(log):
    unknown = PeerLog("gongxin.example/unknown")
    assert post(unknown.body(0, 3)).status_code == 404
    impostor = PeerLog(log.origin)  # the right origin, a key the witness does not trust
    assert post(impostor.body(0, 3)).status_code == 403
    assert post(log.body(0, 5)).status_code == 200
    conflict = post(log.body(0, 9))
    assert conflict.status_code == 409 and conflict["Content-Type"] == "text/x.tlog.size"
    assert conflict.content == b"5\n"
    assert post(log.body(3, 9)).status_code == 409
    assert post(witness.format_add_checkpoint(9, [], log.note(5))).status_code == 400  # old > size
    wrong_proof = log.body(5, 9, proof=[bytes(32)] * 3)
    assert post(wrong_proof).status_code == 422
    assert post(log.body(5, 4)).status_code == 400  # smaller size: never cosigned
    assert WitnessedCheckpoint.objects.get(origin=log.origin).size == 5


def test_a_second_root_for_a_cosigned_size_is_refused_and_raises_an_alarm(log):
    assert post(log.body(0, 6)).status_code == 200
    fork = PeerLog(log.origin, history=" rewritten")
    fork.signer = log.signer  # the log's own key signs a different history
    refused = post(fork.body(6, 6))
    assert refused.status_code == 422
    stored = WitnessedCheckpoint.objects.get(origin=log.origin)
    assert bytes(stored.root) == log.root(6)
    alarm = Alarm.objects.get(kind="log-inconsistent")
    assert alarm.origin == log.origin and log.note(6) in alarm.evidence and fork.note(6) in alarm.evidence


def test_a_bad_proof_for_a_genuine_checkpoint_is_422_without_an_alarm(log):
    # Anyone can send the log's public checkpoints with a wrong proof: that proves nothing about the log.
    assert post(log.body(0, 6)).status_code == 200
    assert post(log.body(6, 9, proof=[bytes(32)] * 3)).status_code == 422
    assert not Alarm.objects.exists()
    assert post(log.body(6, 9)).status_code == 200


def test_inactive_peer_is_unknown(db):
    log = PeerLog()
    log.add_as_peer(active=False)
    assert post(log.body(0, 3)).status_code == 404


def test_no_csrf_token_no_session_and_only_post(log):
    client = Client(enforce_csrf_checks=True)
    response = post(log.body(0, 2), client)
    assert response.status_code == 200 and not response.cookies
    assert Client().get(ADD).status_code == 405


def test_oversized_body_is_refused_before_reading(log):
    response = post(log.body(0, 2) + b"x" * (1 << 20))
    assert response.status_code == 413
    assert not WitnessedCheckpoint.objects.exclude(note="").exists()


@override_settings(LEDGER_WITNESS_RATE=5)
def test_rate_limit_is_per_origin_and_counts_only_checkpoints_that_advance(log):
    other = PeerLog("gongxin.example/city-c")
    other.add_as_peer()
    assert post(log.body(0, 1)).status_code == 200
    for _ in range(8):  # anyone can replay the log's public checkpoints: 200 or 409, never counted
        assert post(log.body(1, 1)).status_code == 200
        assert post(log.body(0, 1)).status_code == 409
    sizes = [1, 2, 3, 4, 5]
    codes = [post(log.body(old, new)).status_code for old, new in zip(sizes, sizes[1:], strict=False)]
    assert codes == [200] * 4
    limited = post(log.body(5, 6))
    assert limited.status_code == 429
    assert WitnessedCheckpoint.objects.get(origin=log.origin).size == 5  # nothing cosigned past the limit
    assert post(other.body(0, 1)).status_code == 200  # another log has its own allowance


def test_an_honest_log_at_one_checkpoint_a_second_never_meets_the_default_limit(log):
    from django.conf import settings as django_settings

    assert django_settings.LEDGER_WITNESS_RATE >= 120  # 60 a minute plus a retry each
    for size in range(1, 62):
        assert post(log.body(size - 1, size)).status_code == 200


SIGNED = PeerLog().body(0, 4)  # a well-formed body of a log the fuzzed witness does not know
MALFORMED = [
    b"", b"\n", b"old 0\n", b"old 0\n\n", SIGNED.replace(b"\n\n", b"\n", 1), b"old 0\nnot base64!\n\n" + SIGNED[7:],
    SIGNED.replace(b"old 0", b"old 18446744073709551616"), SIGNED.replace(b"old 0", b"old 1" + b"0" * 400),
    SIGNED.replace(b"old 0", b"old 0\x00"), SIGNED.replace(b"old 0", b"old \xff"), SIGNED.replace(b"\n", b"\r\n"),
    SIGNED.rsplit(b"\n\n", 1)[0] + b"\n", b"\x00" * 100, b"old 0\n\n" + b"\xe4\xb8" * 50,
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_bodies_get_4xx(log, body):
    assert 400 <= post(body).status_code < 500


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.builds(lambda head, tail: head + tail, st.sampled_from([b"old 0\n", b"old 1\n\n", b"old 5\nAAAA\n\n"]),
              st.binary(max_size=200)),
    st.builds(lambda cut, junk: SIGNED[:cut] + junk + SIGNED[cut + 1:], st.integers(0, len(SIGNED) - 1),
              st.binary(max_size=4)),
))
def test_fuzzed_bodies_never_get_5xx(body):
    assert 400 <= post(body).status_code < 500


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_requests_from_the_same_old_get_one_200_and_nine_409(live_server):
    log = PeerLog()
    log.add_as_peer()
    assert post(log.body(0, 1)).status_code == 200  # the row exists: only the lock can serialize them
    bodies = [log.body(1, size) for size in range(2, 12)]
    results = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def send(i):
        request = urllib.request.Request(live_server.url + ADD, data=bodies[i], method="POST")
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                results[i] = (response.status, response.read())
        except urllib.error.HTTPError as error:
            results[i] = (error.code, error.read())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * 9
    winner = next(i for i, (code, _) in enumerate(results) if code == 200)
    stored = WitnessedCheckpoint.objects.get(origin=log.origin)
    assert stored.size == winner + 2
    assert {body for code, body in results if code == 409} == {b"%d\n" % (winner + 2)}
