"""Builds signed ledger exports for the audit tests and the throughput benchmark."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator

from ledger.tlog.block import GENESIS_PREV_HASH, block_hash, block_header, sign_block
from ledger.tlog.canonical import canonical_json
from ledger.tlog.checkpoint import Checkpoint, sign_checkpoint
from ledger.tlog.merkle import CompactRange, leaf_hash, root_hash
from ledger.tlog.note import Signer

ORIGIN = "gongxin.example/ledger"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def entry_data(i: int) -> bytes:
    """A realistic entry: about 300 bytes of canonical JSON."""
    return canonical_json({
        "v": 1,
        "kind": "licenses.licence",
        "ref": f"r{i:025d}",
        "op": "update",
        "fields": ["expires", "status"],
        "state": {"expires": f"d{i:042d}", "status": f"s{i:042d}", "holder": f"h{i:042d}"},
        "public": {"type": "driving", "office": "市场监管局"},
        "actor": {"pseudonym": f"p{i:020d}", "role": "clerk", "office": "o-12"},
        "time": "2025-01-01T00:00:00Z",
    })


def build_export(
    n: int,
    signer: Signer,
    *,
    block_size: int = 7,
    checkpoint_every: int = 2,
    datas: list[bytes] | None = None,
    signer_at=None,
) -> Iterator[dict]:
    """Yields the export's JSON objects: header, entries, blocks, checkpoints (all clean);
    `signer_at(height)`, if given, says which key signs each block and its checkpoint."""
    if datas is None:
        datas = [entry_data(i) for i in range(n)]
    leaves = [leaf_hash(d) for d in datas]
    yield {"format": "gongxin-ledger-export", "v": 1, "origin": ORIGIN, "tree_size": n}
    for i, (d, lh) in enumerate(zip(datas, leaves, strict=True)):
        yield {"type": "entry", "index": i, "data": b64(d), "leaf_hash": b64(lh)}
    compact = CompactRange()
    prev = GENESIS_PREV_HASH
    height = 0
    for first in range(0, n, block_size):
        signer = signer_at(height) if signer_at else signer
        count = min(block_size, n - first)
        compact.extend(leaves[first : first + count])
        fields = dict(
            height=height, first_index=first, count=count,
            batch_root=root_hash(leaves[first : first + count]), prev_hash=prev,
            tree_size=first + count, tree_root=compact.root(), time=f"2025-01-01T00:{height:05d}Z",
        )
        header = block_header(origin=ORIGIN, **fields)
        line = {"type": "block", **fields, "key_hash": f"{signer.key_hash:08x}",
                "signature": b64(sign_block(header, signer))}
        for k in ("batch_root", "prev_hash", "tree_root"):
            line[k] = b64(fields[k])
        yield line
        if height % checkpoint_every == 0 or first + count == n:
            cp = Checkpoint(ORIGIN, first + count, compact.root())
            yield {"type": "checkpoint", "note": sign_checkpoint(cp, signer)}
        prev = block_hash(header)
        height += 1


def write_export(path, objs) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for obj in objs:
            f.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
