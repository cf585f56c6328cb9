"""RFC 9162 §2.1 Merkle tree hashing, audit paths and consistency proofs.

Sizes and indexes are leaf counts and leaf positions; every hash is 32 bytes (SHA-256).
A "range" (start, end) names the leaves [start, end); its hash is the Merkle Tree Hash
(MTH) of exactly those leaves. A perfect subtree (level, index) is the range
[index * 2**level, (index + 1) * 2**level).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
NodeCallback = Callable[[int, int, bytes], None]
NodesCallback = Callable[[int, int, list[bytes]], None]  # (level, index of the first, hashes)


class ProofError(ValueError):
    """A proof, or the sizes, indexes or hashes given with it, do not verify."""


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(what: str, value: bytes) -> None:
    if not isinstance(value, (bytes, bytearray)):
        raise ProofError(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, want {HASH_SIZE}")


def _check_size(what: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, not {value!r}")


def combine_perfect(hashes: Sequence[bytes]) -> bytes:
    """Folds the hashes of a range's perfect subtrees (left to right) right-to-left into its MTH."""
    if not hashes:
        raise ValueError("combine_perfect needs at least one hash")
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = _sha256(b"\x01" + left + h).digest()
    return h


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves whose leaf hashes are given; SHA-256("") for none."""
    if not leaf_hashes:
        return EMPTY_ROOT
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


def subtree_ranges_for_inclusion(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), in proof order."""
    _check_size("size", size)
    _check_size("index", index)
    if index >= size:
        raise ProofError(f"index {index} is not below tree size {size}")
    ranges: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    # PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) : MTH(D[0:k]).
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m = start + k, m - k
    ranges.reverse()
    return ranges


def subtree_ranges_for_consistency(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1), in proof order."""
    _check_size("old size", old_size)
    _check_size("new size", new_size)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, b = 0, new_size, old_size, True
    # SUBPROOF(m, D[n], b): descend until m == n, collecting the sibling subtrees.
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, b = start + k, m - k, False
    if not b:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Splits a proof range into its perfect subtrees (level, index), left to right.

    combine_perfect() of their hashes is the range's MTH. Raises ValueError for a range
    that is no node of any RFC 9162 tree (start not aligned to the range's size).
    """
    _check_size("start", start)
    _check_size("end", end)
    if end <= start:
        raise ValueError(f"empty range [{start}, {end})")
    size = end - start
    top = 1 << (size.bit_length() - 1)
    # Each piece must be aligned to its own size; the first (largest) one sets the rule.
    if start % top:
        raise ValueError(f"range [{start}, {end}) is no subtree: start is not a multiple of {top}")
    result = []
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            result.append((level, pos >> level))
            pos += 1 << level
    return result


def _range_hash(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    return root_hash(leaf_hashes[start:end])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path for leaf `index` in the tree of all given leaves."""
    ranges = subtree_ranges_for_inclusion(index, len(leaf_hashes))
    return [_range_hash(leaf_hashes, s, e) for s, e in ranges]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) for the tree of all given leaves; empty for 0 or n."""
    ranges = subtree_ranges_for_consistency(old_size, len(leaf_hashes))
    return [_range_hash(leaf_hashes, s, e) for s, e in ranges]


def inclusion_proof_size(index: int, size: int) -> int:
    """How many hashes PATH(index, D[size]) has."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; returns None when `proof` shows leaf `index` is in the tree `root`."""
    _check_size("index", index)
    _check_size("tree size", tree_size)
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    if index >= tree_size:
        raise ProofError(f"index {index} is not below tree size {tree_size}")
    want = inclusion_proof_size(index, tree_size)
    if len(proof) != want:
        raise ProofError(
            f"inclusion proof for index {index} in tree size {tree_size} has {len(proof)} "
            f"hashes, want {want}"
        )
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)
    fn, sn, r = index, tree_size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if r != root:
        raise ProofError(
            f"inclusion proof for index {index} in tree size {tree_size} leads to root "
            f"{r.hex()}, not {bytes(root).hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; returns None when `proof` shows tree `old_root` is a prefix of `new_root`.

    The RFC algorithm covers 0 < old_size < new_size; as in RFC 6962 clients, old_size 0 is
    consistent with any tree and old_size == new_size needs equal roots, both with an empty proof.
    """
    _check_size("old size", old_size)
    _check_size("new size", new_size)
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError(
                f"consistency proof from size {old_size} to {new_size} must be empty, "
                f"has {len(proof)} hashes"
            )
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"roots differ for the same tree size {old_size}")
        return
    want = len(subtree_ranges_for_consistency(old_size, new_size))
    if len(proof) != want:
        raise ProofError(
            f"consistency proof from size {old_size} to {new_size} has {len(proof)} hashes, "
            f"want {want}"
        )
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)
    path = list(proof)
    # Step 2: an old tree that is a perfect subtree is not in the proof; its root starts it.
    if old_size & (old_size - 1) == 0:
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != old_root:
        raise ProofError(
            f"consistency proof leads to old root {fr.hex()}, not {bytes(old_root).hex()}"
        )
    if sr != new_root:
        raise ProofError(
            f"consistency proof leads to new root {sr.hex()}, not {bytes(new_root).hex()}"
        )


def tree_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect subtree hash of the tree: levels[L][i] covers leaves [i*2^L, (i+1)*2^L).

    Level by level, one list comprehension each: the fastest way to hash a whole tree in Python.
    """
    levels = [list(leaf_hashes)]
    current, sha = levels[0], _sha256
    while len(current) > 1:
        current = [sha(b"\x01" + current[i] + current[i + 1]).digest() for i in range(0, len(current) - 1, 2)]
        levels.append(current)
    return levels


def root_from_levels(levels: Sequence[Sequence[bytes]], size: int) -> bytes:
    """MTH of the first `size` leaves, from tree_levels() of at least that many leaves."""
    _check_size("size", size)
    if size == 0:
        return EMPTY_ROOT
    if size > len(levels[0]):
        raise ValueError(f"size {size} is beyond the {len(levels[0])} leaves")
    return combine_perfect([levels[level][index] for level, index in perfect_subtrees(0, size)])


class CompactRange:
    """The perfect subtrees covering leaves [0, size): O(log n) memory, append in O(1) amortised.

    `append` returns the perfect subtrees (level >= 1) it completed, as (level, index, hash).
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resumes a tree of `size` leaves from its perfect subtrees' hashes, left to right."""
        if len(hashes) != bin(size).count("1"):
            raise ValueError(
                f"a tree of {size} leaves has {bin(size).count('1')} perfect subtrees, "
                f"got {len(hashes)} hashes"
            )
        for h in hashes:
            _check_hash("subtree hash", h)
        compact = cls()
        compact._stack = list(hashes)
        compact.size = size
        return compact

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(leaf_hash)} bytes, want {HASH_SIZE}")
        done: list[tuple[int, int, bytes]] = []
        stack, size, h, level = self._stack, self.size, leaf_hash, 0
        n = size
        while n & 1:
            h = _sha256(b"\x01" + stack.pop() + h).digest()
            level += 1
            n >>= 1
            done.append((level, ((size + 1) >> level) - 1, h))
        stack.append(h)
        self.size = size + 1
        return done

    def extend(self, leaf_hashes: Iterable[bytes], on_node: NodeCallback | None = None) -> None:
        """Appends many leaf hashes (32 bytes each, unchecked: this is the audits' hot loop)."""
        stack, size = self._stack, self.size
        pop, push, sha = stack.pop, stack.append, _sha256
        if on_node is None:
            for h in leaf_hashes:
                n = size
                while n & 1:
                    h = sha(b"\x01" + pop() + h).digest()
                    n >>= 1
                push(h)
                size += 1
        else:
            for h in leaf_hashes:
                n, level = size, 0
                while n & 1:
                    h = sha(b"\x01" + pop() + h).digest()
                    level += 1
                    n >>= 1
                    on_node(level, ((size + 1) >> level) - 1, h)
                push(h)
                size += 1
        self.size = size

    def root(self) -> bytes:
        """MTH of leaves [0, size)."""
        if not self._stack:
            return EMPTY_ROOT
        return combine_perfect(self._stack)

    def subtrees(self) -> list[tuple[int, int, bytes]]:
        """The perfect subtrees (level, index, hash) covering [0, size), left to right."""
        result, pos = [], 0
        levels = [lv for lv in range(self.size.bit_length() - 1, -1, -1) if self.size >> lv & 1]
        for level, h in zip(levels, self._stack, strict=True):
            result.append((level, pos >> level, h))
            pos += 1 << level
        return result


class PagedRange:
    """A compact range grown a page of leaves at a time, level by level: each level of the page is
    one list comprehension over pairs (as in tree_levels), the carries between pages being the
    unpaired node at each level, i.e. the perfect subtrees covering [0, size).

    extend(leaf_hashes, on_nodes) gives on_nodes(level, first index, hashes) the perfect subtrees
    (level >= 1) each page completes, level by level, each level's in index order.
    """

    __slots__ = ("_carry", "size")

    def __init__(self) -> None:
        self._carry: list[bytes | None] = []  # _carry[L]: the node of 2^L leaves at the right end, if any
        self.size = 0

    def extend(self, leaf_hashes: Sequence[bytes], on_nodes: NodesCallback | None = None) -> None:
        carry, size, sha = self._carry, self.size, _sha256
        current, level = list(leaf_hashes), 0
        self.size = size + len(current)
        while current:
            if level == len(carry):
                carry.append(None)
            if carry[level] is not None:
                current.insert(0, carry[level])
            odd = len(current) & 1
            carry[level] = current[-1] if odd else None
            level += 1
            current = [sha(b"\x01" + current[i] + current[i + 1]).digest() for i in range(0, len(current) - 1, 2)]
            if current and on_nodes is not None:
                on_nodes(level, size >> level, current)

    def root(self) -> bytes:
        """MTH of leaves [0, size)."""
        nodes = [h for h in reversed(self._carry) if h is not None]
        return combine_perfect(nodes) if nodes else EMPTY_ROOT
