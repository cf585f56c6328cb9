"""Offline verification of a Gongxin ledger: the one place its checks are written down.

    python -m ledger.tlog.audit EXPORT.jsonl --key VERIFIER_KEY [--key OLD_KEY ...]

exits 0 when everything verifies, 1 printing each finding as "KIND at WHERE: message",
2 for bad arguments. Export format (JSON Lines, UTF-8), first line
    {"format":"gongxin-ledger-export","v":1,"origin":ORIGIN,"tree_size":N}
then, in any order:
    {"type":"entry","index":i,"data":B64,"leaf_hash":B64}
    {"type":"block","height":h,"first_index":..,"count":..,"batch_root":B64,"prev_hash":B64,
     "tree_size":..,"tree_root":B64,"time":"...","key_hash":"8 hex","signature":B64}
    {"type":"checkpoint","note":"...full signed note..."}
B64 is standard base64 with padding. The Django `verify_ledger` command feeds the same
Auditor from the database.

Trust: the --key keys are the only ones trusted from the start. Another key is trusted from the
block after the one that announced it: an entry of kind "ledger.ledgerkey" (op create or update,
`public.verifier_key`, `public.active` true) sealed in a block signed by an already trusted key;
an entry with `public.active` false retires that key for the blocks after its own. Blocks and
checkpoints signed by any other key are findings, whatever keys the export itself lists.
"""
from __future__ import annotations

import argparse
import binascii
import bisect
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any, NamedTuple

from .block import (
    FIRST_HEIGHT,
    GENESIS_PREV_HASH,
    BlockError,
    block_hash,
    block_header,
    verify_block,
)
from .canonical import non_canonical
from .checkpoint import CheckpointError, parse_checkpoint
from .merkle import HASH_SIZE, NodesCallback, PagedRange
from .note import NoteError, Verifier, open_note, parse_note

EXPORT_FORMAT = "gongxin-ledger-export"
KEY_KIND = "ledger.ledgerkey"  # the entries that announce (and retire) signing keys
KEY_KIND_MARK = b'"kind":"ledger.ledgerkey"'
EXPORT_VERSION = 1
PROGRESS_EVERY = 100_000
_CHUNK = 8192
_PARALLEL_FROM = 50_000  # below this, starting worker processes costs more than it saves


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds; elsewhere spawn re-imports only ledger.tlog.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _yield_to_feeder() -> None:
    """Lowers a worker's priority: the process feeding it entries is the one to keep running."""
    if hasattr(os, "nice"):
        os.nice(10)


class _CanonicalChecks:
    """non_canonical() of every entry's bytes, in chunks: once there are many, in worker processes
    while the caller still adds entries. Memory stays bounded: no more than two chunks per worker
    wait for one, and when the workers are behind, the caller checks the next chunk itself."""

    def __init__(self, workers: int | None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.parallel = self.workers > 1
        self.pool: ProcessPoolExecutor | None = None
        self.indexes: list[int] = []  # the chunk being filled
        self.datas: list[bytes] = []
        self.held: list[tuple[list[int], list[bytes]]] = []  # full chunks from before the workers start
        self.queued: deque[tuple[list[int], list[bytes], Future]] = deque()
        self.found: list[Finding] = []
        self.seen = 0

    def add(self, indexes: Sequence[int], datas: Sequence[bytes]) -> None:
        self.indexes.extend(indexes)
        self.datas.extend(datas)
        self.seen += len(datas)
        while len(self.datas) >= _CHUNK:
            chunk = self.indexes[:_CHUNK], self.datas[:_CHUNK]
            del self.indexes[:_CHUNK], self.datas[:_CHUNK]
            self._send(*chunk)

    def _send(self, indexes: list[int], datas: list[bytes]) -> None:
        if not self.parallel:
            return self._check_here(indexes, datas)
        if self.pool is None:
            self.held.append((indexes, datas))
            if self.seen < _PARALLEL_FROM:
                return None
            try:
                self.pool = ProcessPoolExecutor(
                    self.workers, mp_context=_mp_context(), initializer=_yield_to_feeder)
            except (OSError, NotImplementedError, ValueError, RuntimeError):
                self.parallel = False  # no processes here (e.g. a sandbox): check everything here
                for held in self.held:
                    self._check_here(*held)
                self.held = []
                return None
            held, self.held = self.held, []
            for chunk in held:
                self._submit(*chunk)
            return None
        return self._submit(indexes, datas)

    def _submit(self, indexes: list[int], datas: list[bytes]) -> None:
        while self.queued and self.queued[0][2].done():
            self._collect(*self.queued.popleft())
        if len(self.queued) >= 2 * self.workers:
            self._check_here(indexes, datas)
            return
        try:
            future = self.pool.submit(non_canonical, datas)
        except (BrokenExecutor, RuntimeError):
            self._check_here(indexes, datas)
            return
        self.queued.append((indexes, datas, future))

    def _check_here(self, indexes: list[int], datas: list[bytes]) -> None:
        self._found(indexes, non_canonical(datas))

    def _collect(self, indexes: list[int], datas: list[bytes], future: Future) -> None:
        try:
            self._found(indexes, future.result())
        except BrokenExecutor:  # a worker died (e.g. out of memory): redo it here
            self._check_here(indexes, datas)

    def _found(self, indexes: list[int], bad: list[tuple[int, str]]) -> None:
        self.found.extend(Finding("entry-not-canonical", f"entry {indexes[j]}", why) for j, why in bad)

    def results(self) -> list[Finding]:
        """Every entry-not-canonical finding, by index: the rest is checked here, from the chunks
        the workers would reach last, while they finish theirs."""
        try:
            for held in self.held:
                self._check_here(*held)
            self.held = []
            self._check_here(self.indexes, self.datas)
            self.indexes, self.datas = [], []
            for indexes, datas, future in reversed(self.queued):
                if future.cancel():
                    self._check_here(indexes, datas)
            for chunk in self.queued:
                if not chunk[2].cancelled():
                    self._collect(*chunk)
            self.queued.clear()
        finally:
            self.close()
        return sorted(self.found, key=lambda f: int(f.where.split()[1]))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


KINDS = (
    "export-format",  # a line of the export file is not in the export format
    "entry-format",  # an entry's index, data or leaf hash has the wrong type
    "entry-missing",  # an index gap, or fewer entries than the tree size
    "entry-duplicate",  # two entries with one index
    "entry-not-canonical",  # entry bytes are not canonical JSON
    "leaf-hash",  # stored leaf hash != SHA-256(0x00 || data)
    "block-format",  # a block's fields have the wrong type or length
    "block-duplicate",  # two blocks with one height
    "block-missing",  # a height gap, or sealed entries in no block
    "block-range",  # first_index/count/tree_size not contiguous with the previous block
    "block-batch-root",  # batch_root != MTH of the block's own leaves
    "block-tree-root",  # tree_root != MTH of the first tree_size leaves
    "block-chain",  # prev_hash != hash of the previous block's header
    "block-signature",  # signature bad, or by a key neither given nor announced by a trusted block
    "checkpoint-signature",  # no trusted key verifies the note, or a bad signature by one
    "checkpoint-format",  # the note text is no C2SP checkpoint
    "checkpoint-origin",  # the checkpoint is of another log
    "checkpoint-size",  # size beyond the known entries
    "checkpoint-root",  # root != the tree's root at that size
)


class Finding(NamedTuple):
    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.message}"


class _Block(NamedTuple):
    height: int
    first_index: int
    count: int
    batch_root: bytes
    prev_hash: bytes
    tree_size: int
    tree_root: bytes
    time: str
    key_hash: int
    signature: bytes


_ENTRY_HEAD = b'{"type":"entry","index":'


def _fast_entry(line: bytes) -> tuple[int, bytes, bytes] | None:
    """(index, data, leaf hash) of an entry line in the documented key order, else None.

    Plain byte searches instead of the JSON parser: the base64 checks reject any quote or
    escape, so a match parses exactly as JSON would.
    """
    if not line.startswith(_ENTRY_HEAD):
        return None
    i = line.find(b',"data":"', 24)
    j = line.find(b'","leaf_hash":"', i)
    k = line.find(b'"}', j)
    if i < 0 or j < 0 or k < 0 or line[k:] not in (b'"}\n', b'"}', b'"}\r\n'):
        return None
    index = line[24:i]
    if not index.isdigit() or (index[0] == 48 and len(index) > 1) or len(index) > 18:
        return None
    try:
        data = binascii.a2b_base64(line[i + 9 : j], strict_mode=True)
        stored = binascii.a2b_base64(line[j + 15 : k], strict_mode=True)
    except binascii.Error:
        return None
    return int(index), data, stored


def _b64(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if not isinstance(value, str):
        raise ValueError(f"want bytes or base64 text, not {type(value).__name__}")
    try:
        return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not base64: {exc}") from None


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

class _TreeStream:
    """The Merkle tree of the entries' leaf hashes as they arrive in index order, kept as a compact
    range (O(log n) memory): the root at each wanted size, the root of each wanted range (the
    blocks' batches) and every perfect subtree (level >= 1) to on_nodes, as they complete."""

    def __init__(self, sizes: Iterable[int], ranges: Iterable[tuple[int, int]],
                 on_nodes: NodesCallback | None, on_root: Callable[[int, bytes], None] | None) -> None:
        self.compact = PagedRange()
        self.sizes = sorted(set(sizes), reverse=True)  # still to reach, the next one last
        self.ranges = sorted({(first, end) for first, end in ranges if first < end}, reverse=True)
        self.open: list[tuple[int, int, PagedRange]] = []
        self.on_nodes, self.on_root = on_nodes, on_root
        self.roots: dict[int, bytes] = {}
        self.batch_roots: dict[tuple[int, int], bytes] = {}
        self._reached(0)

    def extend(self, leaves: list[bytes]) -> None:
        base = self.compact.size
        top = base + len(leaves)
        self._batches(leaves, base, top)
        pos = 0
        while self.sizes and self.sizes[-1] <= top:
            size = self.sizes[-1]
            self.compact.extend(leaves[pos : size - base], self.on_nodes)
            pos = size - base
            self._reached(size)
        self.compact.extend(leaves[pos:] if pos else leaves, self.on_nodes)

    def _reached(self, size: int) -> None:
        while self.sizes and self.sizes[-1] <= size:
            if self.sizes.pop() == size:
                self.roots[size] = root = self.compact.root()
                if self.on_root is not None:
                    self.on_root(size, root)

    def _batches(self, leaves: list[bytes], base: int, top: int) -> None:
        while self.ranges and self.ranges[-1][0] < top:
            first, end = self.ranges.pop()  # first >= base: the earlier pages popped the ranges below
            self.open.append((first, end, PagedRange()))
        still_open = []
        for first, end, batch in self.open:
            batch.extend(leaves[max(first, base) - base : min(end, top) - base])
            if end <= top:
                self.batch_roots[first, end] = batch.root()
            else:
                still_open.append((first, end, batch))
        self.open = still_open


class OutOfOrder(ValueError):
    """An entry given to an in_order Auditor at or below the index of the entry before it."""


class Auditor:
    """Checks a ledger's entries, blocks and checkpoints; finish() returns every finding.

    By default it takes them in any order and keeps the entries until finish(). With in_order=True
    the blocks and checkpoints come first, then the entries in increasing index order (gaps
    allowed: a damaged log has them); each page of entries is then checked as it arrives and
    dropped, so memory stays flat however long the log. An entry at or below the one before raises
    OutOfOrder, a block or checkpoint after the first entry RuntimeError.

    add_block takes the export line's dict: hash fields and signature as bytes or base64 text,
    key_hash as "8 hex" text or int. on_nodes(level, first index, hashes) sees every perfect
    subtree (level >= 1) of the gapless prefix of entries, each level's in index order; on_root(size,
    root) sees the root at each size a block, checkpoint or `root_sizes` names, in increasing
    order, and `roots` holds them all after finish(). Canonical JSON checks (the costly part:
    parse and re-encode) run in `workers` processes (default: one per CPU) while entries are still
    being added, once there are many; close() stops them if the audit is given up before
    finish(). check_canonical=False skips them, e.g. for a quick re-check of hashes and signatures.
    """

    def __init__(
        self,
        origin: str,
        verifier_keys: Sequence[str],
        *,
        tree_size: int | None = None,
        on_nodes: NodesCallback | None = None,
        on_root: Callable[[int, bytes], None] | None = None,
        root_sizes: Iterable[int] = (),
        progress: Callable[[str], None] | None = None,
        workers: int | None = None,
        check_canonical: bool = True,
        in_order: bool = False,
    ) -> None:
        if isinstance(verifier_keys, str):
            verifier_keys = [verifier_keys]
        self.origin = origin
        # The same key given twice would make notes' key lookups ambiguous.
        self.verifiers = [Verifier(k) for k in dict.fromkeys(verifier_keys)]  # NoteError if bad
        self.tree_size = tree_size
        self.on_nodes, self.on_root, self.progress = on_nodes, on_root, progress
        self.root_sizes = set(root_sizes)
        self.in_order = in_order
        self.roots: dict[int, bytes] = {}
        self.known = 0  # one past the highest entry index taken
        self.prefix = 0  # entries 0..prefix-1 are all there: the tree is theirs
        self._findings: list[Finding] = []
        self._pending: list[tuple[int, bytes, bytes | None]] = []  # entries kept until finish()
        self._blocks: list[_Block] = []
        self._notes: list[str] = []
        self._checks = _CanonicalChecks(workers) if check_canonical else None
        self._tree: _TreeStream | None = None
        self._gaps: list[tuple[int, int]] = []
        self._leaf_findings: list[Finding] = []
        self._key_entries: dict[int, bytes] = {}  # the entries of the prefix that may announce keys
        # After finish(): every key trusted for some blocks (the given ones and the announced ones).
        self.trusted: list[Verifier] = list(self.verifiers)
        self._ever_trusted: list[Verifier] = []

    # -- input ------------------------------------------------------------------------------

    def report(self, kind: str, where: str, message: str) -> None:
        """Adds a finding made outside the Auditor, e.g. an unreadable export line."""
        self._findings.append(Finding(kind, where, message))

    def add_entry(self, index: int, data: bytes, leaf_hash: bytes | None = None) -> None:
        if not _is_index(index) or not isinstance(data, bytes) or not (
            leaf_hash is None or isinstance(leaf_hash, bytes)
        ):
            self.report(
                "entry-format", f"entry {index!r}", "index, data or leaf hash has a bad type")
            return
        self._add([index], [data], [leaf_hash])

    def add_entries(
        self, indexes: Sequence[int], datas: Sequence[bytes], leaf_hashes: Sequence[bytes | None]
    ) -> None:
        """Bulk add_entry, for callers that read entries in pages: one type check per list."""
        indexes, datas, leaf_hashes = list(indexes), list(datas), list(leaf_hashes)
        well_typed = (  # (sets of the types: one C loop each)
            len(indexes) == len(datas) == len(leaf_hashes)
            and set(map(type, indexes)) <= {int} and (not indexes or min(indexes) >= 0)
            and set(map(type, datas)) <= {bytes}
            and set(map(type, leaf_hashes)) <= {bytes, type(None)}
        )
        if not well_typed:
            for index, data, lh in zip(indexes, datas, leaf_hashes, strict=True):
                self.add_entry(index, data, lh)
            return
        if indexes:
            self._add(indexes, datas, leaf_hashes)

    def _add(self, indexes: list[int], datas: list[bytes], leaf_hashes: list[bytes | None]) -> None:
        if not self.in_order:
            self._pending.extend(zip(indexes, datas, leaf_hashes, strict=True))
        elif indexes != list(range(self.known, self.known + len(indexes))) and not all(
            a < b for a, b in zip([self.known - 1, *indexes], indexes, strict=False)
        ):
            raise OutOfOrder(f"entry {indexes[0]} after entry {self.known - 1}: entries out of index order")
        if self._checks is not None:
            self._checks.add(indexes, datas)
        if self.in_order:
            if self._tree is None:
                self._start_tree()
            self._take(indexes, datas, leaf_hashes)

    def add_block(self, block: dict[str, Any]) -> None:
        self._before_entries()
        where = f"block {block.get('height')!r}"
        try:
            ints = [block[k] for k in ("height", "first_index", "count", "tree_size")]
            if not all(_is_index(v) for v in ints):
                raise ValueError("height, first_index, count and tree_size must be integers >= 0")
            hashes = [_b64(block[k]) for k in ("batch_root", "prev_hash", "tree_root")]
            if any(len(h) != HASH_SIZE for h in hashes):
                raise ValueError(f"batch_root, prev_hash and tree_root must be {HASH_SIZE} bytes")
            key_hash = block["key_hash"]
            if isinstance(key_hash, str):
                if len(key_hash) != 8:
                    raise ValueError("key_hash must be 8 hex digits")
                key_hash = int(key_hash, 16)
            if not _is_index(key_hash) or key_hash >= 2**32:
                raise ValueError("key_hash must be a uint32")
            if not isinstance(block["time"], str):
                raise ValueError("time must be a string")
            signature = _b64(block["signature"])
        except KeyError as exc:
            self.report("block-format", where, f"field {exc.args[0]} is missing")
            return
        except ValueError as exc:
            self.report("block-format", where, str(exc))
            return
        height, first_index, count, tree_size = ints
        batch_root, prev_hash, tree_root = hashes
        self._blocks.append(
            _Block(height, first_index, count, batch_root, prev_hash, tree_size, tree_root,
                   block["time"], key_hash, signature)
        )

    def add_checkpoint(self, note: str) -> None:
        self._before_entries()
        self._notes.append(note)

    def _before_entries(self) -> None:
        if self._tree is not None:
            raise RuntimeError("an in_order Auditor takes the blocks and checkpoints before the entries")

    # -- verification -----------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def _start_tree(self) -> None:
        """The tree of the entries to come: the sizes and ranges to take roots of are now known."""
        sizes = {*self.root_sizes, *(b.tree_size for b in self._blocks), *self._checkpoint_sizes()}
        ranges = [(b.first_index, b.first_index + b.count) for b in self._blocks]
        self._tree = _TreeStream(sizes, ranges, self.on_nodes, self.on_root)

    def _checkpoint_sizes(self) -> Iterator[int]:
        """The sizes the checkpoints name, signed or not (finish() checks the signatures)."""
        for note in self._notes:
            try:
                yield parse_checkpoint(parse_note(note)[0]).size
            except (NoteError, CheckpointError):
                continue

    def _take(self, indexes: list[int], datas: list[bytes], stored: list[bytes | None]) -> None:
        """Checks a page of entries whose indexes increase, all above the ones taken before."""
        sha = hashlib.sha256
        hashes = [sha(b"\x00" + d).digest() for d in datas]
        if stored != hashes:
            for index, want, have in zip(indexes, hashes, stored, strict=True):
                if have is not None and have != want:
                    self._leaf_findings.append(Finding(
                        "leaf-hash", f"entry {index}",
                        f"stored leaf hash {have.hex()} is not SHA-256(0x00 || data) {want.hex()}"))
        first, n = indexes[0], len(indexes)
        gapless = indexes[-1] - first == n - 1  # increasing, so exactly first..first+n-1
        if self.prefix == self.known:  # no gap yet: the leading run of this page grows the tree
            if first != self.known:
                run = 0
            elif gapless:
                run = n
            else:
                run = bisect.bisect_left(range(n), True, key=lambda k: indexes[k] != first + k)
            self._tree.extend(hashes if run == n else hashes[:run])
            self.prefix += run
            for k in range(run):
                if KEY_KIND_MARK in datas[k]:  # cheaper than parsing each entry
                    self._key_entries[indexes[k]] = datas[k]
        if first > self.known:
            self._gaps.append((self.known, first - 1))
        if not gapless:
            self._gaps.extend((a + 1, b - 1) for a, b in zip(indexes, indexes[1:], strict=False) if b > a + 1)
        before, self.known = self.known, indexes[-1] + 1
        if before // PROGRESS_EVERY != self.known // PROGRESS_EVERY:
            self._say(f"hashed entries up to {self.known}")

    def _take_pending(self, findings: list[Finding]) -> None:
        """The entries kept until now, in index order (the first added of an index is the one used)."""
        pending, self._pending = sorted(self._pending, key=lambda e: e[0]), []
        self._start_tree()
        page: tuple[list[int], list[bytes], list[bytes | None]] = ([], [], [])
        last, last_data = -1, b""
        for index, data, stored in pending:
            if index == last:
                same = "the same" if data == last_data else "different"
                findings.append(Finding(
                    "entry-duplicate", f"entry {index}",
                    f"index appears more than once, with {same} data; the first is used"))
                continue
            last, last_data = index, data
            for column, value in zip(page, (index, data, stored), strict=True):
                column.append(value)
            if len(page[0]) == PROGRESS_EVERY:
                self._take(*page)
                page = ([], [], [])
        if page[0]:
            self._take(*page)

    def finish(self) -> list[Finding]:
        """Runs every check; the findings, in the order entries, blocks, checkpoints."""
        findings = list(self._findings)
        if not self.in_order:
            self._take_pending(findings)
        if self._tree is None:
            self._start_tree()
        known, prefix = self.known, self.prefix
        self.roots = self._tree.roots
        # Entries a block claims must exist even when the export's header undercounts them.
        sealed = max((b.tree_size for b in self._blocks), default=0)
        total = max(known, self.tree_size or 0, sealed)
        gaps = self._gaps + ([(known, total - 1)] if total > known else [])
        for first, last in gaps:
            where = f"entry {first}" if first == last else f"entries {first}..{last}"
            findings.append(Finding(
                "entry-missing", where,
                f"{last - first + 1} entr{'y is' if first == last else 'ies are'} missing"))
        findings += self._leaf_findings
        entry_findings_end = len(findings)
        self._check_blocks(findings, prefix)
        checkpoints = self._open_checkpoints(findings)
        self._check_tree_roots(findings)
        for where, cp in checkpoints:
            if cp.size > max(known, prefix):
                findings.append(Finding(
                    "checkpoint-size", where,
                    f"size {cp.size} is beyond the {known} known entries"))
            elif cp.size in self.roots and self.roots[cp.size] != cp.root_hash:
                findings.append(Finding(
                    "checkpoint-root", where,
                    f"root {cp.root_hash.hex()} is not the tree's root "
                    f"{self.roots[cp.size].hex()} at size {cp.size}"))
        # Last: worker processes have been checking canonical JSON (the costly part) meanwhile.
        if self._checks is not None:
            self._say("waiting for the canonical JSON checks")
            findings[entry_findings_end:entry_findings_end] = self._checks.results()
        return findings

    def close(self) -> None:
        """Stops the worker processes; finish() does, so only needed for an audit given up."""
        if self._checks is not None:
            self._checks.close()

    def _check_blocks(self, findings: list[Finding], prefix: int) -> None:
        blocks = sorted(self._blocks, key=lambda b: b.height)
        by_height: dict[int, tuple[_Block, bytes]] = {}
        self._tree_checks: list[tuple[str, int, bytes]] = []
        for b in blocks:
            where = f"block {b.height}"
            if b.height in by_height:
                findings.append(Finding("block-duplicate", where, "height appears more than once"))
                continue
            try:
                header = block_header(
                    origin=self.origin, height=b.height, first_index=b.first_index, count=b.count,
                    batch_root=b.batch_root, prev_hash=b.prev_hash, tree_size=b.tree_size,
                    tree_root=b.tree_root, time=b.time)
            except BlockError as exc:
                findings.append(Finding("block-format", where, str(exc)))
                continue
            by_height[b.height] = (b, header)
        heights = sorted(by_height)
        trusted = {v.verifier_key: v for v in self.verifiers}
        announced = self._announcements(prefix)
        expected = FIRST_HEIGHT
        for h in heights:
            if h > expected:
                what = f"block {expected}" if h == expected + 1 else f"blocks {expected}..{h - 1}"
                findings.append(Finding("block-missing", what, "height gap in the chain"))
            expected = h + 1
        for h in heights:
            b, header = by_height[h]
            where = f"block {h}"
            keys = [v for v in trusted.values() if v.key_hash == b.key_hash]
            signed = False
            if not keys:
                findings.append(Finding(
                    "block-signature", where,
                    f"key {b.key_hash:08x} is not trusted: it is none of the given keys, and no "
                    "block signed by a trusted key announced it"))
            elif not any(verify_block(header, b.signature, v) for v in keys):
                findings.append(Finding(
                    "block-signature", where,
                    f"signature does not verify with key {b.key_hash:08x}"))
            else:
                signed = True
            prev = by_height.get(h - 1)
            if h == FIRST_HEIGHT:
                if b.prev_hash != GENESIS_PREV_HASH:
                    findings.append(Finding(
                        "block-chain", where, "first block's prev_hash is not zero"))
                if b.first_index != 0:
                    findings.append(Finding(
                        "block-range", where,
                        f"first block starts at index {b.first_index}, not 0"))
            elif prev is not None:
                if b.prev_hash != block_hash(prev[1]):
                    findings.append(Finding(
                        "block-chain", where,
                        f"prev_hash {b.prev_hash.hex()} is not block {h - 1}'s hash "
                        f"{block_hash(prev[1]).hex()}"))
                want = prev[0].first_index + prev[0].count
                if b.first_index != want:
                    findings.append(Finding(
                        "block-range", where,
                        f"first_index {b.first_index} does not follow block {h - 1}, want {want}"))
            if b.count < 1 or b.tree_size != b.first_index + b.count:
                findings.append(Finding(
                    "block-range", where,
                    f"count {b.count} and tree_size {b.tree_size} do not fit first_index "
                    f"{b.first_index}"))
                continue
            end = b.first_index + b.count
            if end <= prefix:
                got = self._tree.batch_roots[b.first_index, end]
                if got != b.batch_root:
                    findings.append(Finding(
                        "block-batch-root", where,
                        f"batch_root {b.batch_root.hex()} is not the root {got.hex()} of entries "
                        f"{b.first_index}..{end - 1}"))
                elif signed:  # the trusted signature covers these very entries
                    self._follow_announcements(trusted, announced, b.first_index, end)
                self._tree_checks.append((where, b.tree_size, b.tree_root))
        self.trusted = list({v.verifier_key: v for v in (*self.verifiers, *self._ever_trusted)}.values())
        sealed = max((by_height[h][0].tree_size for h in heights), default=0)
        if self.tree_size is not None and sealed < self.tree_size:
            findings.append(Finding(
                "block-missing", f"entries {sealed}..{self.tree_size - 1}",
                f"the export's tree size is {self.tree_size} but the blocks end at {sealed}"))

    def _announcements(self, prefix: int) -> list[tuple[int, str, bool]]:
        """(index, verifier key, active) of each key entry among the first `prefix` entries."""
        found = []
        for index in sorted(i for i in self._key_entries if i < prefix):
            try:
                entry = json.loads(self._key_entries[index])
                public = entry["public"]
                if entry["kind"] == KEY_KIND and entry["op"] in ("create", "update"):
                    found.append((index, public["verifier_key"], public.get("active") is not False))
            except (ValueError, KeyError, TypeError):
                continue  # a malformed entry announces nothing (and is a finding of its own)
        return found

        return found

    def _follow_announcements(
        self, trusted: dict[str, Verifier], announced: list[tuple[int, str, bool]], first: int, end: int
    ) -> None:
        """Applies the key entries of a block whose trusted signature covers entries first..end-1."""
        lo = bisect.bisect_left(announced, first, key=lambda a: a[0])
        for index, key, active in announced[lo:]:
            if index >= end:
                break
            if not active:
                trusted.pop(key, None)
            elif key not in trusted:
                try:
                    trusted[key] = Verifier(key)
                except NoteError:
                    continue
                self._ever_trusted.append(trusted[key])

    def _open_checkpoints(self, findings: list[Finding]) -> list[tuple[str, Any]]:
        opened = []
        # Retired keys still verify the checkpoints they signed while trusted.
        verifiers = list({v.verifier_key: v for v in (*self.verifiers, *self._ever_trusted)}.values())
        for n, note in enumerate(self._notes, 1):
            where = f"checkpoint {n}"
            try:
                text, _names = open_note(note, verifiers)
            except NoteError as exc:
                findings.append(Finding("checkpoint-signature", where, str(exc)))
                continue
            try:
                cp = parse_checkpoint(text)
            except CheckpointError as exc:
                findings.append(Finding("checkpoint-format", where, str(exc)))
                continue
            where = f"checkpoint {n} (size {cp.size})"
            if cp.origin != self.origin:
                findings.append(Finding(
                    "checkpoint-origin", where, f"origin {cp.origin!r}, want {self.origin!r}"))
                continue
            opened.append((where, cp))
        return opened

    def _check_tree_roots(self, findings: list[Finding]) -> None:
        for where, size, tree_root in self._tree_checks:
            got = self.roots[size]
            if got != tree_root:
                findings.append(Finding(
                    "block-tree-root", where,
                    f"tree_root {tree_root.hex()} is not the root {got.hex()} of the first "
                    f"{size} entries"))


def load_export(
    path: str, verifier_keys: Sequence[str], progress: Callable[[str], None] | None = None
) -> list[Finding]:
    """Reads an export file into an Auditor and returns its findings.

    The file is read twice: its blocks and checkpoints first, then its entries, checked a page at
    a time while their indexes increase (memory flat in the log's length). Should an entry come
    out of order, the entries are read once more and kept whole until every one is in.
    """
    try:
        return _load_export(path, verifier_keys, progress, in_order=True)
    except OutOfOrder:
        if progress is not None:
            progress("the entries are not in index order: reading them again, keeping them all")
        return _load_export(path, verifier_keys, progress, in_order=False)


def _load_export(
    path: str, verifier_keys: Sequence[str], progress: Callable[[str], None] | None, *, in_order: bool
) -> list[Finding]:
    with open(path, "rb") as f, ExitStack() as cleanup:
        first = f.readline()
        try:
            head = json.loads(first)
            if not isinstance(head, dict) or head.get("format") != EXPORT_FORMAT:
                raise ValueError(f"first line is not a {EXPORT_FORMAT} header")
            if head.get("v") != EXPORT_VERSION:
                raise ValueError(f"export version {head.get('v')!r}, want {EXPORT_VERSION}")
            origin, tree_size = head.get("origin"), head.get("tree_size")
            if not isinstance(origin, str) or not _is_index(tree_size):
                raise ValueError("header needs origin (string) and tree_size (integer >= 0)")
        except ValueError as exc:
            return [Finding("export-format", "line 1", str(exc))]
        auditor = Auditor(origin, verifier_keys, tree_size=tree_size, progress=progress, in_order=in_order)
        cleanup.callback(auditor.close)  # stops its workers should reading fail
        start = f.tell()
        _read_blocks_and_checkpoints(auditor, f)
        f.seek(start)
        _read_entries(auditor, f, progress)
        return auditor.finish()


def _bad_line(auditor: Auditor, lineno: int, exc: Exception) -> None:
    what = f"field {exc.args[0]} is missing" if isinstance(exc, KeyError) else str(exc)
    auditor.report("export-format", f"line {lineno}", what)


def _read_blocks_and_checkpoints(auditor: Auditor, lines: Iterable[bytes]) -> None:
    """Every line but the entries' (those are _read_entries')."""
    for lineno, line in enumerate(lines, 2):
        if line.startswith(_ENTRY_HEAD):
            continue
        try:
            obj = json.loads(line)
            kind = obj["type"]
            if kind == "block":
                auditor.add_block(obj)
            elif kind == "checkpoint":
                if not isinstance(obj["note"], str):
                    raise ValueError("note must be a string")
                auditor.add_checkpoint(obj["note"])
            elif kind != "entry":
                raise ValueError(f"unknown line type {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            _bad_line(auditor, lineno, exc)


def _read_entries(auditor: Auditor, lines: Iterable[bytes], progress: Callable[[str], None] | None) -> None:
    """The entry lines, to the Auditor a page at a time; the documented key order parsed fast."""
    loads, a2b, fast = json.loads, binascii.a2b_base64, _fast_entry
    page: tuple[list, list, list] = ([], [], [])
    entries = 0
    for lineno, line in enumerate(lines, 2):
        parsed = fast(line)
        if parsed is None:
            try:
                obj = loads(line)
                if not line.startswith(_ENTRY_HEAD) and (not isinstance(obj, dict) or obj.get("type") != "entry"):
                    continue  # not an entry: _read_blocks_and_checkpoints took it
                stored = obj.get("leaf_hash")
                parsed = (obj["index"], a2b(obj["data"], strict_mode=True),
                          None if stored is None else a2b(stored, strict_mode=True))
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                if line.startswith(_ENTRY_HEAD):  # (any other bad line is the first pass's)
                    _bad_line(auditor, lineno, exc)
                continue
        for column, value in zip(page, parsed, strict=True):
            column.append(value)
        if len(page[0]) == _CHUNK:
            auditor.add_entries(*page)
            page = ([], [], [])
        entries += 1
        if progress is not None and entries % PROGRESS_EVERY == 0:
            progress(f"read {entries} entries")
    auditor.add_entries(*page)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.tlog.audit", description="Verify a Gongxin ledger export offline.")
    parser.add_argument("file", help="ledger export (JSON Lines)")
    parser.add_argument(
        "--key", action="append", required=True, metavar="VERIFIER_KEY",
        help="a verifier key (name+hash+base64) the portal signed with; repeat for rotated keys")
    args = parser.parse_args(argv)
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    try:
        findings = load_export(args.file, args.key, progress)
    except NoteError as exc:
        parser.error(f"bad --key: {exc}")
    except OSError as exc:
        parser.error(str(exc))
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} finding(s)", file=sys.stderr)
        return 1
    progress("ledger verifies: no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
