"""Create + update of a ledgered model against the same model unledgered, one transaction per
operation. Prints the ratio (ledgered / plain); goal <= 1.25x. Set DATABASE_URL for PostgreSQL."""
import datetime as dt
import sys

from common import median, setup, timed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROUNDS = 7


def workload(model, n, extra_row=None):
    from django.db import transaction

    today = dt.date(2026, 11, 27)
    for i in range(n):
        with transaction.atomic():
            obj = model.objects.create(
                name=f"name {i}", number=f"N{i:08d}", status="valid",
                valid_from=today, valid_until=today + dt.timedelta(days=365), count=i,
            )
            if extra_row:
                extra_row()
        with transaction.atomic():
            obj.status = "suspended"
            obj.count += 1
            obj.save()
            if extra_row:
                extra_row()


def bare_entry_row():
    """Inserts a ready-made entry row as a statement of its own: what that costs the database alone
    (the recorder's way on SQLite; on PostgreSQL a save's entry rides in the record's statement)."""
    import datetime as dt_

    from django.db import connection

    from ledger.models import new_public_ref
    from ledger.recorder import _INSERT, _INSERT_QMARK

    sql = _INSERT_QMARK if connection.vendor == "sqlite" else _INSERT
    data = b'{"state":"' + b"x" * 480 + b'"}'
    now = connection.ops.adapt_datetimefield_value(dt_.datetime.now(dt_.UTC))

    def insert():
        connection.connection.execute(sql, (data, b"h" * 32, b"s" * 16, "bench.floor", new_public_ref(), now))

    return insert


def main():
    setup("overhead")
    from tests.ledgerapp.models import BenchLedgered, BenchPlain

    extra = bare_entry_row()
    workload(BenchPlain, 200)  # warm up every path
    workload(BenchLedgered, 200)
    workload(BenchPlain, 200, extra)
    plain, floor, ledgered = [], [], []
    for _ in range(ROUNDS):  # interleaved, so drift hits all alike
        plain.append(timed(workload, BenchPlain, N))
        floor.append(timed(workload, BenchPlain, N, extra))
        ledgered.append(timed(workload, BenchLedgered, N))
    p, f, q = median(plain), median(floor), median(ledgered)
    print(f"plain:    {2 * N / p:9.0f} ops/s ({p / (2 * N) * 1e6:6.1f} us per op)")
    print(f"plain + a bare entry row as its own statement: {f / (2 * N) * 1e6:6.1f} us per op "
          f"({f / p:.2f}x, no Python work at all)")
    print(f"ledgered: {2 * N / q:9.0f} ops/s ({q / (2 * N) * 1e6:6.1f} us per op)")
    print(f"ledger overhead: {q / p:.2f}x (goal <= 1.25x)")


if __name__ == "__main__":
    main()
