"""Reads under load: the portal under gunicorn (4 workers) and 50 concurrent clients on loopback,
on the proof API, an entry, the checkpoint, a parcel's page and the parcel search, first reading
the primary only, then (PostgreSQL) with a streaming replica as DATABASE_REPLICA_URL; each against a
static file served by the same server in the same run.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/x ../.venv/bin/python read_load.py \
        [ENTRIES] [--parcels 2000] [--seconds 10] [--clients 50] [--workers 4] [--port 18170]

Goals, as ratios to the static file: the proof API, an entry and the checkpoint at >= 50 % of its
throughput with p95 <= 2x its p95; a parcel page and the parcel search at >= 20 % with p95 <= 5x."""
import random
import sys
import time

from common import ROOT, insert_entries, setup
from httpload import arguments, gunicorn, run_phases
from import_throughput import office_and_clerks, write_file

GOALS = {"proof API": (0.5, 2), "entry": (0.5, 2), "checkpoint": (0.5, 2), "parcel page": (0.2, 5),
         "parcel search": (0.2, 5)}


def phases(size: int, parcels: list[tuple[str, str]]):
    rng = random.Random(7)
    return [
        ("static file (baseline)", ["/static/favicon.svg"]),
        # The cheapest page Django renders here (the search form, base template, no query): the
        # floor of any page, to read the parcel page's and search's figures against.
        ("bare page (floor)", ["/land/"]),
        ("proof API", [f"/api/ledger/proofs/inclusion?index={rng.randrange(size)}&size={size}" for _ in range(2000)]),
        ("entry", [f"/api/ledger/entries/{rng.randrange(size)}" for _ in range(2000)]),
        ("checkpoint", ["/ledger/checkpoint"]),
        ("parcel page", [f"/land/parcels/{ref}/" for ref, _number in rng.sample(parcels, min(500, len(parcels)))]),
        ("parcel search", [f"/land/?q={number[:-1]}" for _ref, number in rng.sample(parcels, min(500, len(parcels)))]),
    ]


def verdicts(results) -> str:
    static = results["static file (baseline)"]
    parts = []
    for label, (share, slower) in GOALS.items():
        r = results[label]
        met = r["rps"] >= share * static["rps"] and r["p95"] <= slower * static["p95"]
        parts.append(f"{label} {r['rps'] / static['rps']:.0%}/{r['p95'] / static['p95']:.1f}x"
                     f"{'' if met else ' (goal not met)'}")
    floor = results["bare page (floor)"]
    parts.append(f"bare page {floor['rps'] / static['rps']:.0%}/{floor['p95'] / static['p95']:.1f}x")
    return "; ".join(parts)


def wait_for_replica(url: str, size: int, timeout: float = 300) -> None:
    import psycopg

    deadline = time.time() + timeout
    with psycopg.connect(url, autocommit=True) as replica:
        while time.time() < deadline:
            if replica.execute("SELECT coalesce(max(tree_size), 0) FROM ledger_block").fetchone()[0] >= size:
                return
            time.sleep(0.5)
    raise RuntimeError(f"the replica did not reach tree size {size} in {timeout:.0f}s")


def main():
    parser = arguments(port=18170, seconds=10, workers=4)
    parser.add_argument("--parcels", type=int, default=2000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    tmp = setup("reads", settings_module="dashboard_settings")
    from django.db import connection

    from land_registry.importer import import_register
    from land_registry.models import Parcel
    from ledger.services import ledger_seal_all

    started = time.perf_counter()
    insert_entries(args.entries)
    _office, clerk, checker = office_and_clerks()
    write_file(tmp / "register.jsonl", args.parcels)
    import_register(tmp / "register.jsonl", clerk=clerk, checker=checker)
    size = ledger_seal_all(max_entries=50_000)[-1].tree_size
    parcels = list(Parcel.objects.values_list("public_ref", "number"))
    print(f"# {size} entries and {len(parcels)} parcels, built and sealed in {time.perf_counter() - started:.0f}s; "
          f"gunicorn gthread, {args.workers} workers x 4 threads; {args.clients} clients, {args.seconds:.0f}s a phase")
    runs = {}
    with gunicorn(args.port, args.workers, tmp / "gunicorn.log", "dashboard_settings") as base:
        print("# the primary only")
        runs["primary"] = run_phases(base, phases(size, parcels), args.clients, args.seconds)
    if connection.vendor == "postgresql":
        from tests.pgreplica import streaming_replica

        connection.close()
        with streaming_replica(connection.settings_dict) as port:
            replica = f"postgres://postgres@127.0.0.1:{port}/{connection.settings_dict['NAME']}"
            wait_for_replica(replica, size)
            with gunicorn(args.port, args.workers, tmp / "gunicorn-replica.log", "dashboard_settings",
                          DATABASE_REPLICA_URL=replica) as base:
                print("# anonymous reads from the streaming replica")
                runs["replica"] = run_phases(base, phases(size, parcels), args.clients, args.seconds)
    print("read load (throughput share / p95 ratio to the static file): "
          + " | ".join(f"{name}: {verdicts(results)}" for name, results in runs.items()))


if __name__ == "__main__":
    main()
