"""Gongxin blocks: a signed, hash-chained header per sealed batch of entries.

header  = canonical_json({"v": 1, "origin", "height", "first_index", "count", "batch_root",
          "prev_hash", "tree_size", "tree_root", "time"}), hashes as standard padded base64
hash    = SHA-256(header)
signed  = Ed25519 over b"gongxin-block/v1\\n" + header, with the portal's note key
Heights start at 0 (FIRST_HEIGHT); block 0 has prev_hash 32 zero bytes. batch_root is the
RFC 9162 MTH of the block's own leaves [first_index, first_index + count); tree_size is
first_index + count and tree_root the MTH of leaves [0, tree_size).
"""
from __future__ import annotations

import hashlib
from typing import Any

from .canonical import canonical_json, parse_canonical
from .merkle import HASH_SIZE
from .note import NoteSigner, NoteVerifier, b64decode_strict, b64encode

VERSION = 1
FIRST_HEIGHT = 0
GENESIS_PREV_HASH = bytes(HASH_SIZE)
SIGNED_PREFIX = b"gongxin-block/v1\n"
HASH_FIELDS = ("batch_root", "prev_hash", "tree_root")
INT_FIELDS = ("height", "first_index", "count", "tree_size")
FIELDS = ("v", "origin", *INT_FIELDS, *HASH_FIELDS, "time")


class BlockError(ValueError):
    """A block header that is malformed."""


def block_header(
    *,
    origin: str,
    height: int,
    first_index: int,
    count: int,
    batch_root: bytes,
    prev_hash: bytes,
    tree_size: int,
    tree_root: bytes,
    time: str,
) -> bytes:
    """The canonical header bytes; BlockError for a value of the wrong type or length."""
    if not isinstance(origin, str) or not origin:
        raise BlockError("origin must be a non-empty string")
    if not isinstance(time, str) or not time:
        raise BlockError("time must be a non-empty string")
    ints = {"height": height, "first_index": first_index, "count": count, "tree_size": tree_size}
    for name, value in ints.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BlockError(f"{name} must be a non-negative integer, not {value!r}")
    hashes = {"batch_root": batch_root, "prev_hash": prev_hash, "tree_root": tree_root}
    for name, value in hashes.items():
        if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
            raise BlockError(f"{name} must be {HASH_SIZE} bytes")
    return canonical_json(
        {
            "v": VERSION,
            "origin": origin,
            **ints,
            **{name: b64encode(bytes(value)) for name, value in hashes.items()},
            "time": time,
        }
    )


def parse_block_header(header: bytes) -> dict[str, Any]:
    """The header's fields, hashes decoded to bytes; BlockError unless exactly canonical."""
    try:
        obj = parse_canonical(header)
    except ValueError as exc:
        raise BlockError(f"header is not canonical JSON: {exc}") from None
    if not isinstance(obj, dict) or set(obj) != set(FIELDS) or obj["v"] != VERSION:
        raise BlockError(f"header must have exactly the fields {', '.join(FIELDS)} and v 1")
    fields = dict(obj)
    try:
        for name in HASH_FIELDS:
            fields[name] = b64decode_strict(obj[name])
    except (ValueError, TypeError):
        raise BlockError(f"header field {name} is not base64") from None
    del fields["v"]
    if block_header(**fields) != bytes(header):
        raise BlockError("header does not re-encode to the same bytes")
    return fields


def block_hash(header: bytes) -> bytes:
    """SHA-256 of the header bytes: the next block's prev_hash."""
    return hashlib.sha256(header).digest()


def block_signed_message(header: bytes) -> bytes:
    return SIGNED_PREFIX + bytes(header)


def sign_block(header: bytes, signer: NoteSigner) -> bytes:
    """The raw 64-byte Ed25519 signature of the header by a note signer."""
    return signer.sign(block_signed_message(header))


def verify_block(header: bytes, signature: bytes, verifier: NoteVerifier) -> bool:
    return verifier.verify(block_signed_message(header), signature)
