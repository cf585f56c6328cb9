"""Sealing: consecutive indexes, a signed hash-chained block and a C2SP checkpoint per batch."""
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from ledger import keys, selectors, services
from ledger.models import Block, Checkpoint, Entry, LedgerKey
from ledger.tlog import block as tblock
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle, note
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db


def make_records(n):
    return [Record.objects.create(title=f"r{i}", amount=i) for i in range(n)]


def leaves():
    return [bytes(h) for h in Entry.objects.order_by("leaf__leaf_index").values_list("leaf_hash", flat=True)]


def test_seal_assigns_consecutive_indexes_in_commit_order_and_signs_block_and_checkpoint():
    make_records(5)
    result = services.ledger_seal()
    n = Entry.objects.count()  # the five records and the signing key's registration
    assert (result.height, result.first_index, result.count, result.tree_size) == (0, 0, n, n) == (0, 0, 6, 6)
    indexes = list(Entry.objects.order_by("id").values_list("leaf__leaf_index", flat=True))
    assert indexes == list(range(6))
    block = Block.objects.get(height=0)
    verifier = note.Verifier(keys.signer().verifier_key)
    assert tblock.verify_block(bytes(block.header), bytes(block.signature), verifier)
    assert bytes(block.tree_root) == merkle.root_hash(leaves())
    assert bytes(block.prev_hash) == bytes(32)
    checkpoint = tcheckpoint.open_checkpoint(Checkpoint.objects.get(tree_size=6).note, verifier)
    assert checkpoint.origin == settings.PORTAL_ORIGIN and checkpoint.size == 6
    assert checkpoint.root_hash == merkle.root_hash(leaves())


def test_second_block_chains_to_the_first_and_nothing_left_means_no_block():
    make_records(3)
    services.ledger_seal()  # also registers the signing key: one more entry
    make_records(4)
    second = services.ledger_seal()
    assert second.first_index == 4 and second.tree_size == Entry.objects.count()
    first_block, second_block = Block.objects.order_by("height")
    assert bytes(second_block.prev_hash) == tblock.block_hash(bytes(first_block.header))
    assert services.ledger_seal() is None
    assert LedgerKey.objects.filter(active=True).count() == 1


def test_batches_respect_the_limit_and_every_entry_is_sealed_once():
    make_records(25)
    results = services.ledger_seal_all(max_entries=10)
    # 25 records and the key registration, in windows of at most 10 ids (on PostgreSQL the ids of
    # earlier tests' rolled-back entries leave a gap above the watermark)
    assert [r.count for r in results][1:-1] == [10] * (len(results) - 2)
    assert all(0 < r.count <= 10 for r in results) and sum(r.count for r in results) == 26
    sealed = list(Entry.objects.order_by("leaf__leaf_index").values_list("leaf__leaf_index", flat=True))
    assert sealed == list(range(len(sealed))) and None not in sealed


FORBID_ENTRY_UPDATES = {
    "sqlite": "CREATE TRIGGER no_entry_update BEFORE UPDATE ON ledger_entry "
              "BEGIN SELECT RAISE(ABORT, 'an entry row was rewritten'); END",
    "postgresql": "CREATE FUNCTION no_entry_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "RAISE EXCEPTION 'an entry row was rewritten'; END $$; "
                  "CREATE TRIGGER no_entry_update BEFORE UPDATE ON ledger_entry "
                  "FOR EACH ROW EXECUTE FUNCTION no_entry_update()",
}


def test_sealing_never_rewrites_an_entry_row():
    make_records(5)
    services.ledger_seal()  # the key's registration, before the entry table is locked down
    with connection.cursor() as cursor:
        cursor.execute(FORBID_ENTRY_UPDATES[connection.vendor])
    make_records(12)
    results = services.ledger_seal_all(max_entries=5)
    assert sum(r.count for r in results) == 12 and not Entry.objects.filter(leaf__isnull=True).exists()
    assert selectors.inclusion_proof(7, results[-1].tree_size)  # the tree reads the leaf rows


def test_proofs_from_the_stored_tree_verify_for_every_sealed_size():
    for batch in (1, 2, 3, 5, 8):
        make_records(batch)
        services.ledger_seal()
    all_leaves = leaves()
    sizes = list(Block.objects.order_by("tree_size").values_list("tree_size", flat=True))
    for size in sizes:
        root = merkle.root_hash(all_leaves[:size])
        for index in range(size):
            proof, served_root = selectors.inclusion_proof(index, size)
            assert served_root == root
            assert proof == merkle.inclusion_proof(all_leaves[:size], index)
            merkle.verify_inclusion(all_leaves[index], index, size, proof, root)
        for old in sizes:
            if old <= size:
                proof, old_root, new_root = selectors.consistency_proof(old, size)
                assert proof == merkle.consistency_proof(all_leaves[:size], old)
                merkle.verify_consistency(old, size, old_root, new_root, proof)


def test_proofs_take_a_constant_number_of_queries_whatever_the_tree_size():
    counts, old = [], None
    for batch in (4, 60, 600):
        make_records(batch)
        services.ledger_seal_all()
        size = selectors.tree_head().size
        with CaptureQueriesContext(connection) as queries:
            selectors.inclusion_proof(size // 3, size)
            selectors.consistency_proof(old or size, size)
        counts.append(len(queries))
        old = size
    # One query per proof (its stored nodes and signed roots together), whatever the size.
    assert counts == [2, 2, 2]


def test_unsealed_sizes_are_refused():
    make_records(3)
    services.ledger_seal()
    with translation.override("en"), pytest.raises(selectors.LedgerQueryError, match="not a sealed tree size"):
        selectors.inclusion_proof(0, 2)


def test_key_rotation_keeps_old_blocks_verifiable(tmp_path, settings):
    settings.PORTAL_SIGNING_KEY_FILE = tmp_path / "signing.key"  # a key of this test's own
    keys.create_signing_key(settings.PORTAL_SIGNING_KEY_FILE, settings.PORTAL_ORIGIN)
    make_records(2)
    services.ledger_seal()
    old_verifier = keys.signer().verifier_key
    new_verifier = services.ledger_key_rotate()
    assert new_verifier != old_verifier and keys.signer().verifier_key == new_verifier
    make_records(2)
    services.ledger_seal()
    # The announcement of the new key is sealed under the old one, then the new key signs.
    first, announcement, after = Block.objects.order_by("height")
    for block, verifier in ((first, old_verifier), (announcement, old_verifier), (after, new_verifier)):
        assert tblock.verify_block(bytes(block.header), bytes(block.signature), note.Verifier(verifier))
    assert set(LedgerKey.objects.values_list("verifier_key", flat=True)) == {old_verifier, new_verifier}
    assert LedgerKey.objects.get(verifier_key=new_verifier).active
    assert not LedgerKey.objects.get(verifier_key=old_verifier).active


def test_disclosed_fields_verify_against_the_sealed_entry_and_tampering_fails():
    from ledger import disclosure

    record = Record.objects.create(title="licence", secret="S-123", amount=3)
    services.ledger_seal()
    entry, disclosures = disclosure.disclosures_for(record, ["secret", "amount"])
    bundle = disclosure.proof_bundle(entry)
    checked = disclosure.check_bundle(bundle, disclosures, keys.signer().verifier_key)
    assert checked.fields == {"secret": "S-123", "amount": 3}
    forged = dict(disclosures, amount=disclosures["secret"])
    with pytest.raises(disclosure.DisclosureError, match="amount"):
        disclosure.check_bundle(bundle, forged, keys.signer().verifier_key)
    assert [step.proof_status for step in disclosure.record_history(record)] == ["verified"]


def test_seal_all_ends_with_what_was_committed_when_it_began():
    """Entries written while it seals wait for the next call: it does not chase busy writers (here
    a record written after each block; chasing them, it would never end)."""
    make_records(12)
    results = services.ledger_seal_all(max_entries=5, progress=lambda result: make_records(1))
    # the twelve records and the key registration, in windows of at most 5 ids, and no more than
    # one window beyond them (a window also takes the records written meanwhile that fall in it)
    assert 13 <= sum(r.count for r in results) and len(results) <= 4
    assert selectors.entries_unsealed().exists()  # the last record written waits
    services.ledger_seal_all()
    assert not selectors.entries_unsealed().exists()
