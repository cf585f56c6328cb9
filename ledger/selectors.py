"""Ledger reads: entries, blocks, checkpoints and proofs from the stored tree."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.models import Alarm, Block, Checkpoint, Cosignature, Entry, Leaf, LedgerState, Peer, WitnessedCheckpoint
from ledger.tlog import witness as twitness
from ledger.tlog.merkle import subtree_ranges_for_consistency, subtree_ranges_for_inclusion
from ledger.tree import range_hashes


class LedgerQueryError(ValueError):
    """A request the ledger cannot answer as asked; the message says why."""


@dataclass(frozen=True)
class TreeHead:
    size: int
    root: bytes


def tree_head() -> TreeHead:
    state = LedgerState.objects.filter(pk=1).first()
    if state is None:
        return TreeHead(0, b"")
    return TreeHead(state.tree_size, bytes(state.root))


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


def _not_sealed(size: int) -> LedgerQueryError:
    return LedgerQueryError(
        _("size %(size)s is not a sealed tree size (the tree has %(head)s leaves; "
          "use the size of a checkpoint or block)") % {"size": size, "head": tree_head().size}
    )


def _sealed_roots(roots: dict[int, bytes], *sizes: int) -> list[bytes]:
    """The signed roots at sealed sizes (block boundaries); any other size is refused."""
    for size in sizes:
        if size not in roots:
            raise _not_sealed(size)
    return [roots[size] for size in sizes]


def entry_at(index: int) -> Entry:
    # [:1], not first(): first() would add an ORDER BY that the unique index does not need.
    leaf = next(iter(Leaf.objects.filter(leaf_index=index).select_related("entry")
                     .only("entry", "entry__data", "entry__leaf_hash")[:1]), None)
    if leaf is None:
        raise LedgerQueryError(
            _("no sealed entry at index %(index)s (tree size %(size)s)")
            % {"index": index, "size": tree_head().size}
        )
    return leaf.entry


def inclusion_proof(index: int, size: int) -> tuple[list[bytes], bytes]:
    """The RFC 9162 audit path for leaf `index` in the tree of `size`, and that tree's root."""
    proofs, root = inclusion_proofs([index], size)
    return proofs[index], root


def inclusion_proofs(indexes, size: int) -> tuple[dict[int, list[bytes]], bytes]:
    """The audit paths of several leaves in the tree of `size` (index -> path), read together, and
    that tree's root."""
    for index in indexes:
        if index < 0 or size < 1 or index >= size:
            raise LedgerQueryError(
                _("index must be in [0, size): got index %(index)s, size %(size)s") % {"index": index, "size": size}
            )
    paths = {index: subtree_ranges_for_inclusion(index, size) for index in indexes}
    hashes, roots = range_hashes([part for ranges in paths.values() for part in ranges], [size])
    root, = _sealed_roots(roots, size)
    proofs, start = {}, 0
    for index, ranges in paths.items():
        proofs[index], start = hashes[start:start + len(ranges)], start + len(ranges)
    return proofs, root


def consistency_proof(old: int, new: int) -> tuple[list[bytes], bytes, bytes]:
    """The RFC 9162 consistency proof from `old` to `new`, and both roots."""
    if old < 1 or old > new:
        raise LedgerQueryError(_("need 1 <= old <= new: got old %(old)s, new %(new)s") % {"old": old, "new": new})
    proof, roots = range_hashes(subtree_ranges_for_consistency(old, new), [old, new])
    return proof, *_sealed_roots(roots, old, new)


def block_at(height: int) -> Block:
    block = Block.objects.filter(height=height).first()
    if block is None:
        raise LedgerQueryError(_("no block at height %(height)s") % {"height": height})
    return block


def entries_for_ref(ref: str):
    """A record's history, oldest first; unsealed entries have no leaf index yet."""
    return Entry.objects.filter(ref=ref).select_related("leaf").order_by("id")


def entries_sealed():
    """Sealed entries, with their leaf index read in the same query."""
    return Entry.objects.filter(leaf__isnull=False).select_related("leaf")


def entries_unsealed():
    """Committed entries that no block has sealed yet: above the sealer's watermark, without a
    leaf (a restore may have put back sealed entries above it)."""
    sealed_id = LedgerState.objects.filter(pk=1).values_list("sealed_id", flat=True).first() or 0
    return Entry.objects.filter(id__gt=sealed_id, leaf__isnull=True)


def checkpoint_cosigned_note(checkpoint: Checkpoint) -> str:
    """The signed checkpoint with every collected cosignature appended, one line each."""
    lines = Cosignature.objects.filter(tree_size=checkpoint.tree_size).order_by("peer__origin")
    return twitness.append_signatures(checkpoint.note, lines.values_list("line", flat=True))


def witnessed_checkpoints():
    return WitnessedCheckpoint.objects.exclude(note="").order_by("origin")


def alarms_recent(limit: int = 100):
    return Alarm.objects.order_by("-created", "-id")[:limit]


def witnessed_checkpoint(origin_hash: str) -> WitnessedCheckpoint:
    """The newest checkpoint this witness cosigned for the log whose origin hashes to `origin_hash`."""
    for witnessed in witnessed_checkpoints():
        if twitness.origin_hash(witnessed.origin) == origin_hash:
            return witnessed
    raise WitnessedCheckpoint.DoesNotExist(origin_hash)


def witness_quorum() -> int | None:
    """Cosignatures that make a checkpoint anchored: the setting, or a majority of active peers.

    None when no peer is active: nothing can be anchored.
    """
    active = Peer.objects.filter(active=True).count()
    if not active:
        return None
    if settings.LEDGER_WITNESS_QUORUM is not None:
        return settings.LEDGER_WITNESS_QUORUM
    return active // 2 + 1


@dataclass(frozen=True)
class Anchoring:
    newest_size: int | None
    newest_cosignatures: int
    quorum: int | None
    anchored: bool
    anchored_size: int | None
    anchored_at: dt.datetime | None
    anchored_age: dt.timedelta | None
    peers: list


def anchoring_status() -> Anchoring:
    """Whether the newest checkpoint has a quorum of cosignatures, and the newest that has."""
    quorum = witness_quorum()
    newest = checkpoint_latest()
    count = Cosignature.objects.filter(tree_size=newest.tree_size).count() if newest else 0
    anchored = None
    if quorum is not None and quorum > 0:
        anchored = (
            Cosignature.objects.values("tree_size").annotate(n=Count("id")).filter(n__gte=quorum)
            .order_by("-tree_size").values_list("tree_size", flat=True).first()
        )
    anchored_checkpoint = Checkpoint.objects.filter(tree_size=anchored).first() if anchored is not None else None
    return Anchoring(
        newest_size=newest.tree_size if newest else None,
        newest_cosignatures=count,
        quorum=quorum,
        anchored=anchored is not None and newest is not None and anchored == newest.tree_size,
        anchored_size=anchored,
        anchored_at=anchored_checkpoint.created if anchored_checkpoint else None,
        anchored_age=timezone.now() - anchored_checkpoint.created if anchored_checkpoint else None,
        peers=list(Peer.objects.select_related("anchor").order_by("origin")),
    )
