"""The transparency pages under load: a ledger of N entries (default 1,000,000), the portal under
gunicorn, 50 concurrent clients on the dashboard, block and entry pages and the inclusion proof API;
p50/p95/p99 and throughput of each, with a static file served by the same server in the same run as
the baseline. Goal: p95 <= 100 ms.

    cd bench && ../.venv/bin/python dashboard_load.py [N] [--port 18150] [--seconds 15] [--clients 50] [--workers 2]
"""
import random
import sys
import time

from common import ROOT, insert_entries, setup
from httpload import arguments, gunicorn, run_phases


def main():
    args = arguments(port=18150, seconds=15, workers=2).parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    tmp = setup("dashboard", settings_module="dashboard_settings")
    from ledger.models import Block
    from ledger.services import ledger_seal_all

    started = time.perf_counter()
    insert_entries(args.entries)
    ledger_seal_all(max_entries=50_000)
    print(f"# built and sealed {args.entries} entries in {time.perf_counter() - started:.0f}s")
    heights = Block.objects.count()
    size = Block.objects.order_by("-height").values_list("tree_size", flat=True).first()

    rng = random.Random(7)
    phases = [
        ("static file (baseline)", ["/static/favicon.svg"]),
        ("bare page (floor of a rendered page)", ["/land/"]),  # base template and a form, no query
        ("dashboard", ["/transparency/"]),
        ("block page", [f"/transparency/block/{rng.randrange(heights)}/" for _ in range(500)]),
        ("entry page", [f"/transparency/entry/{rng.randrange(size)}/" for _ in range(2000)]),
        ("inclusion proof API", [f"/api/ledger/proofs/inclusion?index={rng.randrange(size)}&size={size}"
                                 for _ in range(2000)]),
        ("latest (polled by the dashboard)", ["/api/transparency/latest"]),
        ("stats (charts)", ["/api/ledger/stats"]),
    ]
    with gunicorn(args.port, args.workers, tmp / "gunicorn.log", "dashboard_settings") as base:
        print(f"# gunicorn gthread, {args.workers} workers x 4 threads; {args.clients} clients, {args.seconds:.0f}s "
              f"per phase; tree size {size}, {heights} blocks")
        results = run_phases(base, phases, args.clients, args.seconds)
    base_p95 = results["static file (baseline)"]["p95"]
    worst = max((r["p95"], label) for label, r in results.items() if "baseline" not in label and "floor" not in label)
    print(f"dashboard load at {size} entries: worst p95 {worst[0]:.0f} ms ({worst[1]}), "
          f"{worst[0] / base_p95:.1f}x the static file's {base_p95:.0f} ms; a bare rendered page "
          f"{results['bare page (floor of a rendered page)']['p95']:.0f} ms (goal p95 <= 100 ms)")


if __name__ == "__main__":
    main()
