"""`verify_ledger`: re-derives the whole ledger from the database and names every difference.

The log itself is checked by ledger.tlog.audit.Auditor (the same code an offline auditor runs);
this module feeds it from the database and adds what only the database can show: the stored
tree nodes that proofs are served from, and whether each ledgered record still matches the
commitment of its newest entry.
"""
from __future__ import annotations

import gc
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

from django.conf import settings

from ledger import highwater, keys
from ledger.apps import ledgered_models
from ledger.models import Block, Checkpoint, Entry, Leaf, LedgerState, Peer, TreeNode
from ledger.recorder import ENTRY_TABLE, salt_key, state_of
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote
from ledger.tlog import witness as twitness
from ledger.tlog.audit import Auditor, Finding
from ledger.tree import bulk_cursor

PAGE = 20_000


def sealed_entry_pages(columns: str = "e.data, e.leaf_hash") -> Iterator[list[tuple]]:
    """Rows of sealed entries in index order, a page at a time: the leaf index, then `columns` of
    the entry (`e`).

    A page's leaves are read first. When their entries are one run of ids in the same order (the
    sealer seals in id order, so nearly every page is), the entries are read as that id range: one
    index range scan in table order, a third faster at 10 M entries than looking up each leaf's
    entry. Any other page (a restore's re-inserted entries, a damaged log) is read by the join."""
    last = -1
    with bulk_cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT leaf_index, entry_id FROM {Leaf._meta.db_table} WHERE leaf_index > %s "
                "ORDER BY leaf_index LIMIT %s", [last, PAGE])
            leaves = cursor.fetchall()
            if not leaves:
                return
            first_id, last_id = leaves[0][1], leaves[-1][1]
            rows = None
            if [entry_id for _, entry_id in leaves] == list(range(first_id, last_id + 1)):
                cursor.execute(f"SELECT e.id, {columns} FROM {ENTRY_TABLE} e WHERE e.id >= %s AND e.id <= %s "
                               "ORDER BY e.id", [first_id, last_id])
                ranged = cursor.fetchall()
                if len(ranged) == len(leaves):
                    rows = [(index, *row[1:]) for (index, _), row in zip(leaves, ranged, strict=True)]
            if rows is None:
                cursor.execute(
                    f"SELECT l.leaf_index, {columns} FROM {Leaf._meta.db_table} l JOIN {ENTRY_TABLE} e "
                    "ON e.id = l.entry_id WHERE l.leaf_index >= %s AND l.leaf_index <= %s ORDER BY l.leaf_index",
                    [leaves[0][0], leaves[-1][0]])
                rows = cursor.fetchall()
            if rows:
                yield rows
            last = leaves[-1][0]


def block_dict(block: Block) -> dict:
    return {
        "height": block.height, "first_index": block.first_index, "count": block.count,
        "batch_root": bytes(block.batch_root), "prev_hash": bytes(block.prev_hash),
        "tree_size": block.tree_size, "tree_root": bytes(block.tree_root), "time": block.time,
        "key_hash": block.key_hash, "signature": bytes(block.signature),
    }


class NodeCheck:
    """Compares the stored inner nodes with the ones the Auditor derives, as it derives them (its
    on_nodes): each level's nodes wait in a page and are compared with the stored page of the same
    keys when it is full; finish() compares the rest and looks for stored nodes beyond them.
    `found` then holds the differences."""

    def __init__(self):
        self.found: list[Finding] = []
        self.pages: dict[int, list[bytes]] = {}  # level -> derived nodes not yet compared
        self.compared: dict[int, int] = {}  # level -> how many of its nodes were compared

    def __call__(self, level: int, index: int, nodes: list[bytes]) -> None:
        page = self.pages.setdefault(level, [])
        page += nodes  # (a level's nodes come in index order)
        while len(page) >= PAGE:
            self._compare(level, page[:PAGE])
            del page[:PAGE]

    def _compare(self, level: int, page: list[bytes]) -> None:
        first = self.compared.get(level, 0)
        with bulk_cursor() as cursor:
            rows = self._stored(cursor, level, first, first + len(page))
        self.found += self._page_findings(level, first, rows, b"".join(page))
        self.compared[level] = first + len(page)

    def finish(self) -> None:
        for level, page in sorted(self.pages.items()):
            if page:
                self._compare(level, page)
        with bulk_cursor() as cursor:
            for level in itertools.count(1):  # stored nodes past the derived ones, while levels go on
                first = self.compared.get(level, 0)
                rows = self._stored(cursor, level, first, None)
                if not rows and level not in self.compared:
                    break
                self.found += self._page_findings(level, first, rows, b"")

    @staticmethod
    def _stored(cursor, level: int, first: int, end: int | None) -> list[tuple[int, bytes]]:
        """Stored nodes of `level` from index `first` to `end` (the level's last when None)."""
        last = TreeNode.key(level + 1, 0) if end is None else TreeNode.key(level, end)
        cursor.execute(
            f"SELECT id, hash FROM {TreeNode._meta.db_table} WHERE id >= %s AND id < %s ORDER BY id",
            [TreeNode.key(level, first), last],
        )
        return cursor.fetchall()

    @classmethod
    def _page_findings(cls, level: int, first: int, rows: list[tuple[int, bytes]], derived: bytes) -> list[Finding]:
        lo = TreeNode.key(level, first)
        # Keys lo..lo+n-1 all present (unique, sorted, the last one right): compare the whole page at once.
        if len(rows) * 32 == len(derived) and (not rows or rows[-1][0] == lo + len(rows) - 1):
            if b"".join(node for _, node in rows) == derived:
                return []
        return cls._differences(level, first, {key - lo: bytes(node) for key, node in rows}, derived)

    @staticmethod
    def _differences(level: int, first: int, stored: dict[int, bytes], derived: bytes) -> list[Finding]:
        found = []
        for offset in sorted(set(stored) | set(range(len(derived) // 32))):
            where = f"tree node level {level} index {first + offset}"
            want, node = derived[32 * offset:32 * offset + 32], stored.get(offset)
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
    # The sealer looks above its watermark only: an unsealed entry below it would never be sealed.
    stranded = Entry.objects.filter(id__lte=state.sealed_id, leaf__isnull=True).values_list("id", flat=True)
    return [Finding("entry-unsealable", f"unsealed #{entry_id}", "unsealed, but below the sealer's watermark "
                    f"(ledger_state.sealed_id {state.sealed_id}): no block will ever seal it") for entry_id in stranded]


class NewestEntries:
    """Per ledgered kind, the id of each record's newest entry (sealed or not)."""

    def __init__(self, kinds):
        self.ids: dict[str, dict[str, int]] = {kind: {} for kind in kinds}

    def see(self, rows) -> None:
        """(kind, ref, id) of entries read in the audit's own pass: no second scan of the log."""
        ids = self.ids
        for kind, ref, entry_id in rows:
            refs = ids.get(kind)
            if refs is not None and refs.get(ref, -1) < entry_id:
                refs[ref] = entry_id

    def see_unsealed(self) -> None:
        self.see(Entry.objects.filter(leaf__isnull=True).values_list("kind", "ref", "id"))

    def load(self, kind: str) -> dict[str, tuple[dict, bytes]]:
        """ref -> (newest entry, its salt key), read by primary key in pages."""
        ids, loaded = list(self.ids[kind].values()), {}
        for start in range(0, len(ids), 2000):
            rows = Entry.objects.filter(pk__in=ids[start:start + 2000]).values_list("ref", "data", "salt_seed", "id")
            for ref, data, seed, entry_id in rows:
                loaded[ref] = (json.loads(bytes(data)), salt_key(bytes(seed), entry_id))
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
    entry, key = newest
    if entry["op"] == "delete":
        return [Finding("record-deleted", where, "record exists but its newest entry deletes it")]
    state, _public = state_of(obj, key)
    differ = sorted(name for name in state if entry["state"].get(name) != state[name])
    if differ:
        return [Finding(
            "record-state", where,
            f"current values of {', '.join(differ)} do not match the newest entry's commitment "
            "(changed outside the ledger, or the entry was not written with the commitment key)")]
    return []


def legacy_findings() -> list[Finding]:
    """The entries from before the commitment key are exactly those there were when it was made:
    one added among them would otherwise commit with a seed the database alone chooses."""
    commitment = keys.commitment_key()
    if not commitment.legacy_below:
        return []
    count = Entry.objects.filter(pk__lt=commitment.legacy_below).count()
    if count == commitment.legacy_count:
        return []
    return [Finding("entry-legacy", f"entries below id {commitment.legacy_below}",
                    f"{count} entries, but {commitment.legacy_count} existed when the commitment key "
                    "was made: entries were added or removed among them")]


def high_water_findings() -> list[Finding]:
    problem = highwater.restore_problem()
    return [Finding("high-water", str(settings.PORTAL_HIGH_WATER_FILE), problem)] if problem else []


@contextmanager
def _cyclic_gc_paused():
    """Reading the log makes millions of acyclic objects (rows): each full collection would walk
    them all again, for nothing (measured: a fifth to a third of verify_ledger's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _add_sealed_entries(auditor: Auditor, newest: NewestEntries, progress: Callable[[str], None] | None) -> None:
    count = 0
    for page in sealed_entry_pages("e.data, e.leaf_hash, e.kind, e.ref, e.id"):
        indexes, datas, leaf_hashes, kinds, refs, ids = zip(*page, strict=True)
        auditor.add_entries(indexes, [*map(bytes, datas)], [*map(bytes, leaf_hashes)])
        newest.see(zip(kinds, refs, ids, strict=True))
        count += len(page)
        if progress and count % 100_000 < len(page):
            progress(f"read {count} entries")


class NoTrustedKey(RuntimeError):
    pass


def ledger_auditor(trusted_keys=(), **options) -> Auditor:
    """An Auditor trusting only keys from outside the database (keys.trusted_verifier_keys)."""
    trusted = keys.trusted_verifier_keys(trusted_keys)
    if not trusted:
        raise NoTrustedKey(
            "No trusted verifier key: set LEDGER_TRUSTED_KEYS, pass --key, or provide the signing key "
            f"file {settings.PORTAL_SIGNING_KEY_FILE}. The keys listed in the database are not trusted "
            "by themselves.")
    return Auditor(settings.PORTAL_ORIGIN, trusted, **options)


def peer_cosigned_notes(*, offline: bool, progress: Callable[[str], None] | None = None) -> Iterator[tuple[Peer, str]]:
    """(peer, the newest checkpoint of this log it cosigned, with its cosignature), per peer.

    Online, as each peer's witness serves it (C2SP tlog-witness monitoring path); offline, from
    the cosignatures stored here, which an attacker who rolled the database back rolled back too.
    """
    from ledger.monitor import Unreachable, fetch

    for peer in Peer.objects.filter(active=True).exclude(witness_key="").order_by("origin"):
        if offline:
            cosignature = peer.cosignatures.order_by("-tree_size").first()
            stored = cosignature and Checkpoint.objects.filter(tree_size=cosignature.tree_size).first()
            if stored:
                yield peer, stored.note + cosignature.line
            continue
        url = f"{peer.url}/ledger/witness/{twitness.origin_hash(settings.PORTAL_ORIGIN)}/checkpoint"
        try:
            yield peer, fetch(url).decode("utf-8", errors="replace")
        except Unreachable as exc:
            if progress:
                progress(f"peer {peer.origin} not checked: {exc}")


def peer_heads(*, offline: bool, progress: Callable[[str], None] | None = None) -> list[tuple[str, object]]:
    """(where, the checkpoint a peer cosigned, or a Finding when its cosignature fails), per peer."""
    heads = []
    for peer, note in peer_cosigned_notes(offline=offline, progress=progress):
        where = f"peer {peer.origin}"
        try:
            head = tcheckpoint.parse_checkpoint(tnote.parse_note(note)[0])
            tcheckpoint.verify_cosignature(note, head, tcheckpoint.CosignatureVerifier(peer.witness_key))
        except (tnote.NoteError, tcheckpoint.CheckpointError) as exc:
            heads.append((where, Finding("peer-cosignature", where, f"no valid cosignature of this log: {exc}")))
            continue
        if head.origin != settings.PORTAL_ORIGIN:
            heads.append((where, Finding("peer-cosignature", where,
                                         f"cosigned origin {head.origin!r} is not this log")))
            continue
        heads.append((where, head))
    return heads


def peer_findings(heads: list[tuple[str, object]], roots: dict[int, bytes], size: int) -> list[Finding]:
    """The local tree, re-derived from the entries (`roots` at the cosigned sizes, `size` sealed
    entries), against each checkpoint a peer cosigned: the root of its first `size` leaves must be
    the cosigned root (a larger cosigned size means the log was rolled back; another root, that its
    history was rewritten)."""
    findings = []
    for where, head in heads:
        if isinstance(head, Finding):
            findings.append(head)
        elif head.size > size:
            findings.append(Finding("peer-rollback", where, f"the peer cosigned tree size {head.size}, but this "
                                    f"log has {size} sealed entries: its history was rolled back"))
        elif roots[head.size] != head.root_hash:
            findings.append(Finding("peer-fork", where, f"the peer cosigned another root for tree size "
                                    f"{head.size} than the entries here give: history was rewritten"))
    return findings


def verify_ledger(*, keys=(), progress: Callable[[str], None] | None = None, records: bool = True,
                  peers: bool = True, offline: bool = False) -> list[Finding]:
    """Every finding about the ledger; `keys` are trusted verifier keys besides the configured ones.

    The entries stream through the Auditor in index order (the blocks, checkpoints and the sizes
    peers cosigned go in first), so memory stays flat in the number of entries."""
    heads = peer_heads(offline=offline, progress=progress) if peers else []
    node_check = NodeCheck()
    blocks = list(Block.objects.order_by("height"))
    head = blocks[-1].tree_size if blocks else 0
    cosigned_sizes = [h.size for _, h in heads if not isinstance(h, Finding)]
    auditor = ledger_auditor(keys, tree_size=head, on_nodes=node_check, root_sizes=cosigned_sizes,
                             progress=progress, in_order=True)
    newest = NewestEntries(model._meta.label_lower for model in ledgered_models())
    with closing(auditor), _cyclic_gc_paused():  # closing: its worker processes stop even if reading fails
        for block in blocks:
            auditor.add_block(block_dict(block))
        for note in Checkpoint.objects.order_by("tree_size").values_list("note", flat=True):
            auditor.add_checkpoint(note)
        _add_sealed_entries(auditor, newest, progress)
        newest.see_unsealed()
        node_check.finish()
        findings = auditor.finish()
    findings += node_check.found
    findings += _state_findings(blocks)
    findings += high_water_findings()
    findings += legacy_findings()
    findings += peer_findings(heads, auditor.roots, auditor.prefix)
    if records:
        findings += record_findings(newest, progress)
    return findings
