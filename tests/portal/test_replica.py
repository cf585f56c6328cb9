"""Reads spread over a real PostgreSQL streaming replica (DATABASE_REPLICA_URL, portal/db_router.py).

The replica is a second cluster made with pg_basebackup from the one the tests run on, started on a
free port for this module and stopped after. Anonymous reads are served from it; a ledger answer it
cannot give yet (replay paused, the primary sealed more) is the primary's, never a wrong one.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from ledger import selectors, services
from ledger.models import Block
from portal import db_router
from tests.ledgerapp.models import Record
from tests.pgreplica import ReplicaUnavailable, free_port, streaming_replica
from tests.processes import database_url, process_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def replica_port():
    if connection.vendor != "postgresql":
        pytest.skip("the streaming replica test needs PostgreSQL (DATABASE_URL)")
    try:
        with streaming_replica(connection.settings_dict) as port:
            yield port
    except ReplicaUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def portal(replica_port):
    """The portal as a real server process, its DATABASE_REPLICA_URL the replica of the test database."""
    primary = database_url()
    replica = f"postgres://postgres@127.0.0.1:{replica_port}/{connection.settings_dict['NAME']}"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=settings.BASE_DIR,
        env=process_env(DATABASE_URL=primary, DATABASE_REPLICA_URL=replica, DEBUG="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    assert wait_for(lambda: _answers(url), timeout=60), server.stderr.read() if server.poll() is not None else ""
    pause = psycopg.connect(replica, autocommit=True)
    yield url, pause
    pause.execute("SELECT pg_wal_replay_resume()")
    pause.close()
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/ledger/witness/key", timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def get(url: str, *, cookie: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def replica_tree_size(replica) -> int:
    return replica.execute(f"SELECT coalesce(max(tree_size), 0) FROM {Block._meta.db_table}").fetchone()[0]


def caught_up(replica, size: int, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica_tree_size(replica) == size:
            return True
        time.sleep(0.1)
    return False


def seal_records(n: int) -> int:
    for i in range(n):
        Record.objects.create(title=f"replica {i}")
    return services.ledger_seal_all()[-1].tree_size


def checkpoint_size(body: bytes) -> int:
    return int(body.decode().splitlines()[1])


def test_anonymous_reads_come_from_the_replica_and_a_lagging_replica_never_gives_a_wrong_answer(portal):
    url, replica = portal
    first = seal_records(3)
    assert caught_up(replica, first)

    # Replay paused: the primary seals more, the replica still has the first tree.
    replica.execute("SELECT pg_wal_replay_pause()")
    time.sleep(0.5)
    second = seal_records(4)
    assert replica_tree_size(replica) == first < second

    # The public checkpoint is read from the replica: the older (still signed and valid) tree head.
    assert checkpoint_size(get(url + "/ledger/checkpoint")[1]) == first
    # A visitor with a session (signed in, or signing in) reads the primary.
    assert checkpoint_size(get(url + "/ledger/checkpoint", cookie="sessionid=abc")[1]) == second

    # Proofs and entries the replica has not replayed come from the primary, the same as its own answer.
    proof, root = selectors.inclusion_proof(first, second)
    status, body = get(f"{url}/api/ledger/proofs/inclusion?index={first}&size={second}")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["proof"] == [base64.b64encode(bytes(node)).decode() for node in proof]
    assert answer["root"] == base64.b64encode(bytes(root)).decode()
    status, body = get(f"{url}/api/ledger/entries/{second - 1}")
    assert status == 200 and base64.b64decode(json.loads(body)["data"]) == bytes(selectors.entry_at(second - 1).data)
    assert get(f"{url}/api/ledger/proofs/consistency?old={first}&new={second}")[0] == 200
    # A size nobody has sealed is still refused, by the primary too.
    assert get(f"{url}/api/ledger/proofs/inclusion?index=0&size={second + 1}")[0] == 400

    # Replay resumed: the replica catches up and serves the new tree head.
    replica.execute("SELECT pg_wal_replay_resume()")
    assert caught_up(replica, second)
    assert checkpoint_size(get(url + "/ledger/checkpoint")[1]) == second


def test_without_a_replica_everything_reads_the_primary():
    assert not db_router.replica_configured()
    with db_router.replica_reads():
        assert not db_router.reading_replica()
        assert db_router.ReplicaRouter().db_for_read(Block) == "default"
