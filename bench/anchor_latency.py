"""Anchoring latency in a federation of three real portals (processes of their own, as in
`dev.py run`): from a data change to a checkpoint of the changed log cosigned by a quorum of
its peers. Goal: median <= seal interval + anchor interval + 1 s.

The change is a ledgered write made with a management command (a new user); its moment is the
time in its own ledger entry, written in the same transaction, read back from the public API.
Baseline, same run: from the change to the first signed checkpoint that contains it (sealing).

    cd bench && ../.venv/bin/python anchor_latency.py [SAMPLES]     (DATABASE_URL=postgres://… too)
"""
import base64
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT  # noqa: F401  (puts the project on sys.path)

from tests.federation.harness import Databases, Federation, cosigners, http

SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 20
SEAL, ANCHOR = 1.0, 1.0
QUORUM = 2  # both peers of each portal (the default, a majority of two, is two)


def entry_time(portal, index: int) -> float:
    status, body, _ = http(f"{portal.url}/api/ledger/entries/{index}")
    assert status == 200, body
    stamp = json.loads(base64.b64decode(json.loads(body)["data"]))["time"]
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def sample(federation, n: int) -> tuple[float, float]:
    """(seconds to a signed checkpoint, seconds to a quorum-cosigned one) for one change."""
    a = federation[0]
    peers = federation.peers_of(a)
    before, _ = cosigners(a, [])
    federation.write(a, f"bench-{n}-{os.getpid()}")
    sealed = anchored = None
    deadline = time.monotonic() + 60
    while anchored is None and time.monotonic() < deadline:
        size, valid = cosigners(a, peers)
        now = time.time()
        if size > before and sealed is None:
            sealed = now
        if size > before and len(valid) >= QUORUM:
            anchored = now
        time.sleep(0.02)
    if anchored is None:
        sys.exit(f"no quorum-cosigned checkpoint within 60 s\n{federation.logs(a)}")
    changed = entry_time(a, before)
    return sealed - changed, anchored - changed


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main():
    root = Path(tempfile.mkdtemp(prefix="gongxin-bench-anchor-"))
    databases = Databases(root, prefix="bench_anchor")
    federation = Federation(root, 3, databases=databases, tag="bench", env={
        "LEDGER_SEAL_INTERVAL": str(SEAL), "LEDGER_ANCHOR_INTERVAL": str(ANCHOR),
        "LEDGER_MONITOR_INTERVAL": "5", "LEDGER_WITNESS_QUORUM": str(QUORUM), "LOG_LEVEL": "WARNING"})
    print(f"# database: {'postgresql' if databases.server else 'sqlite'}; python {sys.version.split()[0]}; "
          f"seal interval {SEAL:g} s, anchor interval {ANCHOR:g} s, quorum {QUORUM} of 2 peers", flush=True)
    try:
        federation.start()
        a = federation[0]
        while not cosigners(a, federation.peers_of(a))[1]:  # the federation is up and cosigning
            time.sleep(0.2)
        seals, anchors = [], []
        for n in range(SAMPLES):
            sealed, anchored = sample(federation, n)
            seals.append(sealed)
            anchors.append(anchored)
            print(f"  change {n + 1:3}: sealed after {sealed:5.2f} s, quorum-cosigned after {anchored:5.2f} s",
                  flush=True)
    finally:
        federation.stop()
        databases.drop()
    goal = SEAL + ANCHOR + 1
    print(f"baseline (change to a signed checkpoint): median {statistics.median(seals):.2f} s, "
          f"p95 {percentile(seals, 95):.2f} s")
    median = statistics.median(anchors)
    print(f"anchor latency (change to a quorum-cosigned checkpoint): median {median:.2f} s, "
          f"p95 {percentile(anchors, 95):.2f} s over {SAMPLES} changes "
          f"(goal: median <= {goal:g} s: {'met' if median <= goal else 'not met'})")


if __name__ == "__main__":
    main()
