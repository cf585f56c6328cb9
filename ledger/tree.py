"""The stored Merkle tree: leaves are entries' leaf hashes, inner perfect subtrees are TreeNodes."""
from __future__ import annotations

from ledger.models import Entry, TreeNode
from ledger.tlog.merkle import combine_perfect, perfect_subtrees


def subtree_hashes(nodes) -> dict[tuple[int, int], bytes]:
    """Hashes of perfect subtrees `(level, index)`: two queries, whatever their number."""
    leaves = [index for level, index in nodes if level == 0]
    inner = {TreeNode.key(level, index): (level, index) for level, index in nodes if level > 0}
    found = {}
    if leaves:
        for index, leaf in Entry.objects.filter(leaf_index__in=leaves).values_list("leaf_index", "leaf_hash"):
            found[(0, index)] = bytes(leaf)
    if inner:
        for key, value in TreeNode.objects.filter(pk__in=list(inner)).values_list("pk", "hash"):
            found[inner[key]] = bytes(value)
    missing = [node for node in nodes if node not in found]
    if missing:
        raise LookupError(f"stored tree lacks nodes {missing[:5]}")
    return found


def range_hashes(ranges) -> list[bytes]:
    """Merkle hashes of leaf ranges `(start, end)` that proofs use, in the order given."""
    parts = [perfect_subtrees(start, end) for start, end in ranges]
    hashes = subtree_hashes({node for part in parts for node in part})
    return [combine_perfect([hashes[node] for node in part]) for part in parts]
