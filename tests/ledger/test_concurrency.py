"""Several writer processes and two sealers at once: no fork, no skipped or repeated entry;
a late-committing transaction is sealed later, never lost; kill -9 at any point loses nothing."""
import random
import signal
import threading
import time

import pytest
from django.db import connection, connections, transaction

from ledger import services
from ledger.actor import acting_as, system_actor
from ledger.models import Block, Entry
from ledger.verification import verify_ledger
from tests.ledgerapp.models import Record
from tests.processes import finish, start

pytestmark = pytest.mark.django_db(transaction=True)


def assert_ledger_whole():
    indexes = list(Entry.objects.order_by("leaf_index").values_list("leaf_index", flat=True))
    assert indexes == list(range(len(indexes))), "every entry sealed once, at consecutive indexes"
    heights = list(Block.objects.order_by("height").values_list("height", "first_index", "count"))
    position = 0
    for expected_height, (height, first, count) in enumerate(heights):
        assert (height, first) == (expected_height, position)
        position += count
    assert position == len(indexes)
    assert verify_ledger() == []


def test_writers_and_two_sealers_at_once(tmp_path):
    stop = tmp_path / "stop"
    sealers = [start("-m", "tests.ledger.actions", "seal-until", str(stop)) for _ in range(2)]
    writers = [start("-m", "tests.ledger.actions", "write", "60", f"w{n}") for n in range(4)]
    for writer in writers:
        finish(writer, timeout=300)
    stop.touch()
    blocks = [int(finish(sealer, timeout=300)) for sealer in sealers]
    assert Record.objects.count() == 240
    assert Entry.objects.count() == 240 + 80 + 1  # creates, every third record updated, the key
    assert sum(blocks) == Block.objects.count(), blocks  # each block written by one of the two
    assert_ledger_whole()


@pytest.mark.skipif("connection.vendor == 'sqlite'", reason="SQLite serialises writers: no late commits")
def test_an_entry_committing_late_is_sealed_in_a_later_block():
    opened, release = threading.Event(), threading.Event()

    def slow_writer():
        with acting_as(system_actor("slow")), transaction.atomic():
            Record.objects.create(title="late")
            opened.set()
            release.wait(30)
        connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert opened.wait(30)
    Record.objects.create(title="early")  # a higher id, committed first
    services.ledger_seal()
    late_ref = None
    assert not Record.objects.filter(title="late").exists()  # not visible yet
    release.set()
    thread.join(30)
    late_ref = Record.objects.get(title="late").public_ref
    early = Entry.objects.get(ref=Record.objects.get(title="early").public_ref)
    late = Entry.objects.get(ref=late_ref)
    assert late.id < early.id and late.leaf_index is None and early.leaf_index is not None
    services.ledger_seal()
    late.refresh_from_db()
    assert late.leaf_index > early.leaf_index
    assert_ledger_whole()


def test_sealer_killed_at_any_point_loses_and_repeats_nothing():
    with acting_as(system_actor("test")):
        Record.objects.bulk_create([Record(title=f"k{i}", amount=i) for i in range(6000)])
    rng = random.Random(20261127)
    for _ in range(6):
        sealer = start("-m", "tests.ledger.actions", "seal", BATCH="400")
        time.sleep(rng.uniform(0.5, 2.0))
        sealer.send_signal(signal.SIGKILL)
        sealer.communicate()
    services.ledger_seal_all()
    assert Entry.objects.filter(leaf_index__isnull=True).count() == 0
    assert_ledger_whole()
    connection.close()
