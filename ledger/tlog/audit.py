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
import math
import multiprocessing
import os
import sys
import time
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
from .merkle import HASH_SIZE, CompactRange, NodeCallback, root_from_levels, root_hash, tree_levels
from .note import NoteError, Verifier, open_note

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
    """non_canonical() of the entries' bytes, chunk by chunk, in worker processes once there are
    many: each chunk goes to the workers as soon as it is full, so the checks run while the caller
    still reads entries; results() runs here the chunks no worker has taken yet."""

    def __init__(self, data: list[bytes], workers: int | None) -> None:
        self.data = data  # the Auditor's list of entries, as it grows
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[int, Future] = {}  # chunk position -> its result
        self.sent = 0  # the chunks before this position are with the workers
        self.next_feed = _PARALLEL_FROM if self.workers > 1 else math.inf

    def feed(self) -> None:
        """Sends the full chunks that arrived since the last call (starting the workers at first)."""
        if len(self.data) < self.next_feed:
            return
        try:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    self.workers, mp_context=_mp_context(), initializer=_yield_to_feeder)
            while len(self.data) - self.sent >= _CHUNK:
                self.futures[self.sent] = self.pool.submit(non_canonical, self._chunk(self.sent))
                self.sent += _CHUNK
        except (OSError, NotImplementedError, ValueError, RuntimeError):
            self.next_feed = math.inf  # no processes here (e.g. a sandbox): results() runs the rest
            return
        self.next_feed = self.sent + _CHUNK

    def _chunk(self, pos: int) -> list[bytes]:
        return self.data[pos : pos + _CHUNK]

    def results(self) -> Iterator[tuple[int, list[tuple[int, str]]]]:
        """(position, non_canonical() of the chunk there), in position order."""
        positions = range(0, len(self.data), _CHUNK)
        here = {}
        for pos in reversed(positions):  # from the end: the chunks the workers reach last
            future = self.futures.get(pos)
            if future is None or future.cancel():
                here[pos] = non_canonical(self._chunk(pos))
        for pos in positions:
            if pos in here:
                yield pos, here[pos]
                continue
            try:
                yield pos, self.futures[pos].result()
            except BrokenExecutor:  # a worker died (e.g. out of memory): redo it here
                yield pos, non_canonical(self._chunk(pos))

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


class Auditor:
    """Collects a ledger's entries, blocks and checkpoints in any order; finish() checks them all.

    add_block takes the export line's dict: hash fields and signature as bytes or base64 text,
    key_hash as "8 hex" text or int. on_node(level, index, hash) sees every perfect subtree
    (level >= 1) of the contiguous prefix of entries, or on_levels(levels) gets them all at once
    (levels[L][i], from tree_levels: faster); on_root(size, root) sees the root at each
    size a block, checkpoint or `root_sizes` names, in increasing order. Canonical JSON checks
    (the costly part: parse and re-encode) run in `workers` processes (default: one per CPU)
    while entries are still being added, once there are many; close() stops them if the audit
    is given up before finish(). check_canonical=False skips them, e.g. for a quick re-check of
    hashes and signatures.
    """

    def __init__(
        self,
        origin: str,
        verifier_keys: Sequence[str],
        *,
        tree_size: int | None = None,
        on_node: NodeCallback | None = None,
        on_levels: Callable[[list[list[bytes]]], None] | None = None,
        on_root: Callable[[int, bytes], None] | None = None,
        root_sizes: Iterable[int] = (),
        progress: Callable[[str], None] | None = None,
        workers: int | None = None,
        check_canonical: bool = True,
    ) -> None:
        if isinstance(verifier_keys, str):
            verifier_keys = [verifier_keys]
        self.origin = origin
        # The same key given twice would make notes' key lookups ambiguous.
        self.verifiers = [Verifier(k) for k in dict.fromkeys(verifier_keys)]  # NoteError if bad
        self.tree_size = tree_size
        self.on_node, self.on_root, self.progress = on_node, on_root, progress
        self.on_levels = on_levels
        self.root_sizes = sorted(set(root_sizes))
        self.workers = workers
        self.check_canonical = check_canonical
        self.roots: dict[int, bytes] = {}
        self._findings: list[Finding] = []
        self._idx: list[int] = []
        self._data: list[bytes] = []
        self._stored: list[bytes | None] = []
        self._blocks: list[_Block] = []
        self._notes: list[str] = []
        self._checks = _CanonicalChecks(self._data if check_canonical else [], workers)
        self._sorted_data: list[bytes] = self._data
        # After finish(): every key trusted for some blocks (the given ones and the announced ones).
        self.trusted: list[Verifier] = list(self.verifiers)
        self._ever_trusted: list[Verifier] = []
        self._key_candidates: list[int] | None = None

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
        self._idx.append(index)
        self._data.append(data)
        self._stored.append(leaf_hash)
        self._checks.feed()

    def add_entries(
        self, indexes: Sequence[int], datas: Sequence[bytes], leaf_hashes: Sequence[bytes | None]
    ) -> None:
        """Bulk add_entry, for callers that read entries in pages: one type check per list."""
        indexes, datas, leaf_hashes = list(indexes), list(datas), list(leaf_hashes)
        well_typed = (
            len(indexes) == len(datas) == len(leaf_hashes)
            and all(type(i) is int and i >= 0 for i in indexes)
            and all(type(d) is bytes for d in datas)
            and all(h is None or type(h) is bytes for h in leaf_hashes)
        )
        if not well_typed:
            for index, data, lh in zip(indexes, datas, leaf_hashes, strict=True):
                self.add_entry(index, data, lh)
            return
        self._idx.extend(indexes)
        self._data.extend(datas)
        self._stored.extend(leaf_hashes)
        self._checks.feed()

    def add_block(self, block: dict[str, Any]) -> None:
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

    def add_key_candidates(self, indexes: Iterable[int]) -> None:
        """Says which entries may announce keys (a database's kind column knows): only those are
        read for announcements, instead of searching every entry. A wrong hint can only hide an
        announcement, never make one: each is still read from the entry's own bytes."""
        if self._key_candidates is None:
            self._key_candidates = []
        self._key_candidates.extend(indexes)

    def add_checkpoint(self, note: str) -> None:
        self._notes.append(note)

    # -- verification -----------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def finish(self) -> list[Finding]:
        """Runs every check; the findings, in the order entries, blocks, checkpoints."""
        findings = list(self._findings)
        leaves, known, prefix = self._check_entries(findings)
        entry_findings_end = len(findings)
        block_sizes = self._check_blocks(findings, leaves, prefix)
        checkpoints = self._open_checkpoints(findings)
        sizes = set(self.root_sizes) | set(block_sizes) | {c.size for _, c in checkpoints}
        self._compute_roots(leaves, prefix, sorted(s for s in sizes if s <= prefix))
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
        findings[entry_findings_end:entry_findings_end] = self._canonical_findings()
        return findings

    def close(self) -> None:
        """Stops the worker processes; finish() does, so only needed for an audit given up."""
        self._checks.close()

    def _check_entries(self, findings: list[Finding]) -> tuple[list[bytes], int, int]:
        """Leaf hashes of the sorted unique entries, the known index count, the gapless prefix."""
        idx, data, stored = self._idx, self._data, self._stored
        n = len(idx)
        if idx != list(range(n)):
            order = sorted(range(n), key=idx.__getitem__)
            keep: list[int] = []
            for pos in order:
                if keep and idx[keep[-1]] == idx[pos]:
                    same = "the same" if data[keep[-1]] == data[pos] else "different"
                    findings.append(Finding(
                        "entry-duplicate", f"entry {idx[pos]}",
                        f"index appears more than once, with {same} data; the first is used"))
                    continue
                keep.append(pos)
            idx = [idx[p] for p in keep]
            data = [data[p] for p in keep]
            stored = [stored[p] for p in keep]
        self._sorted_data = data
        known = idx[-1] + 1 if idx else 0
        # Entries a block claims must exist even when the export's header undercounts them.
        sealed = max((b.tree_size for b in self._blocks), default=0)
        total = max(known, self.tree_size or 0, sealed)
        # idx is sorted and unique, so idx[i] == i exactly up to the first gap.
        prefix = bisect.bisect_left(range(len(idx)), True, key=lambda i: idx[i] != i)
        if prefix < len(idx) or known < total:
            runs, last_seen = [], prefix - 1
            for i in idx[prefix:]:
                if i > last_seen + 1:
                    runs.append((last_seen + 1, i - 1))
                last_seen = i
            if total > last_seen + 1:
                runs.append((last_seen + 1, total - 1))
            for first, last in runs:
                where = f"entry {first}" if first == last else f"entries {first}..{last}"
                findings.append(Finding(
                    "entry-missing", where,
                    f"{last - first + 1} entr{'y is' if first == last else 'ies are'} missing"))

        sha = hashlib.sha256
        leaves: list[bytes] = []
        for start in range(0, len(data), PROGRESS_EVERY):
            chunk = data[start : start + PROGRESS_EVERY]
            hashes = [sha(b"\x00" + d).digest() for d in chunk]
            leaves.extend(hashes)
            got = stored[start : start + PROGRESS_EVERY]
            if got != hashes:
                for j, (want, have) in enumerate(zip(hashes, got, strict=True)):
                    if have is not None and have != want:
                        findings.append(Finding(
                            "leaf-hash", f"entry {idx[start + j]}",
                            f"stored leaf hash {have.hex()} is not SHA-256(0x00 || data) "
                            f"{want.hex()}"))
            self._say(f"hashed {min(start + PROGRESS_EVERY, len(data))} entries")
        return leaves, known, prefix

    def _canonical_findings(self) -> list[Finding]:
        """entry-not-canonical findings, by index; each entry is checked on its own."""
        found = []
        try:
            for n, (pos, bad) in enumerate(self._checks.results(), 1):
                for j, why in bad:
                    found.append(Finding("entry-not-canonical", f"entry {self._idx[pos + j]}", why))
                if n * _CHUNK % PROGRESS_EVERY < _CHUNK:
                    self._say(f"checked canonical JSON of {min(n * _CHUNK, len(self._data))} entries")
        finally:
            self.close()
        found.sort(key=lambda f: int(f.where.split()[1]))
        return found

    def _check_blocks(self, findings: list[Finding], leaves: list[bytes], prefix: int) -> set[int]:
        blocks = sorted(self._blocks, key=lambda b: b.height)
        by_height: dict[int, tuple[_Block, bytes]] = {}
        sizes: set[int] = set()
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
                got = root_hash(leaves[b.first_index : end])
                if got != b.batch_root:
                    findings.append(Finding(
                        "block-batch-root", where,
                        f"batch_root {b.batch_root.hex()} is not the root {got.hex()} of entries "
                        f"{b.first_index}..{end - 1}"))
                elif signed:  # the trusted signature covers these very entries
                    self._follow_announcements(trusted, announced, b.first_index, end)
                sizes.add(b.tree_size)
                self._tree_checks.append((where, b.tree_size, b.tree_root))
        self.trusted = list({v.verifier_key: v for v in (*self.verifiers, *self._ever_trusted)}.values())
        sealed = max((by_height[h][0].tree_size for h in heights), default=0)
        if self.tree_size is not None and sealed < self.tree_size:
            findings.append(Finding(
                "block-missing", f"entries {sealed}..{self.tree_size - 1}",
                f"the export's tree size is {self.tree_size} but the blocks end at {sealed}"))
        return sizes

    def _announcements(self, prefix: int) -> list[tuple[int, str, bool]]:
        """(index, verifier key, active) of each key entry among the first `prefix` entries."""
        found = []
        data_of = self._sorted_data
        if self._key_candidates is None:
            candidates = (i for i in range(prefix) if KEY_KIND_MARK in data_of[i])  # cheaper than parsing
        else:
            candidates = sorted(i for i in set(self._key_candidates) if i < prefix)
        for index in candidates:
            data = data_of[index]
            try:
                entry = json.loads(data)
                public = entry["public"]
                if entry["kind"] == KEY_KIND and entry["op"] in ("create", "update"):
                    found.append((index, public["verifier_key"], public.get("active") is not False))
            except (ValueError, KeyError, TypeError):
                continue  # a malformed entry announces nothing (and is a finding of its own)
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

    def _compute_roots(self, leaves: list[bytes], prefix: int, sizes: list[int]) -> None:
        if self.on_levels is not None:
            levels = tree_levels(leaves[:prefix])
            for size in sizes:
                self.roots[size] = root = root_from_levels(levels, size)
                if self.on_root is not None:
                    self.on_root(size, root)
            self.on_levels(levels)
            return
        compact = CompactRange()
        pos = 0
        for size in sizes:
            compact.extend(leaves[pos:size], self.on_node)
            pos = size
            self.roots[size] = root = compact.root()
            if self.on_root is not None:
                self.on_root(size, root)
        if self.on_node is not None and pos < prefix:
            compact.extend(leaves[pos:prefix], self.on_node)

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
    """Reads an export file into an Auditor and returns its findings."""
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
        auditor = Auditor(origin, verifier_keys, tree_size=tree_size, progress=progress)
        cleanup.callback(auditor.close)  # stops its workers should reading fail
        loads, a2b = json.loads, binascii.a2b_base64
        add_entry, add_block, add_checkpoint = (
            auditor.add_entry, auditor.add_block, auditor.add_checkpoint)
        entries = 0
        fast = _fast_entry
        for lineno, line in enumerate(f, 2):
            parsed = fast(line)
            if parsed is not None:
                add_entry(*parsed)
                entries += 1
                if progress is not None and entries % PROGRESS_EVERY == 0:
                    progress(f"read {entries} entries")
                continue
            try:
                obj = loads(line)
                kind = obj["type"]
                if kind == "entry":
                    stored = obj.get("leaf_hash")
                    add_entry(
                        obj["index"], a2b(obj["data"], strict_mode=True),
                        None if stored is None else a2b(stored, strict_mode=True))
                    entries += 1
                    if progress is not None and entries % PROGRESS_EVERY == 0:
                        progress(f"read {entries} entries")
                elif kind == "block":
                    add_block(obj)
                elif kind == "checkpoint":
                    if not isinstance(obj["note"], str):
                        raise ValueError("note must be a string")
                    add_checkpoint(obj["note"])
                else:
                    raise ValueError(f"unknown line type {kind!r}")
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                what = f"field {exc.args[0]} is missing" if isinstance(exc, KeyError) else str(exc)
                auditor.report("export-format", f"line {lineno}", what)
        return auditor.finish()


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
