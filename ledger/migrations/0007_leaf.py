"""Leaf indexes move out of the entry rows into their own table, so that sealing appends small rows
instead of rewriting every entry; the sealer finds unsealed entries above a watermark; and on
PostgreSQL every insert into the entry table takes the writers' shared advisory lock, which the
sealer takes exclusively for a moment to learn which entries are committed (ledger.services)."""
import django.db.models.deletion
from django.db import migrations, models

WRITERS_LOCK = 0x6C656467  # ledger.services.WRITERS_LOCK

WRITER_TRIGGER = f"""
CREATE FUNCTION ledger_entry_writer_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({WRITERS_LOCK});
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entry_writer_lock BEFORE INSERT ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_writer_lock();
"""
DROP_WRITER_TRIGGER = """
DROP TRIGGER ledger_entry_writer_lock ON ledger_entry;
DROP FUNCTION ledger_entry_writer_lock();
"""


def move_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("INSERT INTO ledger_leaf (leaf_index, entry_id) "
                       "SELECT leaf_index, id FROM ledger_entry WHERE leaf_index IS NOT NULL")
        cursor.execute("UPDATE ledger_state SET sealed_id = coalesce("
                       "(SELECT min(id) - 1 FROM ledger_entry WHERE leaf_index IS NULL), "
                       "(SELECT max(id) FROM ledger_entry), 0)")
        if schema_editor.connection.vendor == "postgresql":  # the entry table is altered next
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def move_indexes_back(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET leaf_index = (SELECT leaf_index FROM ledger_leaf "
                       "WHERE ledger_leaf.entry_id = ledger_entry.id)")


def writer_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(WRITER_TRIGGER)


def drop_writer_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_WRITER_TRIGGER)


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0006_tiles_mirror'),
    ]

    operations = [
        migrations.CreateModel(
            name='Leaf',
            fields=[
                ('leaf_index', models.BigIntegerField(primary_key=True, serialize=False)),
                ('entry', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='leaf', to='ledger.entry')),
            ],
            options={
                'verbose_name': 'ledger leaf',
                'db_table': 'ledger_leaf',
            },
        ),
        migrations.AddField(
            model_name='ledgerstate',
            name='sealed_id',
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(move_indexes, move_indexes_back),
        migrations.RemoveField(
            model_name='entry',
            name='leaf_index',
        ),
        migrations.RunPython(writer_trigger, drop_writer_trigger),
    ]
