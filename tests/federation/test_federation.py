"""Three real portals on loopback witness each other: separate processes, databases, keys, Celery
workers with beat. They cosign each other's checkpoints, survive a peer going away, and catch a
database restored from an old backup and a history rewritten and re-signed after it was cosigned:
the portal itself refuses to start on either (its high-water mark) until the operator acknowledges
it, and its peers still catch it after that.

The tests run in order on one federation (module scope): the attacks come last.
"""
import json
import subprocess
import sys

import pytest

from ledger.tlog import note as tnote
from ledger.tlog import witness as twitness
from tests.federation.harness import Databases, Federation, checkpoint, cosigners, http, wait_for

pytestmark = pytest.mark.federation


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    root = tmp_path_factory.mktemp("federation")
    databases = Databases(root)
    portals = Federation(root, 3, databases=databases)
    try:
        yield portals.start()
    finally:
        portals.stop()
        databases.drop()


def fully_cosigned(federation, portal, at_least=1):
    """The portal's served checkpoint size once both peers' valid cosignatures are on it."""
    size, valid = cosigners(portal, federation.peers_of(portal))
    return size if size >= at_least and len(valid) == len(federation.peers_of(portal)) else None


def witnessed_size(witness, log) -> int:
    """The size of `log` that `witness` last cosigned, as the witness serves it publicly."""
    status, body, _ = http(f"{witness.url}/ledger/witness/{twitness.origin_hash(log.origin)}/checkpoint")
    return int(body.splitlines()[1]) if status == 200 else 0


def alarm(portal, kind: str, origin: str) -> dict | None:
    """The portal's alarm of `kind` about `origin`, as its public alarms API shows it."""
    status, body, _ = http(f"{portal.url}/api/ledger/alarms")
    assert status == 200, body
    return next((a for a in json.loads(body) if a["kind"] == kind and a["origin"] == origin), None)


def monitored_size(monitor, log) -> int:
    """The size of `log` that `monitor`'s monitor last verified."""
    out = monitor.manage("shell", "-c", "from ledger.models import MonitoredCheckpoint as M\n"
                         f"print(*M.objects.filter(peer__origin={log.origin!r}).values_list('size', flat=True))")
    return int(out.stdout.split()[-1]) if out.stdout.split() and out.stdout.split()[-1].isdigit() else 0


def test_every_portal_is_cosigned_by_both_peers(federation):
    for portal in federation:
        assert wait_for(lambda portal=portal: fully_cosigned(federation, portal), timeout=60), \
            federation.logs(portal)
    a = federation[0]
    before, _ = cosigners(a, [])
    federation.write(a, "cosign")
    assert wait_for(lambda: fully_cosigned(federation, a, at_least=before + 1), timeout=30), federation.logs(a)


def test_a_peer_down_and_back_anchoring_catches_up(federation):
    a, b, c = federation
    c.stop()
    try:
        before, _ = cosigners(a, [])
        federation.write(a, "while-c-is-down")  # writes never fail while a witness is away
        # Sealed and cosigned by the one witness that is up, but not by the one that is down.
        assert wait_for(lambda: cosigners(a, [b])[1] == {b.origin} and cosigners(a, [])[0] > before,
                        timeout=30), federation.logs(a)
        grown, valid = cosigners(a, [b, c])
        assert c.origin not in valid
    finally:
        federation.start_portal(c)
    assert wait_for(lambda: fully_cosigned(federation, a, at_least=grown), timeout=45), federation.logs(a)
    assert witnessed_size(c, a) >= grown


def test_a_database_restored_from_an_old_backup_is_caught(federation):
    a, b, c = federation
    backup = federation.backup(b, "b_backup")
    old, _ = cosigners(b, [])
    # Two entries after the backup: the acknowledgement (one entry) leaves the restored tree still smaller.
    federation.write(b, "later")
    federation.write(b, "later-again")
    assert wait_for(lambda: witnessed_size(a, b) > old + 1 and witnessed_size(c, b) > old + 1, timeout=45), \
        federation.logs(b)
    assert wait_for(lambda: monitored_size(a, b) > old + 1, timeout=30), federation.logs(a)
    federation.restore(b, backup)
    # The portal remembers (outside its database) the tree it signed: it refuses to start on the old one.
    refused = federation.start_refused(b)
    assert "ledger.E006" in refused and "acknowledge_restore" in refused, refused
    acknowledged = b.manage("acknowledge_restore", "--reason", "restored from the nightly backup")
    assert "Acknowledged" in acknowledged.stdout, acknowledged.stdout
    federation.start_portal(b)
    # Acknowledged locally, the rollback is still caught by those who remember the larger tree.
    raised = wait_for(lambda: alarm(a, "rollback", b.origin), timeout=30)
    assert raised, federation.logs(a)
    assert raised["evidence"].count(f"— {b.origin} ") == 2  # both signed checkpoints, the larger one first
    assert wait_for(lambda: cosigners(b, [])[0] > old, timeout=30), federation.logs(b)  # the acknowledgement sealed
    verified = b.manage("verify_ledger", "--no-records", check=False)
    assert verified.returncode != 0 and "peer-rollback" in verified.stdout, verified.stdout


def test_a_rewritten_and_resigned_history_is_refused_and_caught(federation):
    a, b, c = federation
    c.stop()
    forged = subprocess.run([sys.executable, "-m", "tests.federation.forge", "rewrite"], env=c.env,
                            capture_output=True, text=True)
    assert forged.returncode == 0, forged.stderr
    # The high-water mark outside the database shows the tree was replaced: the portal refuses to start...
    refused = federation.start_refused(c)
    assert "ledger.E006" in refused and "acknowledge_restore" in refused, refused
    # ... until the operator acknowledges it; its peers then judge the rewritten history it serves.
    c.manage("acknowledge_restore", "--reason", "database replaced by the operator")
    federation.start_portal(c)
    cosigned = witnessed_size(a, c)
    federation.write(c, "after-rewrite")
    assert wait_for(lambda: (checkpoint(c) or (None, ""))[0] and checkpoint(c)[0].size > cosigned, timeout=30)
    # A witness refuses the rewritten tree, whoever brings it: here, an auditor, with the proof c serves.
    head, note = checkpoint(c)
    status, body, _ = http(f"{c.url}/api/ledger/proofs/consistency?old={cosigned}&new={head.size}")
    proof = [tnote.b64decode_strict(node) for node in json.loads(body)["proof"]]
    signed = note[: note.index("\n\n") + 2] + "".join(
        line + "\n" for line in note[note.index("\n\n") + 2:].splitlines() if line.startswith(f"— {c.origin} "))
    answer, text, _ = http(f"{a.url}/ledger/witness/add-checkpoint",
                           data=twitness.format_add_checkpoint(cosigned, proof, signed))
    assert answer == 422, (answer, text)  # the proof from the cosigned size fails
    # Its peers' monitors raise the alarm, and its own verify_ledger finds the rewrite.
    raised = wait_for(lambda: alarm(a, "inconsistent", c.origin), timeout=30)
    assert raised, federation.logs(a)
    assert raised["evidence"].count(f"— {c.origin} ") >= 2
    verified = c.manage("verify_ledger", "--no-records", check=False)
    assert verified.returncode != 0 and "peer-fork" in verified.stdout, verified.stdout
    offline = c.manage("verify_ledger", "--no-records", "--offline", check=False)
    assert offline.returncode != 0 and "peer-cosignature" in offline.stdout, offline.stdout
