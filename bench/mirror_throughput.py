"""Mirror throughput: entries per second a mirror fetches from a peer's tiles on loopback, verifies
(every hash tile against the checkpoint, every entry against its leaf hash) and stores.
Baseline, same run: the raw download rate of the same files, fetched with the same HTTP client and
the same number of requests at once (ledger.mirror.fetch_ordered), and nothing else done with them.

The peer is a log of N entries sealed and published as tiles by this portal's own code, served by
a plain static web server (`python -m http.server`, a process of its own): any such server will do.

    cd bench && ../.venv/bin/python mirror_throughput.py [N] [ROUNDS]     (DATABASE_URL=postgres://… too)
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from common import insert_entries, setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PORTS = range(18400, 18500)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit("no free port in 18400-18499")


def wait_serving(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the static server at {url} did not start")


def main():
    tmp = setup("mirror")
    from django.conf import settings

    from ledger import keys, mirror, services
    from ledger.models import MirroredLog
    from ledger.publish import publish_tiles
    from ledger.tlog import tiles as ttiles

    settings.LEDGER_TILES_DIR = tmp / "site" / "log"
    settings.LEDGER_MIRROR_DIR = tmp / "mirror"
    insert_entries(N)
    services.ledger_seal_all()
    start = time.perf_counter()
    size = publish_tiles()
    published = time.perf_counter() - start
    print(f"entries: {size}; published as tiles in {published:.2f}s ({size / published:.0f} entries/s)")

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                               str(tmp / "site"), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_serving(f"{base}/log/checkpoint")
        peer = services.peer_add(origin=settings.PORTAL_ORIGIN, url=base, log_key=keys.signer().verifier_key)
        files = [t.path for t in ttiles.hash_tiles_needed(0, size) + ttiles.bundles_needed(0, size)]
        raw_rates, mirror_rates = [], []
        for _round in range(ROUNDS):
            start = time.perf_counter()
            fetched = sum(mirror.fetch_ordered(
                lambda path: len(urllib.request.urlopen(f"{base}/log/{path}", timeout=30).read()), files))
            raw = time.perf_counter() - start
            shutil.rmtree(settings.LEDGER_MIRROR_DIR, ignore_errors=True)
            MirroredLog.objects.filter(peer=peer).delete()
            start = time.perf_counter()
            outcome = mirror.mirror_peer(peer)
            mirrored = time.perf_counter() - start
            assert outcome.entries == size and not outcome.alarm and not outcome.error, outcome
            raw_rates.append(size / raw)
            mirror_rates.append(size / mirrored)
            print(f"round {_round + 1}: raw download {len(files)} files, {fetched / 1e6:.1f} MB in {raw:.2f}s "
                  f"({size / raw:.0f} entries/s); mirror fetch + verify + store {mirrored:.2f}s "
                  f"({size / mirrored:.0f} entries/s)")
    finally:
        server.terminate()
        server.wait(timeout=10)
    raw, mirrored = statistics.median(raw_rates), statistics.median(mirror_rates)
    print(f"raw tile download (baseline): {raw:.0f} entries/s; pid {os.getpid()}")
    print(f"mirror throughput: {mirrored:.0f} entries/s, {mirrored / raw:.2f}x the raw download rate")


if __name__ == "__main__":
    main()
