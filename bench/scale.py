"""The ledger at scale: fills ENTRIES entries through the bulk path and seals them, then measures
inclusion and consistency proofs (median, p99), sealing a 10,000-entry batch on top, verify_ledger's
throughput and peak memory (in a child process), and bytes on disk per entry next to the raw entry.

    cd bench && ../.venv/bin/python scale.py --entries 10000000     # DATABASE_URL for PostgreSQL

--keep DIR keeps the filled log (keys in DIR, database bench_scale) and measures it again on the
next run with the same DIR instead of filling anew: the fill of 10 M entries takes about an hour.

Goals (as at 1 M): proof median <= 2 ms, seal >= 20,000/s, verify >= 100,000/s, verify peak <= 1 GiB."""
import argparse
import json
import multiprocessing
import os
import random
import time
from pathlib import Path

from common import insert_entries, sample, setup

BATCH = 10_000


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def _verify_child(queue) -> None:
    from ledger.verification import verify_ledger

    before = _rss_kib("VmRSS")
    start = time.perf_counter()
    findings = verify_ledger()
    queue.put((time.perf_counter() - start, len(findings), (_rss_kib("VmHWM") - before) * 1024))


def seal_rate() -> float:
    """Entries per second sealing a batch of BATCH fresh entries on top of the log."""
    from ledger.services import ledger_seal

    insert_entries(BATCH)
    start = time.perf_counter()
    ledger_seal(max_entries=BATCH)
    return BATCH / (time.perf_counter() - start)


def disk_bytes() -> int:
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(pg_total_relation_size(t)) FROM unnest(%s::regclass[]) AS t",
                           [["ledger_entry", "ledger_leaf", "ledger_treenode"]])
            return cursor.fetchone()[0]
    with connection.cursor() as cursor:  # the SQLite file holds everything; the entries are nearly all of it
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(settings.DATABASES["default"]["NAME"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the filled log here and reuse it on the next run")
    args = parser.parse_args()
    multiprocessing.set_start_method("fork")
    setup("scale", keep=args.keep)
    from django.db import connection
    from django.db.models import Avg
    from django.db.models.functions import Length

    from ledger import selectors
    from ledger.models import Block, Entry
    from ledger.services import ledger_seal_all

    marker = args.keep and args.keep / "filled"
    if marker and marker.exists():
        filled = json.loads(marker.read_text())
        first_rate = filled["empty_log_seal_rate"]
        print(f"# reusing the log filled with {filled['entries']} entries in {args.keep}; the empty log's "
              f"seal rate is that fill run's")
    else:
        first_rate = seal_rate()  # on an empty log: the baseline
        started = time.perf_counter()
        insert_entries(args.entries)
        ledger_seal_all(max_entries=50_000)
        seconds = time.perf_counter() - started
        print(f"# filled and sealed {args.entries} entries in {seconds:.0f}s ({connection.vendor})")
        if marker:
            marker.write_text(json.dumps({"entries": args.entries, "empty_log_seal_rate": first_rate}))
    sizes = list(Block.objects.order_by("tree_size").values_list("tree_size", flat=True))
    size, rng = sizes[-1], random.Random(1)
    inclusion = sample(selectors.inclusion_proof, [(rng.randrange(size), size) for _ in range(2000)])
    consistency = sample(selectors.consistency_proof, [sorted(rng.sample(sizes, 2)) for _ in range(2000)])
    top_rate = seal_rate()
    queue = multiprocessing.Queue()
    connection.close()  # before the fork: a child closing an inherited connection would end the parent's
    child = multiprocessing.Process(target=_verify_child, args=(queue,))
    child.start()
    elapsed, findings, peak = queue.get()
    child.join()
    total = Block.objects.order_by("-tree_size").values_list("tree_size", flat=True)[0]
    raw = Entry.objects.aggregate(n=Avg(Length("data")))["n"] + 32  # the entry's bytes and its leaf hash
    per_entry = disk_bytes() / total
    print(f"inclusion proof:   median {inclusion[0]:.3f} ms, p99 {inclusion[1]:.3f} ms")
    print(f"consistency proof: median {consistency[0]:.3f} ms, p99 {consistency[1]:.3f} ms")
    print(f"sealing {BATCH} more: {top_rate:.0f} entries/s; on the empty log {first_rate:.0f}/s "
          f"({top_rate / first_rate:.2f}x)")
    print(f"verify_ledger: {total / elapsed:.0f} entries/s, {findings} findings, peak memory {peak / 2**20:.0f} MiB")
    print(f"on disk: {per_entry:.0f} bytes per entry (table and indexes), raw entry {raw:.0f} bytes")
    print(f"scale at {total} entries: proof median {inclusion[0]:.2f} ms, seal {top_rate:.0f}/s "
          f"({top_rate / first_rate:.2f}x the empty log's), "
          f"verify {total / elapsed:.0f}/s, verify peak {peak / 2**20:.0f} MiB, {per_entry:.0f} B/entry")


if __name__ == "__main__":
    main()
