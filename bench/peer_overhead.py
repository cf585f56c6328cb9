"""The same create + update workload (one transaction per operation) on the plain model, our
ledgered model, a django-simple-history model, a django-auditlog model and, on PostgreSQL, a
django-pghistory model, interleaved in rounds; prints each one's ratio to plain.
Goal for ours: SQLite <= 1.5x, PostgreSQL <= 1.2x. Set DATABASE_URL for PostgreSQL."""
import sys

from common import median, setup, timed
from ledger_overhead import workload

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROUNDS = 7


def main():
    setup("peers", settings_module="bench.peer_settings")
    from django.apps import apps
    from django.db import connection

    from tests.ledgerapp.models import BenchLedgered, BenchPlain

    peer = apps.get_app_config("peerapp")
    with connection.schema_editor() as editor:  # a bench-only app: its tables without migrations
        for model in peer.get_models():
            editor.create_model(model)
    if connection.vendor == "postgresql":
        from django.core.management import call_command

        call_command("pgtrigger", "install")
    variants = {"plain": BenchPlain, "gongxin ledger": BenchLedgered,
                "django-simple-history": peer.get_model("BenchSimpleHistory"),
                "django-auditlog": peer.get_model("BenchAuditlog")}
    if connection.vendor == "postgresql":
        variants["django-pghistory (trigger)"] = peer.get_model("BenchPgHistory")
    for model in variants.values():  # warm up every path
        workload(model, 200)
    times = {name: [] for name in variants}
    for _ in range(ROUNDS):  # interleaved, so drift hits all alike
        for name, model in variants.items():
            times[name].append(timed(workload, model, N))
    plain = median(times["plain"])
    for name in variants:
        t = median(times[name])
        print(f"{name:28} {t / (2 * N) * 1e6:7.1f} us per op  {t / plain:5.2f}x")
    goal = "1.2x" if connection.vendor == "postgresql" else "1.5x"
    print(f"ledger overhead: {median(times['gongxin ledger']) / plain:.2f}x on {connection.vendor} "
          f"(goal <= {goal}); simple-history {median(times['django-simple-history']) / plain:.2f}x, "
          f"auditlog {median(times['django-auditlog']) / plain:.2f}x")


if __name__ == "__main__":
    main()
