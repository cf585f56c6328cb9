"""`verify_ledger`: re-derives the whole ledger from the database and names every difference.

The log itself is checked by ledger.tlog.audit.Auditor (the same code an offline auditor runs);
this module feeds it from the database and adds what only the database can show: the stored
tree nodes that proofs are served from, and whether each ledgered record still matches the
commitment of its newest entry.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max

from ledger.apps import ledgered_models
from ledger.models import Block, Checkpoint, Entry, LedgerKey, LedgerState, TreeNode
from ledger.recorder import ENTRY_TABLE, state_of
from ledger.tlog.audit import Auditor, Finding

PAGE = 20_000


def sealed_entry_pages(columns: str = "leaf_index, data, leaf_hash") -> Iterator[list[tuple]]:
    """Rows of sealed entries in index order (leaf_index first), a page at a time."""
    last = -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {columns} FROM {ENTRY_TABLE} WHERE leaf_index > %s ORDER BY leaf_index LIMIT %s",
                [last, PAGE],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]


def sealed_entries() -> Iterator[tuple[int, bytes, bytes]]:
    for page in sealed_entry_pages():
        for index, data, leaf in page:
            yield index, bytes(data), bytes(leaf)


def block_dict(block: Block) -> dict:
    return {
        "height": block.height, "first_index": block.first_index, "count": block.count,
        "batch_root": bytes(block.batch_root), "prev_hash": bytes(block.prev_hash),
        "tree_size": block.tree_size, "tree_root": bytes(block.tree_root), "time": block.time,
        "key_hash": block.key_hash, "signature": bytes(block.signature),
    }


def verifier_keys(extra=()) -> list[str]:
    return [*LedgerKey.objects.values_list("verifier_key", flat=True), *extra]


class NodeCheck:
    """Compares the stored inner nodes with the ones the Auditor re-derives, level by level."""

    def __init__(self):
        self.levels: dict[int, bytes] = {}  # level -> derived hashes, 32 bytes per index

    def __call__(self, levels: list[list[bytes]]) -> None:
        self.levels = {level: b"".join(nodes) for level, nodes in enumerate(levels) if level >= 1 and nodes}

    def findings(self) -> list[Finding]:
        found = []
        for level in sorted(set(self.levels) | set(self._stored_levels())):
            derived = self.levels.get(level, b"")
            lo, hi = TreeNode.key(level, 0), TreeNode.key(level + 1, 0)
            nodes = TreeNode.objects.filter(pk__gte=lo, pk__lt=hi)
            span = nodes.aggregate(count=Count("pk"), last=Max("pk"))
            if span["count"] * 32 == len(derived) and (span["last"] or lo - 1) == lo + span["count"] - 1:
                # Keys 0..count-1 all present: compare the whole level in one go, the common case.
                stored = b"".join(bytes(h) for h in nodes.order_by("pk").values_list("hash", flat=True).iterator(PAGE))
                if stored == derived:
                    continue
            rows = nodes.order_by("pk").values_list("pk", "hash").iterator(PAGE)
            found.extend(self._differences(level, {key - lo: bytes(node) for key, node in rows}, derived))
        return found

    @staticmethod
    def _stored_levels():
        levels, level = [], 1
        while TreeNode.objects.filter(pk__gte=TreeNode.key(level, 0), pk__lt=TreeNode.key(level + 1, 0)).exists():
            levels.append(level)
            level += 1
        return levels

    @staticmethod
    def _differences(level: int, stored: dict[int, bytes], derived: bytes) -> list[Finding]:
        found = []
        for index in sorted(set(stored) | set(range(len(derived) // 32))):
            where = f"tree node level {level} index {index}"
            want, node = derived[32 * index:32 * index + 32], stored.get(index)
            if node is None:
                found.append(Finding("tree-node-missing", where, "a sealed subtree's node is not stored"))
            elif not want:
                found.append(Finding("tree-node-extra", where, "stored node is of no sealed subtree"))
            elif want != node:
                found.append(Finding("tree-node", where, "stored hash differs from the re-derived one; "
                                     "proofs served from it would fail"))
        return found


def _state_findings(blocks: list[Block]) -> list[Finding]:
    state = LedgerState.objects.filter(pk=1).first()
    if not blocks:
        return []
    last = blocks[-1]
    if state is None or state.tree_size != last.tree_size or bytes(state.root) != bytes(last.tree_root):
        return [Finding("ledger-state", "ledger_state", "tree head does not match the newest block")]
    return []


class NewestEntries:
    """Per ledgered kind, the id of each record's newest entry (sealed or not)."""

    def __init__(self, kinds):
        self.ids: dict[str, dict[str, int]] = {kind: {} for kind in kinds}

    def see(self, page) -> None:
        """Rows (…, kind, ref, id) read in the audit's own pass: no second scan of the log."""
        ids = self.ids
        for *_, kind, ref, entry_id in page:
            refs = ids.get(kind)
            if refs is not None and refs.get(ref, -1) < entry_id:
                refs[ref] = entry_id

    def see_unsealed(self) -> None:
        self.see(Entry.objects.filter(leaf_index__isnull=True).values_list("kind", "ref", "id"))

    def load(self, kind: str) -> dict[str, tuple[dict, bytes]]:
        """ref -> (newest entry, its salt seed), read by primary key in pages."""
        ids, loaded = list(self.ids[kind].values()), {}
        for start in range(0, len(ids), 2000):
            rows = Entry.objects.filter(pk__in=ids[start:start + 2000]).values_list("ref", "data", "salt_seed")
            for ref, data, seed in rows:
                loaded[ref] = (json.loads(bytes(data)), bytes(seed))
        return loaded


def record_findings(newest: NewestEntries, progress: Callable[[str], None] | None = None) -> list[Finding]:
    """For every ledgered record: does its current state match its newest entry's commitment?"""
    findings = []
    for model in ledgered_models():
        kind = model._meta.label_lower
        entries = newest.load(kind)
        m2m = [name for name in model.ledger_fields if model._meta.get_field(name).many_to_many]
        objects = model._base_manager.prefetch_related(*m2m) if m2m else model._base_manager.all()
        seen = set()
        for obj in objects.iterator(2000):
            seen.add(obj.public_ref)
            findings.extend(_record_finding(kind, obj, entries.get(obj.public_ref)))
        for ref, (entry, _seed) in entries.items():
            if ref not in seen and entry["op"] != "delete":
                findings.append(Finding("record-missing", f"{kind} {ref}",
                                        "record was removed without a ledger entry"))
        if progress:
            progress(f"checked {len(seen)} {kind} records")
    return findings


def _record_finding(kind, obj, newest) -> list[Finding]:
    where = f"{kind} {obj.public_ref}"
    if newest is None:
        return [Finding("record-unledgered", where, "record has no ledger entry")]
    entry, seed = newest
    if entry["op"] == "delete":
        return [Finding("record-deleted", where, "record exists but its newest entry deletes it")]
    state, _public = state_of(obj, seed)
    differ = sorted(name for name in state if entry["state"].get(name) != state[name])
    if differ:
        return [Finding(
            "record-state", where,
            f"current values of {', '.join(differ)} do not match the newest entry's commitment "
            "(changed outside the ledger)")]
    return []


def verify_ledger(*, keys=(), progress: Callable[[str], None] | None = None, records: bool = True) -> list[Finding]:
    node_check = NodeCheck()
    blocks = list(Block.objects.order_by("height"))
    head = blocks[-1].tree_size if blocks else 0
    auditor = Auditor(
        settings.PORTAL_ORIGIN, verifier_keys(keys), tree_size=head, on_levels=node_check, progress=progress
    )
    newest = NewestEntries(model._meta.label_lower for model in ledgered_models())
    count = 0
    for page in sealed_entry_pages("leaf_index, data, leaf_hash, kind, ref, id"):
        auditor.add_entries([r[0] for r in page], [bytes(r[1]) for r in page], [bytes(r[2]) for r in page])
        newest.see(page)
        count += len(page)
        if progress and count % 100_000 < len(page):
            progress(f"read {count} entries")
    newest.see_unsealed()
    for block in blocks:
        auditor.add_block(block_dict(block))
    for note in Checkpoint.objects.order_by("tree_size").values_list("note", flat=True):
        auditor.add_checkpoint(note)
    findings = auditor.finish()
    findings += node_check.findings()
    findings += _state_findings(blocks)
    if records:
        findings += record_findings(newest, progress)
    return findings
