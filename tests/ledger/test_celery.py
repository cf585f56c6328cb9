"""A real Celery worker with beat, on the configured broker, seals entries by itself."""
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from ledger.models import Block, Entry
from tests.ledgerapp.models import Record
from tests.processes import process_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-B", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--schedule", str(tmp_path / "beat-schedule")],
        cwd=settings.BASE_DIR, env=process_env(LEDGER_SEAL_INTERVAL="0.5"),
        stdout=open(tmp_path / "worker.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_beat_and_worker_seal_new_entries(worker, tmp_path):
    for i in range(5):
        Record.objects.create(title=f"r{i}")
    sealed = wait_for(lambda: not Entry.objects.filter(leaf__isnull=True).exists(), timeout=90)
    log = (tmp_path / "worker.log").read_text()
    assert sealed, log[-3000:]
    assert Block.objects.exists()


def test_the_worker_logs_one_line_per_block_and_nothing_for_runs_with_nothing_to_seal(worker, tmp_path):
    Record.objects.create(title="one")
    assert wait_for(lambda: Block.objects.exists(), timeout=90), (tmp_path / "worker.log").read_text()[-3000:]
    heights = set(Block.objects.values_list("height", flat=True))
    log_file = tmp_path / "worker.log"
    # Beat goes on sealing every 0.5 s with nothing left: those runs must not add a line.
    time.sleep(3)
    log = log_file.read_text()
    sealed_lines = [line for line in log.splitlines() if "sealed block" in line]
    assert sorted(int(line.split("sealed block ")[1].split(":")[0]) for line in sealed_lines) == sorted(heights)
    assert "Task ledger.tasks.seal" not in log  # Celery's received/succeeded lines for routine runs
    assert "Sending due task" not in log
