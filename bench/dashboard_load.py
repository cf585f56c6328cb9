"""The transparency pages under load: a ledger of N entries (default 1,000,000), the portal under
gunicorn, 50 concurrent clients on the dashboard, block and entry pages and the inclusion proof API;
p50/p95/p99 and throughput of each, with a static file served by the same server in the same run as
the baseline. Goal: p95 <= 100 ms.

    cd bench && ../.venv/bin/python dashboard_load.py [N] [--port 18150] [--seconds 15] [--clients 50] [--workers 2]
"""
import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from common import ROOT, insert_entries, setup


def percentile(ordered, p):
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1e3


def load(base: str, paths, clients: int, seconds: float):
    """`clients` threads, each requesting random paths of `paths` back to back for `seconds`."""
    times, errors = [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    host, port = base.removeprefix("http://").split(":")

    def client(seed):
        rng = random.Random(seed)
        mine, bad = [], []
        connection = http.client.HTTPConnection(host, int(port), timeout=30)  # kept alive (gthread)
        while time.perf_counter() < deadline:
            path = rng.choice(paths)
            start = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if response.will_close:
                    connection.close()
            except (http.client.HTTPException, OSError) as exc:
                ok, path = False, f"{path}: {exc}"
                connection.close()
            mine.append(time.perf_counter() - start)
            if not ok:
                bad.append(path)
        connection.close()
        with lock:
            times.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(times)
    return {"n": len(times), "rps": len(times) / elapsed, "p50": percentile(ordered, 0.50),
            "p95": percentile(ordered, 0.95), "p99": percentile(ordered, 0.99),
            "mean": statistics.mean(ordered) * 1e3, "errors": errors}


def wait_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("entries", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=18150)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    tmp = setup("dashboard", settings_module="dashboard_settings")
    from django.conf import settings

    from ledger.models import Block
    from ledger.services import ledger_seal_all

    started = time.perf_counter()
    insert_entries(args.entries)
    ledger_seal_all(max_entries=50_000)
    print(f"# built and sealed {args.entries} entries in {time.perf_counter() - started:.0f}s")
    heights = Block.objects.count()
    size = Block.objects.order_by("-height").values_list("tree_size", flat=True).first()

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard_settings",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
           "PORTAL_SIGNING_KEY_FILE": str(settings.PORTAL_SIGNING_KEY_FILE),
           "PORTAL_PSEUDONYM_KEY_FILE": str(settings.PORTAL_PSEUDONYM_KEY_FILE),
           "PORTAL_DATA_KEYS_FILE": str(settings.PORTAL_DATA_KEYS_FILE),
           "PORTAL_COMMITMENT_KEY_FILE": str(settings.PORTAL_COMMITMENT_KEY_FILE),
           "PORTAL_HIGH_WATER_FILE": str(settings.PORTAL_HIGH_WATER_FILE)}
    log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{args.port}", "-w", str(args.workers),
         "--worker-class", "gthread", "--threads", "4", "--backlog", "512"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_up(base + "/static/favicon.svg", server)
        rng = random.Random(7)
        phases = [
            ("static file (baseline)", ["/static/favicon.svg"]),
            ("dashboard", ["/transparency/"]),
            ("block page", [f"/transparency/block/{rng.randrange(heights)}/" for _ in range(500)]),
            ("entry page", [f"/transparency/entry/{rng.randrange(size)}/" for _ in range(2000)]),
            ("inclusion proof API", [f"/api/ledger/proofs/inclusion?index={rng.randrange(size)}&size={size}"
                                     for _ in range(2000)]),
            ("latest (polled by the dashboard)", ["/api/transparency/latest"]),
            ("stats (charts)", ["/api/ledger/stats"]),
        ]
        for _label, paths in phases:  # warm every worker's imports, templates and connections
            load(base, paths, 4, 1)
        print(f"# gunicorn gthread, {args.workers} workers x 4 threads; {args.clients} clients, {args.seconds:.0f}s "
              f"per phase; tree size {size}, {heights} blocks")
        print(f"{'':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
        results = {}
        for label, paths in phases:
            r = load(base, paths, args.clients, args.seconds)
            results[label] = r
            print(f"{label:34} {r['rps']:8.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} {len(r['errors']):7}")
            for error in r["errors"][:3]:
                print(f"#   {error}")
        base_p95 = results["static file (baseline)"]["p95"]
        worst = max((r["p95"], label) for label, r in results.items() if "baseline" not in label)
        print(f"dashboard load at {size} entries: worst p95 {worst[0]:.0f} ms ({worst[1]}), "
              f"{worst[0] / base_p95:.1f}x the static file's {base_p95:.0f} ms (goal p95 <= 100 ms)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
