"""The ledger trusts nothing inside the database it checks.

Each test attacks as an operator with write access to the database only: raw SQL and the ORM,
the published ledger code, a key of the attacker's own, but none of the portal's key files.
"""
import base64
import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from ledger import highwater, keys, services
from ledger.models import Block, Entry, LedgerKey, LedgerState, RestoreAcknowledgement
from ledger.recorder import field_salt, state_of
from ledger.tlog import block as tblock
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle, note
from ledger.tlog.canonical import canonical_json
from tests.ledgerapp.models import Record, Tag

pytestmark = pytest.mark.django_db


def run(command, *args):
    out = StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=StringIO())
        return 0, out.getvalue()
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def ledger():
    tag = Tag.objects.create(name="t")
    records = [Record.objects.create(title=f"r{i}", secret=f"s{i}", amount=i) for i in range(4)]
    records[0].tags.add(tag)
    services.ledger_seal()
    records[1].amount = 11
    records[1].save()
    services.ledger_seal()
    return records


# -- what an attacker with the database and the published code can do ---------------------------

def forged_state(obj, seed: bytes) -> dict:
    """The commitment the attacker can make: salts from a seed of their choosing (the pre-key rule)."""
    return state_of(obj, seed)[0]


def rewrite_entry(entry: Entry, **changes) -> None:
    data = {**json.loads(bytes(entry.data)), **changes}
    raw = canonical_json(data)
    sql("UPDATE ledger_entry SET data = %s, leaf_hash = %s WHERE id = %s", [raw, merkle.leaf_hash(raw), entry.pk])


def rebuild_and_resign(signer: note.Signer) -> None:
    """Re-derives the tree nodes from the (rewritten) entries and re-signs every block and checkpoint."""
    leaves = [bytes(h) for (h,) in sql("SELECT leaf_hash FROM ledger_leaf JOIN ledger_entry ON id = entry_id "
                                       "ORDER BY leaf_index")]
    levels = merkle.tree_levels(leaves)
    sql("DELETE FROM ledger_treenode")
    for level, nodes in enumerate(levels):
        for index, node in enumerate(nodes if level else ()):
            sql("INSERT INTO ledger_treenode (id, hash) VALUES (%s, %s)", [(level << 56) | index, node])
    prev = tblock.GENESIS_PREV_HASH
    for block in Block.objects.order_by("height"):
        batch = merkle.root_hash(leaves[block.first_index:block.tree_size])
        root = merkle.root_hash(leaves[:block.tree_size])
        header = tblock.block_header(
            origin=settings.PORTAL_ORIGIN, height=block.height, first_index=block.first_index, count=block.count,
            batch_root=batch, prev_hash=prev, tree_size=block.tree_size, tree_root=root, time=block.time)
        sql("UPDATE ledger_block SET batch_root = %s, prev_hash = %s, tree_root = %s, header = %s, "
            "signature = %s, key_hash = %s WHERE height = %s",
            [batch, prev, root, header, tblock.sign_block(header, signer), f"{signer.key_hash:08x}", block.height])
        note_text = tcheckpoint.sign_checkpoint(
            tcheckpoint.Checkpoint(origin=settings.PORTAL_ORIGIN, size=block.tree_size, root_hash=root), signer)
        sql("UPDATE ledger_checkpoint SET note = %s WHERE tree_size = %s", [note_text, block.tree_size])
        prev = tblock.block_hash(header)
        sql("UPDATE ledger_state SET root = %s, block_hash = %s", [root, prev])


def test_forged_rewrite_resigned_with_the_attackers_key_is_found(ledger, tmp_path):
    genuine = keys.signer().verifier_key
    attacker_skey, attacker_vkey = note.generate_key(settings.PORTAL_ORIGIN)
    attacker = note.Signer(attacker_skey)
    victim = ledger[2]
    # Change a record, and rewrite its newest entry to commit to the new value.
    sql("UPDATE ledgerapp_record SET secret = %s WHERE id = %s", ["forged", victim.pk])
    victim.refresh_from_db()
    entry = Entry.objects.filter(ref=victim.public_ref).latest("id")
    rewrite_entry(entry, state=forged_state(victim, bytes(entry.salt_seed)))
    # Point the key row, and the entry that announced it, at the attacker's key.
    key_row = LedgerKey.objects.get()
    sql("UPDATE ledger_key SET verifier_key = %s, key_hash = %s WHERE id = %s",
        [attacker_vkey, f"{attacker.key_hash:08x}", key_row.pk])
    key_row.refresh_from_db()
    key_entry = Entry.objects.filter(ref=key_row.public_ref).latest("id")
    public = {**json.loads(bytes(key_entry.data))["public"], "verifier_key": attacker_vkey,
              "key_hash": f"{attacker.key_hash:08x}"}
    rewrite_entry(key_entry, public=public, state=forged_state(key_row, bytes(key_entry.salt_seed)))
    rebuild_and_resign(attacker)

    # The forgery is complete: trusting the database's key, the log itself verifies.
    assert run("verify_ledger", "--no-records", "--key", attacker_vkey) == (0, "The ledger verifies: no findings.\n")

    code, out = run("verify_ledger")  # trusted: the signing key file's public half
    assert code == 1
    assert f"block-signature at block 0: key {attacker.key_hash:08x} is not trusted" in out
    assert f"block-signature at block 1: key {attacker.key_hash:08x} is not trusted" in out
    assert "checkpoint-signature at checkpoint 1" in out
    # Without the commitment key, the rewritten commitment matches none of the record's fields.
    assert f"record-state at ledgerapp.record {victim.public_ref}: current values of amount, office, secret" in out
    code, out = run("verify_ledger", "--key", genuine)
    assert code == 1 and "is not trusted" in out

    export = tmp_path / "ledger.jsonl"
    code, out = run("export_ledger", str(export))
    assert code == 1 and "do not publish it" in out
    listed = out.split("Trusted verifier keys")[1].split("block-signature")[0]
    assert attacker_vkey not in listed and genuine in listed
    audit = subprocess.run([sys.executable, "-m", "ledger.tlog.audit", str(export), "--key", genuine],
                           capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert audit.returncode == 1 and "is not trusted" in audit.stdout


def test_trusted_keys_come_from_the_setting_and_key_option_only(ledger, settings, tmp_path):
    genuine = keys.signer().verifier_key
    settings.PORTAL_SIGNING_KEY_FILE = tmp_path / "absent.key"  # no key file on this machine
    code, out = run("verify_ledger")
    assert code == 1 and "No trusted verifier key" in out
    assert run("verify_ledger", "--key", genuine)[0] == 0
    settings.LEDGER_TRUSTED_KEYS = [genuine]
    assert run("verify_ledger")[0] == 0
    settings.LEDGER_TRUSTED_KEYS = ["not-a-key"]
    assert [e.id for e in checks.run_checks() if e.id == "ledger.E007"] == ["ledger.E007"]
    code, out = run("verify_ledger")
    assert code == 1 and "malformed verifier" in out.lower()
    _other_skey, other = note.generate_key(settings.PORTAL_ORIGIN)
    settings.LEDGER_TRUSTED_KEYS = [other]
    code, out = run("verify_ledger")
    assert code == 1 and "block-signature at block 0" in out


def test_rotation_is_trusted_only_through_the_announcement_signed_by_the_old_key(settings, tmp_path):
    settings.PORTAL_SIGNING_KEY_FILE = tmp_path / "signing.key"
    old = keys.create_signing_key(settings.PORTAL_SIGNING_KEY_FILE, settings.PORTAL_ORIGIN)
    Record.objects.create(title="under the old key")
    services.ledger_seal()  # the old key's own announcement: it is the key file's, so trusted
    code, out = run("rotate_signing_key")
    assert code == 0
    new = keys.signer().verifier_key
    Record.objects.create(title="under the new key")
    services.ledger_seal()
    assert run("verify_ledger") == (0, "The ledger verifies: no findings.\n")

    # An auditor given only the key the portal first published follows the announcement.
    export = tmp_path / "ledger.jsonl"
    settings.PORTAL_SIGNING_KEY_FILE = tmp_path / "absent.key"
    (tmp_path / "signing.key.retired").unlink()
    settings.LEDGER_TRUSTED_KEYS = [old]
    code, out = run("export_ledger", str(export), "--key", old)
    assert code == 0, out
    assert old in out and new in out
    audit = subprocess.run([sys.executable, "-m", "ledger.tlog.audit", str(export), "--key", old],
                           capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert audit.returncode == 0, audit.stdout + audit.stderr

    # A key that announces itself, in a block it signs, is not trusted.
    rogue_skey, rogue_vkey = note.generate_key(settings.PORTAL_ORIGIN)
    settings.PORTAL_SIGNING_KEY_FILE = tmp_path / "rogue.key"
    keys.write_secret_file(settings.PORTAL_SIGNING_KEY_FILE, rogue_skey + "\n")
    Record.objects.create(title="under the rogue key")
    services.ledger_seal()  # registers the rogue key in the very block it signs
    settings.PORTAL_SIGNING_KEY_FILE = tmp_path / "absent.key"
    code, out = run("verify_ledger", "--key", old)
    last = Block.objects.latest("height").height
    assert code == 1 and f"block-signature at block {last}: key" in out and "is not trusted" in out


def test_a_careful_rollback_is_refused_until_acknowledged(ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ledger_seal()
        Record.objects.create(title="at T")
        services.ledger_seal()
    tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t != "django_migrations"]
    snapshot = {table: sql(f"SELECT * FROM {table}") for table in tables}
    size_at_t = LedgerState.objects.get().tree_size

    with django_capture_on_commit_callbacks(execute=True):
        Record.objects.create(title="after T")
        ledger[3].delete()
        services.ledger_seal()
    signed = LedgerState.objects.get().tree_size
    assert highwater.read_mark().size == signed > size_at_t

    # Every table back as it was at T: entries, blocks, checkpoints, tree nodes, state, records.
    for table in tables:
        sql(f"DELETE FROM {table}")
    for table, rows in snapshot.items():
        for row in rows:
            sql(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(row))})", list(row))
    assert LedgerState.objects.get().tree_size == size_at_t

    Record.objects.create(title="after the restore")
    with translation.override(settings.LANGUAGE_CODE):  # the default language, whatever an earlier test left
        code, out = run("seal")
    assert code == 1
    assert f"数据库中的账本只有 {size_at_t} 条已封存条目，而本门户已签名过大小为 {signed} 的树" in out
    with translation.override("en"):
        code, out = run("seal")
    assert code == 1
    assert f"has {size_at_t} sealed entries, but this portal already signed a tree of {signed}" in out
    assert "acknowledge_restore" in out
    with pytest.raises(highwater.RestoreRefusal):
        services.ledger_seal()
    assert [e.id for e in checks.run_checks() if e.id == "ledger.E006"] == ["ledger.E006"]  # runserver, check
    assert "ledger.W006" in [e.id for e in checks.run_checks(databases=["default"])]  # migrate only warns
    with translation.override("en"):
        code, out = run("verify_ledger")
    assert code == 1 and f"high-water at {settings.PORTAL_HIGH_WATER_FILE}: The database's ledger has" in out

    with django_capture_on_commit_callbacks(execute=True):
        code, out = run("acknowledge_restore", "--reason", "database restored from the nightly backup")
    assert code == 0 and f"signed tree size {signed}, the database holds {size_at_t}" in out
    ack = RestoreAcknowledgement.objects.get()
    entry = json.loads(bytes(Entry.objects.filter(ref=ack.public_ref).get().data))
    assert entry["public"]["signed_size"] == signed and entry["public"]["database_size"] == size_at_t
    assert "nightly" not in json.dumps(entry)  # the reason is committed, not in clear (a time could hold "02:00")
    with django_capture_on_commit_callbacks(execute=True):
        assert run("seal")[0] == 0
    assert run("verify_ledger") == (0, "The ledger verifies: no findings.\n")
    assert run("acknowledge_restore", "--reason", "again")[0] == 1  # nothing left to acknowledge
    assert run("acknowledge_restore", "--reason", "nul\x00")[0] == 1
    assert run("acknowledge_restore", "--reason", "x" * 2001)[0] == 1


def test_a_replaced_tree_of_the_same_size_is_refused(ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ledger_seal()
        Record.objects.create(title="x")
        services.ledger_seal()
    sql("UPDATE ledger_treenode SET hash = %s", [bytes(32)])
    with translation.override("en"):
        problem = highwater.restore_problem()
    assert problem and "is not the one this portal signed" in problem


def test_a_forged_commitment_sealed_by_the_genuine_sealer_fails_the_record_state_check(ledger):
    victim = ledger[1]
    sql("UPDATE ledgerapp_record SET secret = %s WHERE id = %s", ["forged", victim.pk])
    victim.refresh_from_db()
    newest = json.loads(bytes(Entry.objects.filter(ref=victim.public_ref).latest("id").data))
    seed = os.urandom(16)
    state = forged_state(victim, seed)
    raw = canonical_json({**newest, "op": "update", "changed": ["secret"], "state": state})
    [(created,)] = sql("SELECT created FROM ledger_entry ORDER BY id DESC LIMIT 1")
    sql("INSERT INTO ledger_entry (data, leaf_hash, salt_seed, kind, ref, created) VALUES (%s, %s, %s, %s, %s, %s)",
        [raw, merkle.leaf_hash(raw), seed, "ledgerapp.record", victim.public_ref, created])
    services.ledger_seal()  # the genuine sealer cannot tell, and signs it
    code, out = run("verify_ledger")
    assert code == 1
    lines = [line for line in out.splitlines() if " at " in line]
    assert len(lines) == 1 and lines[0].startswith(f"record-state at ledgerapp.record {victim.public_ref}: ")


def test_disclosures_open_with_the_keyed_salts(ledger):
    from ledger import disclosure

    record = ledger[1]
    entry, disclosures = disclosure.disclosures_for(record, ["secret"])
    bundle = disclosure.proof_bundle(entry)
    checked = disclosure.check_bundle(bundle, disclosures, keys.signer().verifier_key)
    assert checked.fields == {"secret": "s1"}
    # The salt is not the one the stored seed alone gives.
    salt = json.loads(base64.urlsafe_b64decode(disclosures["secret"] + "=="))[0]
    assert salt != field_salt(bytes(entry.salt_seed), "secret")


def test_init_keys_makes_the_commitment_key_owner_only_and_counts_older_entries(ledger, settings, tmp_path):
    settings.PORTAL_COMMITMENT_KEY_FILE = tmp_path / "commitment.key"
    call_command("init_keys", stdout=StringIO())
    path = settings.PORTAL_COMMITMENT_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    made = keys.parse_commitment_key(path.read_text())
    assert made.legacy_below == Entry.objects.latest("id").id + 1 and made.legacy_count == Entry.objects.count()
    # An entry slipped in among the older ones (an id gap) is found.
    sql("INSERT INTO ledger_entry (id, data, leaf_hash, salt_seed, kind, ref, created) "
        "SELECT %s, data, leaf_hash, salt_seed, kind, ref, created FROM ledger_entry WHERE id = %s",
        [0, Entry.objects.earliest("id").id])
    code, out = run("verify_ledger", "--no-records")
    assert code == 1 and f"entry-legacy at entries below id {made.legacy_below}" in out


def test_entries_of_the_previous_version_keep_verifying_after_init_keys(settings, tmp_path):
    records = [Record.objects.create(title=f"old {i}", secret=f"s{i}") for i in range(3)]
    for record in records:  # as the previous version wrote them: salts from the stored seed alone
        entry = Entry.objects.get(ref=record.public_ref)
        rewrite_entry(entry, state=forged_state(record, bytes(entry.salt_seed)))
    settings.PORTAL_COMMITMENT_KEY_FILE = tmp_path / "commitment.key"  # the upgrade: a new key
    out = StringIO()
    call_command("init_keys", stdout=out)
    assert "The 3 entries already in the database" in out.getvalue()
    records[0].secret = "changed after the upgrade"
    records[0].save()
    services.ledger_seal()
    assert run("verify_ledger") == (0, "The ledger verifies: no findings.\n")
    sql("UPDATE ledgerapp_record SET secret = %s WHERE id = %s", ["edited", records[1].pk])
    code, out = run("verify_ledger")
    assert code == 1 and f"record-state at ledgerapp.record {records[1].public_ref}" in out
