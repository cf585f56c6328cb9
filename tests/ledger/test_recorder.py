"""Every ORM path that changes a ledgered record writes one entry per changed record, or refuses."""
import datetime as dt
import json
import tempfile
from contextlib import contextmanager

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from ledger.actor import NoActorError, acting_as, ledger_action
from ledger.models import Entry, LedgerRefusal
from ledger.recorder import LedgerError, field_salt, ledger_value, salt_key
from ledger.tlog.commitment import field_digest
from ledger.tlog.merkle import leaf_hash
from tests.ledgerapp.models import BenchLedgered, BenchPlain, Child, Office, Record, Tag

pytestmark = pytest.mark.django_db


def entries_of(obj):
    return [json.loads(bytes(e.data)) for e in Entry.objects.filter(ref=obj.public_ref).order_by("id")]


def last_entry(obj):
    return entries_of(obj)[-1]


def test_create_writes_one_entry_with_commitment_and_public_fields():
    record = Record.objects.create(title="Parcel 7", secret="王小明 110101199003076544", amount=5)
    [entry] = entries_of(record)
    assert entry["v"] == 1 and entry["op"] == "create"
    assert entry["kind"] == "ledgerapp.record" and entry["ref"] == record.public_ref
    assert entry["changed"] == ["amount", "office", "secret", "tags", "title"]
    assert entry["public"] == {"title": "Parcel 7"}
    assert set(entry["state"]) == {"title", "secret", "amount", "office", "tags"}
    assert entry["actor"] == {"id": "test", "office": "", "role": "system"}
    row = Entry.objects.get(ref=record.public_ref)
    assert bytes(row.leaf_hash) == leaf_hash(bytes(row.data))
    assert "王小明" not in bytes(row.data).decode() and "110101" not in bytes(row.data).decode()
    # The commitment opens with the private salt: selective disclosure of one field.
    salt = field_salt(salt_key(bytes(row.salt_seed), row.pk), "secret")
    assert entry["state"]["secret"] == field_digest(salt, "secret", "王小明 110101199003076544")


def test_save_records_only_changed_fields_and_skips_unledgered_changes():
    record = Record.objects.create(title="a", amount=1)
    record.amount = 2
    record.save()
    assert last_entry(record)["changed"] == ["amount"]
    record.note = "not ledgered"
    record.save()
    assert len(entries_of(record)) == 2
    loaded = Record.objects.get(pk=record.pk)
    loaded.title = "b"
    loaded.save(update_fields=["title"])
    assert last_entry(record)["changed"] == ["title"] and last_entry(record)["public"]["title"] == "b"


def test_delete_and_queryset_delete_and_cascade_each_write_an_entry():
    record = Record.objects.create(title="parent")
    child = Child.objects.create(record=record, label="c")
    other = Record.objects.create(title="other")
    record.delete()
    assert last_entry(record)["op"] == "delete" and last_entry(record)["state"] == {}
    assert last_entry(child)["op"] == "delete"  # cascaded
    Record.objects.filter(pk=other.pk).delete()
    assert last_entry(other)["op"] == "delete"


def test_queryset_update_writes_one_entry_per_changed_record():
    a, b, c = (Record.objects.create(title=t, amount=1) for t in "abc")
    count = Record.objects.filter(title__in=["a", "b"]).update(amount=7)
    assert count == 2
    assert last_entry(a)["changed"] == ["amount"] and last_entry(b)["changed"] == ["amount"]
    assert len(entries_of(c)) == 1
    # The commitment is to the state after the update.
    row = Entry.objects.filter(ref=a.public_ref).order_by("-id").first()
    salt = field_salt(salt_key(bytes(row.salt_seed), row.pk), "amount")
    assert last_entry(a)["state"]["amount"] == field_digest(salt, "amount", 7)
    Record.objects.filter(pk=c.pk).update(note="not ledgered")
    assert len(entries_of(c)) == 1


def test_bulk_create_and_bulk_update():
    made = Record.objects.bulk_create([Record(title=f"r{i}") for i in range(3)])
    assert all(entries_of(r)[0]["op"] == "create" for r in made)
    for r in made:
        r.amount = 9
    Record.objects.bulk_update(made, ["amount"])
    assert all(last_entry(r)["changed"] == ["amount"] for r in made)


def test_bulk_create_with_conflict_handling_refuses_and_names_the_alternative():
    with pytest.raises(LedgerRefusal, match="update_or_create"):
        Record.objects.bulk_create([Record(title="x")], ignore_conflicts=True)
    assert not Record.objects.exists()


def test_many_to_many_changes_both_directions():
    record = Record.objects.create(title="m2m")
    tag1, tag2 = Tag.objects.create(name="t1"), Tag.objects.create(name="t2")
    record.tags.add(tag1)
    assert last_entry(record)["changed"] == ["tags"]
    tag2.records.add(record)  # reverse side
    assert len(entries_of(record)) == 3
    record.tags.clear()
    assert len(entries_of(record)) == 4
    tag1.records.add(record)
    tag1.records.clear()  # reverse clear
    assert len(entries_of(record)) == 6
    assert ledger_value(record, "tags") == []


def test_bulk_link_adds_the_links_and_records_each_record_once_with_all_its_links():
    records = Record.objects.bulk_create([Record(title=f"r{i}") for i in range(3)])
    tags = [Tag.objects.create(name=f"t{i}") for i in range(2)]
    Record.objects.bulk_link("tags", [(records[0], tags[0]), (records[0], tags[1]), (records[1], tags[1])])
    assert sorted(records[0].tags.values_list("pk", flat=True)) == [tags[0].pk, tags[1].pk]
    for record, held in ((records[0], tags), (records[1], tags[1:])):
        assert [e["op"] for e in entries_of(record)] == ["create", "update"]
        row = Entry.objects.filter(ref=record.public_ref).latest("id")
        assert last_entry(record)["changed"] == ["tags"]
        assert last_entry(record)["state"]["tags"] == field_digest(
            field_salt(salt_key(bytes(row.salt_seed), row.pk), "tags"), "tags", sorted(t.pk for t in held))
    assert len(entries_of(records[2])) == 1  # no link, no entry


def test_change_and_entry_commit_together_or_not_at_all():
    Record.objects.create(title="dup")
    before = Entry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        record = Record.objects.create(title="rolled back")
        Record.objects.create(title="clash", public_ref=record.public_ref)
    assert Entry.objects.count() == before
    assert not Record.objects.filter(title="rolled back").exists()


def test_no_actor_refuses_the_change():
    with acting_as(None), pytest.raises(NoActorError), transaction.atomic():
        Record.objects.create(title="nobody")
    assert not Record.objects.filter(title="nobody").exists()


@pytest.mark.django_db(transaction=True)
def test_raw_save_base_outside_a_transaction_is_refused():
    record = Record(title="raw")
    with pytest.raises(LedgerError, match="transaction"):
        Record.save_base(record)  # the path loaddata uses, here without its transaction
    assert not Record.objects.filter(title="raw").exists()


def test_action_names_the_business_operation():
    with ledger_action("record.approve"):
        record = Record.objects.create(title="act")
    assert last_entry(record)["action"] == "record.approve"


def test_foreign_key_target_change_is_ledgered_and_public_values_hide_ids():
    office = Office.objects.create(code="X")
    record = Record.objects.create(title="fk")
    record.office = office
    record.save()
    assert last_entry(record)["changed"] == ["office"]
    assert "office" not in last_entry(record)["public"]


@contextmanager
def round_trips(connection):
    """Counts the server's replies (ReadyForQuery) while the block runs: one per round trip."""
    with tempfile.TemporaryFile() as trace:
        pgconn = connection.connection.pgconn
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        counted = []
        try:
            yield counted
        finally:
            pgconn.untrace()
            trace.seek(0)
            counted.append(sum(line.startswith(b"B\t") and b"\tReadyForQuery" in line for line in trace))


def create_then_update(model):
    with transaction.atomic():
        obj = model.objects.create(name="n", number="N1", status="valid", valid_from=dt.date(2026, 1, 1),
                                   valid_until=dt.date(2027, 1, 1))
    with transaction.atomic():
        obj.status = "revoked"
        obj.save()
    return obj


def test_on_postgresql_the_entry_rides_in_the_records_own_statement():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no data-modifying CTEs (and no round trip to save)")
    create_then_update(BenchPlain)  # warm: the first statements of a connection look up types
    with round_trips(connection) as plain:
        create_then_update(BenchPlain)
    with round_trips(connection) as ledgered:
        obj = create_then_update(BenchLedgered)
    assert ledgered == plain
    assert [(e["op"], e["changed"]) for e in entries_of(obj)] == [
        ("create", sorted(BenchLedgered.ledger_fields)), ("update", ["status"]),
    ]
    obj.save()  # nothing changed: no entry
    assert len(entries_of(obj)) == 2


def test_saving_a_record_whose_row_vanished_records_one_create():
    record = Record.objects.create(title="gone")
    with connection.cursor() as cursor:  # the row disappears under the object (another process, raw SQL)
        cursor.execute(f"DELETE FROM {Record._meta.db_table} WHERE id = %s", [record.pk])
    record.title = "back"
    record.save()  # Django's UPDATE finds no row, so it INSERTs: a create, and no stray update
    assert [e["op"] for e in entries_of(record)] == ["create", "create"]
    assert last_entry(record)["public"]["title"] == "back"


def test_deleting_a_tag_records_a_change_of_every_record_that_held_it():
    tag, kept = Tag.objects.create(name="t"), Tag.objects.create(name="kept")
    holders = [Record.objects.create(title=f"r{i}") for i in range(2)]
    for record in holders:
        record.tags.add(tag, kept)
    bystander = Record.objects.create(title="b")
    Tag.objects.filter(pk=tag.pk).delete()
    for record in holders:
        assert last_entry(record)["changed"] == ["tags"]
        row = Entry.objects.filter(ref=record.public_ref).latest("id")
        assert last_entry(record)["state"]["tags"] == field_digest(
            field_salt(salt_key(bytes(row.salt_seed), row.pk), "tags"), "tags", [kept.pk])
    assert len(entries_of(bystander)) == 1
