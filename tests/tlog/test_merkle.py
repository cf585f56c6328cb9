"""RFC 9162 §2.1 tree, proofs and verification, against published vectors and a naive reference."""
from __future__ import annotations

import hashlib
import json
import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog.merkle import (
    EMPTY_ROOT,
    CompactRange,
    PagedRange,
    ProofError,
    combine_perfect,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    root_hash,
    subtree_ranges_for_consistency,
    subtree_ranges_for_inclusion,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "merkle_rfc6962.json").read_text())
MAX_SIZE = 300


# -- naive reference, straight from RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 -------------------------

def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


DATA = [b"leaf %d" % i for i in range(MAX_SIZE + 1)]


@cache
def MTH(start: int, end: int) -> bytes:  # noqa: N802 - the RFC's name
    """MTH(D[start:end])."""
    n = end - start
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + DATA[start]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + MTH(start, start + k) + MTH(start + k, end)).digest()


def PATH(m: int, start: int, end: int) -> list[bytes]:  # noqa: N802
    n = end - start
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return PATH(m, start, start + k) + [MTH(start + k, end)]
    return PATH(m - k, start + k, end) + [MTH(start, start + k)]


def SUBPROOF(m: int, start: int, end: int, b: bool) -> list[bytes]:  # noqa: N802
    n = end - start
    if m == n:
        return [] if b else [MTH(start, end)]
    k = _k(n)
    if m <= k:
        return SUBPROOF(m, start, start + k, b) + [MTH(start + k, end)]
    return SUBPROOF(m - k, start + k, end, False) + [MTH(start, start + k)]


def PROOF(m: int, n: int) -> list[bytes]:  # noqa: N802
    return SUBPROOF(m, 0, n, True)


LEAVES = [leaf_hash(d) for d in DATA]


@cache
def our_range_hash(start: int, end: int) -> bytes:
    return root_hash(LEAVES[start:end])


def our_inclusion(m: int, n: int) -> list[bytes]:
    return [our_range_hash(s, e) for s, e in subtree_ranges_for_inclusion(m, n)]


def our_consistency(m: int, n: int) -> list[bytes]:
    return [our_range_hash(s, e) for s, e in subtree_ranges_for_consistency(m, n)]


def flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


# -- published vectors ------------------------------------------------------------------------

VLEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
VROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]


def test_vector_hashes() -> None:
    assert root_hash([]) == EMPTY_ROOT == bytes.fromhex(VECTORS["empty_root"])
    for size in range(1, 9):
        assert root_hash(VLEAVES[:size]) == VROOTS[size - 1]
    assert node_hash(VLEAVES[0], VLEAVES[1]) == VROOTS[1]


@pytest.mark.parametrize("vec", VECTORS["inclusion"], ids=lambda v: f"{v['leaf']}-{v['size']}")
def test_vector_inclusion(vec: dict) -> None:
    index, size = vec["leaf"] - 1, vec["size"]
    proof = [bytes.fromhex(x) for x in vec["proof"]]
    assert inclusion_proof(VLEAVES[:size], index) == proof
    root, leaf = VROOTS[size - 1], VLEAVES[index]
    verify_inclusion(leaf, index, size, proof, root)
    # The corruptions of transparency-dev/merkle's verifierCheck.
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    probes = [
        (index - 1, size, leaf, proof, root), (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root), (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root), (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, proof, some), (index, size, leaf, [*proof, root], root),
        (index, size, leaf, [root, *proof], root), (index, size, EMPTY_ROOT, proof, root),
    ]
    if proof:
        probes.append((index, size, leaf, proof[:-1], root))
    if len(proof) > 1:
        probes.append((index, size, leaf, [proof[0], some, *proof[1:]], root))
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = flip(bad[i], 3)
        probes.append((index, size, leaf, bad, root))
    for i, s, lf, p, r in probes:
        if i < 0:
            continue
        with pytest.raises(ProofError):
            verify_inclusion(lf, i, s, p, r)


@pytest.mark.parametrize("vec", VECTORS["consistency"], ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_vector_consistency(vec: dict) -> None:
    old, new = vec["size1"], vec["size2"]
    proof = [bytes.fromhex(x) for x in vec["proof"]]
    assert consistency_proof(VLEAVES[:new], old) == proof
    r1, r2 = VROOTS[old - 1], VROOTS[new - 1]
    verify_consistency(old, new, r1, r2, proof)
    if not proof:
        return
    probes = [
        (old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof), (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof), (old, new, EMPTY_ROOT, r2, proof),
        (old, new, r1, EMPTY_ROOT, proof), (old, new, r2, r1, proof), (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, r1]), (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [r1, *proof]), (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]), (old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = flip(bad[i], 4)
        probes.append((old, new, r1, r2, bad))
    for o, n, a, b, p in probes:
        if o < 0 or o > n:
            continue
        with pytest.raises(ProofError):
            verify_consistency(o, n, a, b, p)


# -- every size up to MAX_SIZE against the reference -------------------------------------------

def test_roots_every_size() -> None:
    compact = CompactRange()
    assert compact.root() == MTH(0, 0)
    for n in range(1, MAX_SIZE + 1):
        compact.append(LEAVES[n - 1])
        assert compact.root() == MTH(0, n) == root_hash(LEAVES[:n]), n


def test_every_inclusion_proof() -> None:
    for n in range(1, MAX_SIZE + 1):
        root = MTH(0, n)
        for m in range(n):
            proof = our_inclusion(m, n)
            assert proof == PATH(m, 0, n), (m, n)
            verify_inclusion(LEAVES[m], m, n, proof, root)


def test_every_consistency_proof() -> None:
    for n in range(0, MAX_SIZE + 1):
        for m in range(0, n + 1):
            proof = our_consistency(m, n)
            want = [] if m in (0, n) else PROOF(m, n)
            assert proof == want, (m, n)
            verify_consistency(m, n, MTH(0, m), MTH(0, n), proof)


def test_proof_builders_match_ranges() -> None:
    for n in (1, 2, 7, 8, 33, 100):
        for m in range(n):
            assert inclusion_proof(LEAVES[:n], m) == PATH(m, 0, n)
        for m in range(n + 1):
            want = [] if m in (0, n) else PROOF(m, n)
            assert consistency_proof(LEAVES[:n], m) == want


def test_every_bit_flip_small_trees() -> None:
    for n in range(1, 17):
        root = MTH(0, n)
        for m in range(n):
            proof = our_inclusion(m, n)
            for i in range(len(proof)):
                for bit in range(256):
                    bad = list(proof)
                    bad[i] = flip(bad[i], bit)
                    with pytest.raises(ProofError):
                        verify_inclusion(LEAVES[m], m, n, bad, root)
            for bit in range(256):
                with pytest.raises(ProofError):
                    verify_inclusion(LEAVES[m], m, n, proof, flip(root, bit))
                with pytest.raises(ProofError):
                    verify_inclusion(flip(LEAVES[m], bit), m, n, proof, root)
        for m in range(1, n):
            proof = our_consistency(m, n)
            old, new = MTH(0, m), MTH(0, n)
            for i in range(len(proof)):
                for bit in range(256):
                    bad = list(proof)
                    bad[i] = flip(bad[i], bit)
                    with pytest.raises(ProofError):
                        verify_consistency(m, n, old, new, bad)
            for bit in range(256):
                with pytest.raises(ProofError):
                    verify_consistency(m, n, flip(old, bit), new, proof)
                with pytest.raises(ProofError):
                    verify_consistency(m, n, old, flip(new, bit), proof)


def test_changed_index_or_size_small_trees() -> None:
    """transparency-dev/merkle's index and size corruptions, for every proof up to size 64."""
    for n in range(1, 65):
        root = MTH(0, n)
        for m in range(n):
            proof = our_inclusion(m, n)
            for i, s in ((m - 1, n), (m + 1, n), (m ^ 2, n), (m, n * 2), (m, n // 2)):
                if i < 0 or (i, s) == (m, n):
                    continue
                with pytest.raises(ProofError):
                    verify_inclusion(LEAVES[m], i, s, proof, root)
        for m in range(1, n):
            proof = our_consistency(m, n)
            old, new = MTH(0, m), MTH(0, n)
            for o, s in ((m - 1, n), (m + 1, n), (m ^ 2, n), (m, n * 2), (m, n // 2)):
                if (o, s) == (m, n) or o < 0:
                    continue
                with pytest.raises(ProofError):
                    verify_consistency(o, s, old, new, proof)


@settings(max_examples=300, deadline=None, database=None)
@given(st.data())
def test_bit_flips_sampled(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, MAX_SIZE), label="size")
    m = data.draw(st.integers(0, n - 1), label="index")
    bit = data.draw(st.integers(0, 255), label="bit")
    proof = our_inclusion(m, n)
    i = data.draw(st.integers(0, len(proof) - 1), label="element")
    bad = list(proof)
    bad[i] = flip(bad[i], bit)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[m], m, n, bad, MTH(0, n))
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[m], m, n, proof, flip(MTH(0, n), bit))
    old = data.draw(st.integers(1, n - 1), label="old size")
    cproof = our_consistency(old, n)
    j = data.draw(st.integers(0, len(cproof) - 1), label="consistency element")
    bad = list(cproof)
    bad[j] = flip(bad[j], bit)
    with pytest.raises(ProofError):
        verify_consistency(old, n, MTH(0, old), MTH(0, n), bad)
    with pytest.raises(ProofError):
        verify_consistency(old, n, flip(MTH(0, old), bit), MTH(0, n), cproof)


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(1, MAX_SIZE), st.integers(0, MAX_SIZE))
def test_ranges_decompose_into_perfect_subtrees(n: int, m: int) -> None:
    m = m % n
    ranges = subtree_ranges_for_inclusion(m, n) + subtree_ranges_for_consistency(m, n)
    for start, end in ranges:
        parts = perfect_subtrees(start, end)
        covered = []
        for level, index in parts:
            covered += range(index << level, (index + 1) << level)
        assert covered == list(range(start, end))
        hashes = [MTH(index << level, (index + 1) << level) for level, index in parts]
        assert combine_perfect(hashes) == MTH(start, end)


# -- precise rejections of malformed input ----------------------------------------------------

def test_precise_errors() -> None:
    root, leaf = MTH(0, 5), LEAVES[2]
    proof = our_inclusion(2, 5)
    with pytest.raises(ProofError, match="not below tree size"):
        verify_inclusion(leaf, 5, 5, proof, root)
    with pytest.raises(ProofError, match="has 2 hashes, want 3"):
        verify_inclusion(leaf, 2, 5, proof[:2], root)
    with pytest.raises(ProofError, match=r"proof\[1\] is 31 bytes"):
        verify_inclusion(leaf, 2, 5, [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(ProofError, match="root is 33 bytes"):
        verify_inclusion(leaf, 2, 5, proof, root + b"x")
    with pytest.raises(ProofError, match="leaf hash is 0 bytes"):
        verify_inclusion(b"", 2, 5, proof, root)
    with pytest.raises(ProofError, match="leads to root"):
        verify_inclusion(LEAVES[3], 2, 5, proof, root)
    with pytest.raises(ProofError, match="larger than new size"):
        verify_consistency(6, 5, root, root, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(0, 5, EMPTY_ROOT, root, [root])
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(5, 5, MTH(0, 4), root, [])
    with pytest.raises(ProofError, match="non-negative"):
        verify_inclusion(leaf, -1, 5, proof, root)
    with pytest.raises(ProofError):
        subtree_ranges_for_inclusion(3, 3)
    with pytest.raises(ValueError, match="not aligned|not a multiple"):
        perfect_subtrees(1, 3)
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 7, b"\x07" * 32, MTH(0, 7), [])


def test_compact_range_nodes() -> None:
    """append() reports each perfect subtree as it completes, with the right (level, index)."""
    compact, seen = CompactRange(), {}
    for i in range(100):
        for level, index, h in compact.append(LEAVES[i]):
            assert (level, index) not in seen
            seen[(level, index)] = h
    want = {(lv, ix): MTH(ix << lv, (ix + 1) << lv)
            for lv in range(1, 7) for ix in range(100 >> lv)}
    assert seen == want
    other, via_extend = CompactRange(), {}
    other.extend(LEAVES[:60], lambda lv, ix, h: via_extend.__setitem__((lv, ix), h))
    other.extend(LEAVES[60:100], lambda lv, ix, h: via_extend.__setitem__((lv, ix), h))
    assert via_extend == want and other.root() == compact.root() == MTH(0, 100)
    assert [(lv, ix) for lv, ix, _ in compact.subtrees()] == [(6, 0), (5, 2), (2, 24)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=8))
def test_paged_range_against_the_reference(pages: list[int]) -> None:
    """Pages of any sizes: after each, the root is MTH of the leaves so far, and every perfect
    subtree is reported exactly once, as it completes, with its (level, index)."""
    paged, seen, size = PagedRange(), {}, 0

    def on_nodes(level: int, first: int, hashes: list[bytes]) -> None:
        for k, h in enumerate(hashes):
            assert (level, first + k) not in seen and (first + k + 1) << level <= size
            seen[(level, first + k)] = h

    for n in pages:
        n = min(n, MAX_SIZE - size)
        size += n
        paged.extend(LEAVES[size - n:size], on_nodes)
        assert paged.size == size and paged.root() == (MTH(0, size) if size else EMPTY_ROOT)
    assert seen == {(lv, ix): MTH(ix << lv, (ix + 1) << lv)
                    for lv in range(1, size.bit_length()) for ix in range(size >> lv)}


def test_root_hash_large_random() -> None:
    rng = random.Random(7)
    leaves = [rng.randbytes(32) for _ in range(5000)]

    def ref(hs: list[bytes]) -> bytes:
        if len(hs) == 1:
            return hs[0]
        k = _k(len(hs))
        return node_hash(ref(hs[:k]), ref(hs[k:]))

    assert root_hash(leaves) == ref(leaves)


def test_tree_levels_give_every_perfect_subtree_and_every_prefix_root():
    from ledger.tlog.merkle import root_from_levels, tree_levels

    for n in (1, 2, 3, 5, 8, 13, 64, 100, MAX_SIZE):
        levels = tree_levels([hashlib.sha256(b"\x00" + DATA[i]).digest() for i in range(n)])
        for level, nodes in enumerate(levels):
            assert len(nodes) == n >> level
            for index, node in enumerate(nodes):
                assert node == MTH(index << level, (index + 1) << level)
        for size in range(n + 1):
            assert root_from_levels(levels, size) == MTH(0, size)
