"""Load on a portal under gunicorn from client threads on loopback, shared by the HTTP benchmarks:
start gunicorn with the bench's settings and keys, wait for it, and measure req/s and p50/p95/p99."""
import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

from common import ROOT


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


def arguments(*, port: int, seconds: float, workers: int) -> argparse.ArgumentParser:
    """The options every HTTP benchmark takes: ledger size, port, seconds a phase, clients, workers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("entries", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=workers)
    return parser


@contextmanager
def gunicorn(port: int, workers: int, log_path, settings_module: str, **extra_env):
    """The portal under gunicorn (gthread, 4 threads a worker) with the bench's key files; yields its
    base URL once a static file answers; stops it afterwards."""
    from django.conf import settings

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
           "PORTAL_SIGNING_KEY_FILE": str(settings.PORTAL_SIGNING_KEY_FILE),
           "PORTAL_PSEUDONYM_KEY_FILE": str(settings.PORTAL_PSEUDONYM_KEY_FILE),
           "PORTAL_DATA_KEYS_FILE": str(settings.PORTAL_DATA_KEYS_FILE),
           "PORTAL_COMMITMENT_KEY_FILE": str(settings.PORTAL_COMMITMENT_KEY_FILE),
           "PORTAL_HIGH_WATER_FILE": str(settings.PORTAL_HIGH_WATER_FILE), **extra_env}
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
             "--worker-class", "gthread", "--threads", "4", "--backlog", "512"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base + "/static/favicon.svg", server)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def run_phases(base: str, phases, clients: int, seconds: float) -> dict:
    """Warms every path, then loads each phase in turn; prints a row each and returns the results."""
    for _label, paths in phases:  # warm every worker's imports, templates and connections
        load(base, paths, 4, 1)
    print(f"{'':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    results = {}
    for label, paths in phases:
        r = load(base, paths, clients, seconds)
        results[label] = r
        print(f"{label:34} {r['rps']:8.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} {len(r['errors']):7}")
        for error in r["errors"][:3]:
            print(f"#   {error}")
    return results
