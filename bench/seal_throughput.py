"""Entries sealed per second (block signing and checkpoints included); goal >= 20,000/s.
Baseline, same run: writing one (leaf index, entry id) row per entry with a bare executemany INSERT,
the floor of any sealer that records each entry's place."""
import sys
import time

from common import insert_entries, setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def main():
    setup("seal")
    from django.db import connection, transaction

    from ledger.services import ledger_seal_all

    insert_entries(N)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM ledger_entry ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_place (leaf_index bigint PRIMARY KEY, entry_id bigint UNIQUE)")
        cursor.executemany("INSERT INTO bench_place VALUES (%s, %s)", list(enumerate(ids)))
    floor = time.perf_counter() - start
    start = time.perf_counter()
    blocks = ledger_seal_all(max_entries=20_000)
    sealed = time.perf_counter() - start
    count = sum(b.count for b in blocks)
    print(f"entries: {count} in {len(blocks)} blocks")
    print(f"baseline (bare INSERT per entry): {count / floor:10.0f} entries/s")
    print(f"sealing: {sealed:.2f}s, {sealed / floor:.2f}x the baseline")
    print(f"seal throughput: {count / sealed:.0f} entries/s (goal >= 20,000/s)")


if __name__ == "__main__":
    main()
