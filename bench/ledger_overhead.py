"""Create + update of a ledgered model against the same model unledgered, one transaction per
operation. Prints the ratio (ledgered / plain); goal <= 1.25x. Set DATABASE_URL for PostgreSQL."""
import datetime as dt
import sys

from common import median, setup, timed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROUNDS = 5


def workload(model, n):
    from django.db import transaction

    today = dt.date(2026, 11, 27)
    for i in range(n):
        with transaction.atomic():
            obj = model.objects.create(
                name=f"name {i}", number=f"N{i:08d}", status="valid",
                valid_from=today, valid_until=today + dt.timedelta(days=365), count=i,
            )
        with transaction.atomic():
            obj.status = "suspended"
            obj.count += 1
            obj.save()


def main():
    setup("overhead")
    from tests.ledgerapp.models import BenchLedgered, BenchPlain

    workload(BenchPlain, 200)  # warm up both paths
    workload(BenchLedgered, 200)
    plain, ledgered = [], []
    for _ in range(ROUNDS):  # interleaved, so drift hits both alike
        plain.append(timed(workload, BenchPlain, N))
        ledgered.append(timed(workload, BenchLedgered, N))
    p, q = median(plain), median(ledgered)
    print(f"plain:    {2 * N / p:9.0f} ops/s ({p / (2 * N) * 1e6:6.1f} us per op)")
    print(f"ledgered: {2 * N / q:9.0f} ops/s ({q / (2 * N) * 1e6:6.1f} us per op)")
    print(f"ledger overhead: {q / p:.2f}x (goal <= 1.25x)")


if __name__ == "__main__":
    main()
