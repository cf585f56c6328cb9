"""Many writers at once: WRITERS processes each doing create + update transactions on a ledgered
model for SECONDS, while a sealer seals every 2 s; against the same workload on the unledgered twin
in the same run. Prints throughput, the largest unsealed backlog seen, and that the log verifies.
Usage: concurrent_writers.py [SECONDS] [WRITERS]; goal >= 0.75x of the unledgered throughput.
Meant for PostgreSQL (DATABASE_URL); on SQLite the writers take turns at the one write lock."""
import multiprocessing
import sys
import time

from common import setup

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20
WRITERS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
SEAL_EVERY = 2.0


def writer(model_label: str, seconds: float, counter) -> None:
    import datetime as dt

    from django.apps import apps
    from django.db import connections, transaction

    connections.close_all()  # the parent's connection is not this process's
    model = apps.get_model(model_label)
    today = dt.date(2026, 12, 2)
    done, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        with transaction.atomic():
            obj = model.objects.create(name=f"w {done}", number=f"N{done:08d}", status="valid",
                                       valid_from=today, valid_until=today + dt.timedelta(days=365), count=done)
        with transaction.atomic():
            obj.status, obj.count = "suspended", obj.count + 1
            obj.save()
        done += 2
    with counter.get_lock():
        counter.value += done


def run(model_label: str, seal: bool) -> tuple[float, int]:
    """Operations per second of all writers together, and the largest unsealed backlog."""
    from django.db import connections

    from ledger.models import Entry
    from ledger.services import ledger_seal_all

    connections.close_all()
    counter = multiprocessing.Value("q", 0)
    workers = [multiprocessing.Process(target=writer, args=(model_label, SECONDS, counter)) for _ in range(WRITERS)]
    start = time.monotonic()
    for process in workers:
        process.start()
    backlog = 0
    while any(process.is_alive() for process in workers):
        time.sleep(SEAL_EVERY)
        if seal:
            backlog = max(backlog, Entry.objects.filter(leaf__isnull=True).count())
            ledger_seal_all()
    for process in workers:
        process.join()
    elapsed = time.monotonic() - start
    return counter.value / elapsed, backlog


def main():
    multiprocessing.set_start_method("fork")  # the writers inherit the bench's settings and keys
    setup("writers")
    import io

    from django.core.management import call_command
    from django.db import connection

    from ledger.services import ledger_seal_all

    ledger_seal_all()
    plain, _ = run("ledgerapp.BenchPlain", seal=False)
    ledgered, backlog = run("ledgerapp.BenchLedgered", seal=True)
    ledger_seal_all()
    out = io.StringIO()
    call_command("verify_ledger", "--offline", stdout=out, stderr=io.StringIO())
    verdict = "verifies" if "no findings" in out.getvalue() else "DOES NOT VERIFY:\n" + out.getvalue()
    print(f"# {WRITERS} writers for {SECONDS:.0f} s each run, sealing every {SEAL_EVERY:.0f} s, {connection.vendor}")
    print(f"unledgered twin: {plain:8.0f} operations/s")
    print(f"ledgered:        {ledgered:8.0f} operations/s, unsealed backlog at most {backlog} entries")
    print(f"the log afterwards: {verdict}")
    print(f"concurrent writers: {ledgered / plain:.2f}x the unledgered throughput (goal >= 0.75x)")


if __name__ == "__main__":
    main()
