"""Several writer processes and two sealers at once: no fork, no skipped or repeated entry; the
sealer waits for a transaction still writing entries, so that none is skipped (and gives up after
LEDGER_SEAL_WAIT); kill -9 at any point loses nothing."""
import random
import signal
import threading
import time
from contextlib import contextmanager

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
    indexes = list(Entry.objects.order_by("leaf__leaf_index").values_list("leaf__leaf_index", flat=True))
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


@contextmanager
def transaction_left_open():
    """A thread's transaction that has written an entry and stays open until the block ends."""
    opened, release = threading.Event(), threading.Event()

    def slow_writer():
        with acting_as(system_actor("slow")), transaction.atomic():
            Record.objects.create(title="late")
            opened.set()
            release.wait(30)
        connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert opened.wait(30)
    try:
        yield
    finally:
        release.set()
        writer.join(30)


only_postgresql = pytest.mark.skipif("connection.vendor == 'sqlite'", reason="SQLite serialises writers")


@only_postgresql
def test_sealing_waits_for_an_entry_still_being_written_and_keeps_id_order():
    sealed = []

    def sealer():
        with acting_as(system_actor("sealer")):
            sealed.append(services.ledger_seal())
        connections.close_all()

    sealing = threading.Thread(target=sealer)
    with transaction_left_open():
        Record.objects.create(title="early")  # a higher id, committed first
        sealing.start()
        sealing.join(2)
        assert sealing.is_alive() and not sealed, "the sealer waits for the open transaction"
        assert not Entry.objects.filter(leaf__isnull=False).exists()
    sealing.join(30)
    late = Entry.objects.get(ref=Record.objects.get(title="late").public_ref)
    early = Entry.objects.get(ref=Record.objects.get(title="early").public_ref)
    assert late.id < early.id and late.leaf_index < early.leaf_index  # id order, no entry skipped
    assert sealed[0].count == Entry.objects.count()
    assert_ledger_whole()


@only_postgresql
def test_sealing_gives_up_on_a_transaction_left_open_and_writers_go_on(settings):
    settings.LEDGER_SEAL_WAIT = 0.3
    with transaction_left_open():
        assert services.ledger_seal() is None
        Record.objects.create(title="meanwhile")  # not held up once the sealer has given up
    assert services.ledger_seal().count == Entry.objects.count() == 3  # late, meanwhile, the key
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
    assert Entry.objects.filter(leaf__isnull=True).count() == 0
    assert_ledger_whole()
    connection.close()
