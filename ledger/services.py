"""Ledger writes: sealing entries into signed blocks and checkpoints, and key rotation."""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext

from ledger import counts, highwater, keys, selectors
from ledger.models import (
    Alarm,
    Block,
    Checkpoint,
    Entry,
    Leaf,
    LedgerKey,
    LedgerRefusal,
    LedgerState,
    Peer,
    PeerAnchor,
    RestoreAcknowledgement,
    TreeNode,
    WitnessedCheckpoint,
)
from ledger.recorder import ENTRY_TABLE, entry_time
from ledger.tlog import block as tblock
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote
from ledger.tlog import witness as twitness
from ledger.tlog.merkle import CompactRange, leaf_hash, perfect_subtrees, root_hash
from ledger.tree import bulk_cursor, subtree_hashes

logger = logging.getLogger("ledger.alarms")


@dataclass(frozen=True)
class SealResult:
    height: int
    first_index: int
    count: int
    tree_size: int


def _compact_range(size: int) -> CompactRange:
    """The right edge of the stored tree of `size` leaves, from O(log n) stored nodes."""
    if size == 0:
        return CompactRange()
    nodes = perfect_subtrees(0, size)
    hashes = subtree_hashes(nodes)
    return CompactRange.from_hashes(size, [hashes[node] for node in nodes])


# Every insert into the entry table takes this advisory lock shared, until its transaction ends
# (a trigger does, on PostgreSQL: migration 0007_leaf); the sealer takes it exclusively.
WRITERS_LOCK = 0x6C656467


def _committed_bound(cursor) -> int | None:
    """An entry id such that every entry up to it is committed or never will be: the sealer seals
    no entry past one whose transaction is still open, so the log's order never has to skip one.
    None when a transaction writing entries stays open longer than LEDGER_SEAL_WAIT."""
    if connection.vendor != "postgresql":
        # SQLite: this IMMEDIATE transaction holds the only write lock; every other writer has ended.
        return _highest_entry_id(cursor)
    # Waits until the transactions writing entries now have ended; new ones wait meanwhile.
    try:
        with transaction.atomic():  # a savepoint: a lock timeout ends only this
            wait = f"{settings.LEDGER_SEAL_WAIT * 1000:.0f}"
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [wait])
            cursor.execute("SELECT pg_advisory_lock(%s)", [WRITERS_LOCK])
    except OperationalError:
        logger.warning("sealing waits: a transaction writing ledger entries has been open for over %s s",
                       settings.LEDGER_SEAL_WAIT)
        return None
    try:
        return _highest_entry_id(cursor)
    finally:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [WRITERS_LOCK])


def _highest_entry_id(cursor) -> int:
    cursor.execute(f"SELECT max(id) FROM {ENTRY_TABLE}")
    return cursor.fetchone()[0] or 0


def _unsealed_window(cursor, low: int, high: int) -> tuple[int, list[tuple]]:
    """The unsealed entries with ids in (low, high], in id order, and `high`. Both sides of the
    query are bounded by the window, so that no plan the database may choose (its statistics can
    be stale after a bulk load) reads more than the window. Entries in it may be sealed already: a
    restore puts back sealed entries as new rows (ledger_recover)."""
    cursor.execute(
        f"SELECT e.id, e.leaf_hash, e.kind, e.created, e.data FROM {ENTRY_TABLE} e "
        f"WHERE e.id > %s AND e.id <= %s AND NOT EXISTS (SELECT 1 FROM {Leaf._meta.db_table} l "
        f"WHERE l.entry_id = e.id AND l.entry_id > %s AND l.entry_id <= %s) ORDER BY e.id",
        [low, high, low, high],
    )
    return high, cursor.fetchall()


def _store_leaves(cursor, ids: list[int], first: int) -> None:
    _insert_pairs(cursor, Leaf._meta.db_table, ("leaf_index", "entry_id"), list(range(first, first + len(ids))), ids)


def _store_nodes(cursor, keys: list[int], hashes: list[bytes]) -> None:
    _insert_pairs(cursor, TreeNode._meta.db_table, ("id", "hash"), keys, hashes, types=("bigint", "bytea"))


def _insert_pairs(cursor, table: str, columns: tuple[str, str], first: list, second: list,
                  types=("bigint", "bigint")) -> None:
    names = ", ".join(columns)
    if connection.vendor == "postgresql":  # one statement, not a round trip per row; arrays sent
        # in binary (Django's cursor would quote them into the SQL text, slower than the insert)
        with bulk_cursor() as raw:
            raw.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest(%b::{types[0]}[], %b::{types[1]}[])",
                        [first, second])
    else:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES (%s, %s)", list(zip(first, second, strict=True)))


def ensure_signing_key_registered() -> keys.note.Signer:
    signer = keys.signer()
    key_hash = f"{signer.key_hash:08x}"
    if not LedgerKey.objects.filter(key_hash=key_hash).exists():
        LedgerKey.objects.filter(active=True).update(active=False)
        LedgerKey.objects.create(verifier_key=signer.verifier_key, key_hash=key_hash)
    return signer


@transaction.atomic
def ledger_seal(*, max_entries: int | None = None) -> SealResult | None:
    """Seals the committed, unsealed entries (in id order) into one signed block.

    The locked state row serializes sealers (SQLite: the IMMEDIATE transaction does). Unsealed
    entries are looked for above the state's watermark only, up to the committed bound, so that
    the lookup reads the new entries, whatever the size of the log.
    """
    max_entries = max_entries or settings.LEDGER_SEAL_BATCH
    LedgerState.objects.get_or_create(pk=1)
    state = LedgerState.objects.select_for_update().get(pk=1)
    signer = ensure_signing_key_registered()  # the first key's entry goes in this very block
    with connection.cursor() as cursor:
        bound = _committed_bound(cursor)
        if bound is None:
            return None
        sealed_id, rows = state.sealed_id, []
        while not rows and sealed_id < bound:
            sealed_id, rows = _unsealed_window(cursor, sealed_id, min(bound, sealed_id + max_entries))
        if not rows:
            if sealed_id > state.sealed_id:
                LedgerState.objects.filter(pk=1).update(sealed_id=sealed_id)
            return None
        highwater.refuse_if_restored()  # never extend a tree older than one already signed
        first = state.tree_size
        leaves = [bytes(row[1]) for row in rows]
        _store_leaves(cursor, [row[0] for row in rows], first)
        counts.add(counts.tally(row[2:] for row in rows))  # the dashboard's charts
        height, size = _append_block(cursor, state, leaves, signer)
        LedgerState.objects.filter(pk=1).update(sealed_id=sealed_id)
    return SealResult(height=height, first_index=first, count=len(leaves), tree_size=size)


def _append_block(cursor, state: LedgerState, leaves: list[bytes], signer, *, expect_root: bytes | None = None):
    """The tree nodes, signed block, checkpoint and state for `leaves` appended to the tree of
    `state`; the high-water mark follows on commit. Returns (height, tree size)."""
    first = state.tree_size
    tree = _compact_range(first)
    nodes = []
    for leaf in leaves:
        nodes.extend(tree.append(leaf))
    size, root = first + len(leaves), tree.root()
    if expect_root is not None and root != expect_root:
        raise LedgerRefusal(f"the recovered entries make root {root.hex()} at tree size {size}, not the signed "
                            f"{expect_root.hex()}")
    _store_nodes(cursor, [TreeNode.key(level, index) for level, index, _ in nodes], [n for *_, n in nodes])
    height = state.height + 1
    time = entry_time(dt.datetime.now(dt.UTC))
    header = tblock.block_header(
        origin=settings.PORTAL_ORIGIN, height=height, first_index=first, count=len(leaves),
        batch_root=root_hash(leaves), prev_hash=bytes(state.block_hash), tree_size=size,
        tree_root=root, time=time,
    )
    Block.objects.create(
        height=height, first_index=first, count=len(leaves), batch_root=root_hash(leaves),
        prev_hash=bytes(state.block_hash), tree_size=size, tree_root=root,
        time=time, key_hash=f"{signer.key_hash:08x}",
        signature=tblock.sign_block(header, signer), header=header,
    )
    note = tcheckpoint.sign_checkpoint(
        tcheckpoint.Checkpoint(origin=settings.PORTAL_ORIGIN, size=size, root_hash=root), signer
    )
    Checkpoint.objects.create(tree_size=size, note=note)
    LedgerState.objects.filter(pk=1).update(
        tree_size=size, root=root, height=height, block_hash=tblock.block_hash(header)
    )
    transaction.on_commit(lambda: highwater.write_mark(size, root))
    return height, size


def parse_entry_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


@transaction.atomic
def ledger_recover(entries: list[bytes], *, root: bytes) -> int:
    """Puts back entries sealed after a restored snapshot, as the peers' mirrors verified them (the
    same bytes, in the same order, making `root`): one block signed now; an entry of the snapshot
    still unsealed there gets its index, the others are new rows without a salt seed (lost with
    the database, so their commitments cannot be opened). Returns the new tree size."""
    state = LedgerState.objects.select_for_update().get(pk=1)
    signer = keys.signer()
    leaves = [leaf_hash(data) for data in entries]
    waiting = dict(selectors.entries_unsealed().values_list("leaf_hash", "id"))
    waiting = {bytes(hashed): entry_id for hashed, entry_id in waiting.items()}
    with connection.cursor() as cursor:
        for index, (data, leaf) in enumerate(zip(entries, leaves, strict=True), start=state.tree_size):
            if (entry_id := waiting.pop(leaf, None)) is None:
                parsed = json.loads(data)
                entry_id = Entry.objects.create(
                    data=data, leaf_hash=leaf, salt_seed=b"", kind=parsed["kind"], ref=parsed["ref"],
                    created=parse_entry_time(parsed["time"])).id
            Leaf.objects.create(leaf_index=index, entry_id=entry_id)
        counts.add(counts.tally((parsed["kind"], parse_entry_time(parsed["time"]), data)
                                for data in entries for parsed in [json.loads(data)]))  # lost with the database
        return _append_block(cursor, state, leaves, signer, expect_root=root)[1]


def ledger_seal_all(*, max_entries: int | None = None, progress=None) -> list[SealResult]:
    """Seals, one block per batch, every entry committed by the time the first block is sealed (it
    may register the signing key, in an entry of its own). Entries written later wait for the next
    call: chasing busy writers, it would seal block after small block, each one signed and each one
    making the writers wait for a moment (the committed bound), and might never end."""
    results, target = [], None
    while (result := ledger_seal(max_entries=max_entries)) is not None:
        results.append(result)
        if target is None:
            with connection.cursor() as cursor:
                target = _highest_entry_id(cursor)
        if progress:
            progress(result)
        if LedgerState.objects.values_list("sealed_id", flat=True).get(pk=1) >= target:
            break
    return results


def ledger_key_rotate() -> str:
    """Replaces the signing key. The new key is announced, and the old one retired, in entries
    sealed under the old key, so that its signature vouches for the new one; the old verifier key
    stays trusted (keys.retire_verifier_key) so old blocks verify. Not for use inside a transaction:
    the key file changes once the announcement is committed."""
    signer_key, verifier_key = tnote.generate_key(settings.PORTAL_ORIGIN)
    key_hash = f"{tnote.Signer(signer_key).key_hash:08x}"
    with transaction.atomic():
        old = ensure_signing_key_registered()
        LedgerKey.objects.filter(active=True).update(active=False)
        LedgerKey.objects.create(verifier_key=verifier_key, key_hash=key_hash)
        ledger_seal_all()
    keys.retire_verifier_key(old.verifier_key)
    keys.write_secret_file(settings.PORTAL_SIGNING_KEY_FILE, signer_key + "\n")
    return verifier_key


@transaction.atomic
def ledger_restore_acknowledge(*, reason: str) -> RestoreAcknowledgement:
    """Accepts a database whose tree is behind (or other than) the high-water mark: records both
    heads in the ledger and lowers the mark to the database's head, so that sealing goes on."""
    problem = highwater.restore_problem()
    if not problem:
        raise highwater.RestoreRefusal(
            gettext("The database's ledger extends the high-water mark: nothing to acknowledge."))
    try:
        mark = highwater.read_mark()
    except highwater.RestoreRefusal:
        mark = None  # unreadable or unsigned: the acknowledgement records that nothing was known
    size, root = highwater.database_head()
    acknowledgement = RestoreAcknowledgement.objects.create(
        reason=reason, signed_size=mark.size if mark else -1, signed_root=mark.root_hash.hex() if mark else "",
        database_size=size, database_root=root.hex(),
    )
    transaction.on_commit(lambda: highwater.write_mark(size, root, force=True))
    return acknowledgement


@transaction.atomic
def peer_add(*, origin: str, url: str, log_key: str, witness_key: str = "", active: bool = True) -> Peer:
    """Configures a peer portal (ledgered); ValidationError names each bad field."""
    peer = Peer(origin=origin, url=url.rstrip("/"), log_key=log_key, witness_key=witness_key, active=active)
    peer.full_clean()
    peer.save()
    PeerAnchor.objects.create(peer=peer)
    return peer


@transaction.atomic
def peer_remove(*, origin: str) -> None:
    """Removes a peer (ledgered as a delete); the cosignatures it gave go with it."""
    Peer.objects.get(origin=origin).delete()


def alarm_raise(*, kind: str, origin: str, message: str, evidence: str = "") -> Alarm:
    """Stores evidence of misbehaviour (both signed notes) and logs it at ERROR.

    The same unacknowledged alarm is not stored twice: a peer retried with backoff would repeat it.
    """
    logger.error("ledger alarm %s (%s): %s", kind, origin, message)
    same = Alarm.objects.filter(kind=kind, origin=origin, message=message, evidence=evidence, acknowledged=False)
    return same.first() or Alarm.objects.create(kind=kind, origin=origin, message=message, evidence=evidence)


class RateLimited(twitness.WitnessError):
    status = 429


def _witness_rate_check(origin: str) -> None:
    """Counts the checkpoints a log advances by per minute; replays by others cannot spend it."""
    key = f"ledger-witness-rate:{twitness.origin_hash(origin)}:{int(time.time() // 60)}"
    cache.add(key, 0, 120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 120)
        count = 1
    if count > settings.LEDGER_WITNESS_RATE:
        raise RateLimited(f"more than {settings.LEDGER_WITNESS_RATE} checkpoints a minute for {origin}")


def witness_add_checkpoint(*, body: bytes) -> str:
    """C2SP tlog-witness add-checkpoint: the cosignature line, or a WitnessError with its status.

    The size check and the save are one locked step, so that this witness never cosigns two roots
    for one size of a log, nor a size smaller than one it cosigned.
    """
    request = twitness.parse_add_checkpoint(body)
    origin = request.checkpoint.origin
    peer = Peer.objects.filter(origin=origin, active=True).first()
    if peer is None:
        raise twitness.UnknownOrigin(f"this witness does not know the log {origin!r}")
    twitness.verify_log_signature(request, [tnote.Verifier(peer.log_key)])
    cosigner = keys.witness_signer()
    try:
        with transaction.atomic():
            WitnessedCheckpoint.objects.get_or_create(
                origin=origin, defaults={"size": 0, "root": b"", "note": "", "cosignature": ""}
            )
            latest = WitnessedCheckpoint.objects.select_for_update().get(origin=origin)
            twitness.check_consistency(request, latest.size, bytes(latest.root))
            if request.checkpoint.size > latest.size:
                _witness_rate_check(origin)
            line = tcheckpoint.cosign(request.checkpoint, cosigner, int(time.time()))
            latest.size, latest.root = request.checkpoint.size, request.checkpoint.root_hash
            latest.note, latest.cosignature = request.note, line
            latest.save()
    except twitness.InconsistentCheckpoint as exc:
        # Proven only by two signed roots for one size; a bad proof may come from anyone replaying.
        if latest.note and request.checkpoint.size == latest.size:
            alarm_raise(
                kind="log-inconsistent", origin=origin,
                message=f"{origin} signed two roots for tree size {latest.size}: {exc}",
                evidence=_evidence(latest.note + latest.cosignature, body.decode()),
            )
        raise
    return line


def _evidence(*notes: str) -> str:
    """Signed notes kept side by side as an alarm's evidence."""
    return "\n----\n".join(note for note in notes if note)
