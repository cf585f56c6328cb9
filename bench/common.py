"""Shared set-up of the benchmarks: a fresh database (SQLite in a temp dir, or DATABASE_URL
with a `bench_` database), fresh keys, Django ready, an actor set. Results print as ratios."""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(label: str, settings_module: str = "tests.settings", keep: Path | None = None) -> Path:
    """`keep`: a directory that holds the keys, the SQLite file and a `filled` marker across runs;
    when the marker is there, the database and keys are reused as they are (a long fill, once)."""
    tmp = keep or Path(tempfile.mkdtemp(prefix=f"gongxin-bench-{label}-"))
    reuse = keep is not None and (keep / "filled").exists()
    tmp.mkdir(parents=True, exist_ok=True)
    if keep is not None and not reuse:  # a kept fill that did not finish: start it again
        for name in ("signing.key", "pseudonym.key", "data.keys", "commitment.key", "high-water", "bench.sqlite3"):
            (tmp / name).unlink(missing_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ["PORTAL_VAR_DIR"] = str(tmp)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        base, _, _name = url.rpartition("/")
        os.environ["DATABASE_URL"] = f"{base}/bench_{label}"
        if not reuse:
            _recreate_postgres(base, f"bench_{label}")
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from ledger import keys
    from ledger.actor import push_actor, system_actor
    from portal import crypto

    settings.PORTAL_SIGNING_KEY_FILE = tmp / "signing.key"
    settings.PORTAL_PSEUDONYM_KEY_FILE = tmp / "pseudonym.key"
    settings.PORTAL_DATA_KEYS_FILE = tmp / "data.keys"
    settings.PORTAL_COMMITMENT_KEY_FILE = tmp / "commitment.key"
    settings.PORTAL_HIGH_WATER_FILE = tmp / "high-water"
    if not reuse:
        keys.create_signing_key(settings.PORTAL_SIGNING_KEY_FILE, settings.PORTAL_ORIGIN)
        keys.create_pseudonym_key(settings.PORTAL_PSEUDONYM_KEY_FILE)
        crypto.create_data_keys(settings.PORTAL_DATA_KEYS_FILE)
        keys.create_commitment_key(settings.PORTAL_COMMITMENT_KEY_FILE)
    call_command("migrate", verbosity=0)
    push_actor(system_actor(f"bench:{label}"))
    from django.db import connection

    print(f"# database: {connection.vendor}; python {sys.version.split()[0]}")
    return tmp


def _recreate_postgres(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def median(values):
    return statistics.median(values)


def insert_entries(n: int, chunk: int = 20_000) -> None:
    """Writes `n` realistic, unsealed entries straight to the entry table (fast set-up only)."""
    import datetime as dt

    from django.db import connection, transaction

    from ledger.models import new_public_ref
    from ledger.recorder import ENTRY_TABLE
    from ledger.tlog.canonical import canonical_json
    from ledger.tlog.commitment import field_digest, new_salt
    from ledger.tlog.merkle import leaf_hash

    state = {name: field_digest(new_salt(), name, name) for name in ("holder", "number", "status", "valid")}
    now = dt.datetime.now(dt.UTC)
    sql = (f"INSERT INTO {ENTRY_TABLE} (data, leaf_hash, salt_seed, kind, ref, created) "
           "VALUES (%s, %s, %s, %s, %s, %s)")
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            ref = new_public_ref()
            data = canonical_json({
                "v": 1, "time": f"2026-11-27T00:00:00.{i % 1000000:06d}Z", "origin": "bench", "kind": "bench.record",
                "ref": ref, "op": "create", "changed": sorted(state), "state": state, "public": {"status": "valid"},
                "actor": {"id": "bench", "office": "", "role": "system"}, "action": "",
            })
            rows.append((data, leaf_hash(data), b"\0" * 16, "bench.record", ref, now))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3


def sample(function, args_list):
    times = []
    for args in args_list:
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return percentiles(times)
