"""verify_ledger finds every kind of tampering, names it and exits non-zero; the export verifies offline."""
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ledger import keys, services
from ledger.models import Block, Entry, TreeNode
from tests.ledgerapp.models import Record, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    tag = Tag.objects.create(name="t")
    records = [Record.objects.create(title=f"r{i}", secret=f"s{i}", amount=i) for i in range(6)]
    records[0].tags.add(tag)
    services.ledger_seal()
    for record in records[3:]:
        record.amount += 10
        record.save()
    services.ledger_seal()
    return records


def verify(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
        return 0, out.getvalue()
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_clean_ledger_verifies(ledger):
    code, out = verify()
    assert code == 0, out
    assert "no findings" in out


def test_record_row_edited_with_raw_sql(ledger):
    sql("UPDATE ledgerapp_record SET secret = %s WHERE id = %s", ["forged", ledger[1].pk])
    code, out = verify()
    assert code == 1
    assert f"record-state at ledgerapp.record {ledger[1].public_ref}: current values of secret" in out


def test_record_deleted_with_raw_sql_and_inserted_with_raw_sql(ledger):
    sql("DELETE FROM ledgerapp_record WHERE id = %s", [ledger[2].pk])
    sql("INSERT INTO ledgerapp_record (public_ref, title, secret, amount, note) VALUES ('sneaky', 'x', '', 0, '')")
    code, out = verify()
    assert code == 1
    assert f"record-missing at ledgerapp.record {ledger[2].public_ref}" in out
    assert "record-unledgered at ledgerapp.record sneaky" in out


def test_entry_edited(ledger):
    entry = Entry.objects.get(leaf__leaf_index=2)
    sql("UPDATE ledger_entry SET data = %s WHERE id = %s", [bytes(entry.data).replace(b'"r', b'"R'), entry.pk])
    code, out = verify()
    assert code == 1 and "leaf-hash at entry 2" in out


def test_entry_edited_with_its_leaf_hash(ledger):
    from ledger.tlog.merkle import leaf_hash

    entry = Entry.objects.get(leaf__leaf_index=2)
    data = bytes(entry.data).replace(b'"r', b'"R')
    sql("UPDATE ledger_entry SET data = %s, leaf_hash = %s WHERE id = %s", [data, leaf_hash(data), entry.pk])
    code, out = verify()
    assert code == 1 and "block-tree-root at block 0" in out and "block-batch-root at block 0" in out


def test_entry_deleted(ledger):
    entry = Entry.objects.get(leaf__leaf_index=3)
    sql("DELETE FROM ledger_leaf WHERE leaf_index = 3")
    sql("DELETE FROM ledger_entry WHERE id = %s", [entry.pk])
    code, out = verify()
    assert code == 1 and "entry-missing at entry 3" in out


def test_leaf_row_deleted_leaves_its_entry_stranded(ledger):
    entry = Entry.objects.get(leaf__leaf_index=3)
    sql("DELETE FROM ledger_leaf WHERE leaf_index = 3")
    code, out = verify()
    assert code == 1 and "entry-missing at entry 3" in out
    assert f"entry-unsealable at unsealed #{entry.pk}" in out  # and no later seal will take it


def test_two_entries_swapped(ledger):
    a, b = Entry.objects.get(leaf__leaf_index=1), Entry.objects.get(leaf__leaf_index=4)
    sql("UPDATE ledger_leaf SET entry_id = %s WHERE leaf_index = 1", [-a.pk])  # the unique index
    sql("UPDATE ledger_leaf SET entry_id = %s WHERE leaf_index = 4", [a.pk])
    sql("UPDATE ledger_leaf SET entry_id = %s WHERE leaf_index = 1", [b.pk])
    code, out = verify()
    assert code == 1 and "block-tree-root at block 0" in out


def test_block_edited(ledger):
    sql("UPDATE ledger_block SET time = %s WHERE height = 1", ["2020-01-01T00:00:00.000000Z"])
    code, out = verify()
    assert code == 1 and "block-signature at block 1" in out


def test_signature_replaced(ledger):
    first = Block.objects.get(height=0)
    sql("UPDATE ledger_block SET signature = %s WHERE height = 1", [bytes(first.signature)])
    code, out = verify()
    assert code == 1 and "block-signature at block 1" in out


def test_block_deleted(ledger):
    sql("DELETE FROM ledger_block WHERE height = 0")
    code, out = verify()
    assert code == 1 and "block-missing at block 0" in out


def test_stored_tree_node_edited(ledger):
    sql("UPDATE ledger_treenode SET hash = %s WHERE id = (SELECT MIN(id) FROM ledger_treenode)", [bytes(32)])
    code, out = verify()
    assert code == 1 and "tree-node at tree node level 1 index 0" in out


def test_stored_tree_nodes_missing_or_extra(ledger):
    sql("DELETE FROM ledger_treenode WHERE id = %s", [TreeNode.key(1, 1)])
    sql("INSERT INTO ledger_treenode (id, hash) VALUES (%s, %s)", [TreeNode.key(1, 1000), bytes(32)])
    code, out = verify()
    assert code == 1
    assert "tree-node-missing at tree node level 1 index 1" in out
    assert "tree-node-extra at tree node level 1 index 1000" in out


def test_stored_tree_level_deleted_and_one_beyond_the_tree_added(ledger):
    top = TreeNode.objects.order_by("-id").values_list("id", flat=True).first() >> 56
    sql("DELETE FROM ledger_treenode WHERE id >= %s AND id < %s", [TreeNode.key(1, 0), TreeNode.key(2, 0)])
    sql("INSERT INTO ledger_treenode (id, hash) VALUES (%s, %s)", [TreeNode.key(top + 1, 0), bytes(32)])
    code, out = verify()
    assert code == 1
    assert "tree-node-missing at tree node level 1 index 0" in out
    assert f"tree-node-extra at tree node level {top + 1} index 0" in out


def run_audit(path, *keys_):
    args = [sys.executable, "-m", "ledger.tlog.audit", str(path)]
    for key in keys_:
        args += ["--key", key]
    return subprocess.run(args, capture_output=True, text=True, cwd=settings.BASE_DIR, timeout=60)


def test_export_verifies_offline_and_tampering_shows(ledger, tmp_path):
    path = tmp_path / "ledger.jsonl"
    call_command("export_ledger", str(path), stdout=open(tmp_path / "out", "w"))
    verifier = keys.signer().verifier_key
    clean = run_audit(path, verifier)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    lines = path.read_text().splitlines()
    del lines[3]  # an entry
    path.write_text("\n".join(lines) + "\n")
    tampered = run_audit(path, verifier)
    assert tampered.returncode == 1 and "entry-missing at entry 2" in tampered.stdout


def test_entries_and_nodes_compared_page_by_page(ledger, monkeypatch):
    """Pages of two entries and two nodes: the stream crosses many page ends and still finds the
    tampered, missing and extra nodes where they are."""
    from ledger import verification

    monkeypatch.setattr(verification, "PAGE", 2)
    assert verify()[0] == 0
    sql("UPDATE ledger_treenode SET hash = %s WHERE id = %s", [bytes(32), TreeNode.key(1, 2)])
    sql("DELETE FROM ledger_treenode WHERE id = %s", [TreeNode.key(1, 3)])
    sql("INSERT INTO ledger_treenode (id, hash) VALUES (%s, %s)", [TreeNode.key(2, 40), bytes(32)])
    code, out = verify()
    assert code == 1
    found = sorted(line for line in out.splitlines() if line.startswith("tree-node"))
    assert found == ["tree-node at tree node level 1 index 2: stored hash differs from the re-derived one; "
                     "proofs served from it would fail",
                     "tree-node-extra at tree node level 2 index 40: stored node is of no sealed subtree",
                     "tree-node-missing at tree node level 1 index 3: a sealed subtree's node is not stored"]
