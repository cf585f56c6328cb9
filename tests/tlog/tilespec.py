"""An independent C2SP tlog-tiles reader, written from the spec (https://c2sp.org/tlog-tiles) and
RFC 6962 §2.1 alone, for tests: it shares no code with ledger/tlog (only `cryptography`'s Ed25519).

`read_log(get, verifier_key)` fetches `checkpoint` and every tile through `get(path) -> (status,
bytes)`, checks the log's signature on the checkpoint, every entry against its level-0 hash, every
hash of every level against the leaves below it, and re-derives the checkpoint's root from the
leaves. It returns the checkpoint's size and root and the entries.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

WIDTH = 256


class SpecError(AssertionError):
    pass


def index_path(n: int) -> str:
    """Zero-padded 3-digit elements, all but the last beginning with x (1234067 -> x001/x234/067)."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def path(level, n: int, width: int = WIDTH) -> str:
    return f"tile/{level}/{index_path(n)}" + ("" if width == WIDTH else f".p/{width}")


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH over leaf hashes: split at the largest power of two below n."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def parse_bundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise SpecError("bundle ends inside a length")
        length = int.from_bytes(data[at:at + 2], "big")
        entry = data[at + 2:at + 2 + length]
        if len(entry) != length:
            raise SpecError("bundle ends inside an entry")
        entries.append(entry)
        at += 2 + length
    return entries


def open_signed_checkpoint(text: str, verifier_key: str) -> tuple[str, int, bytes]:
    """Checks one Ed25519 signature line of the log's key (C2SP signed-note); (origin, size, root)."""
    body, sep, signatures = text.partition("\n\n")
    if not sep:
        raise SpecError("checkpoint without signatures")
    body += "\n"
    name, key_id, key = verifier_key.split("+", 2)
    raw = base64.b64decode(key)
    if raw[0] != 1:
        raise SpecError("not an Ed25519 key")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    for line in signatures.splitlines():
        signer, _, value = line.removeprefix("— ").partition(" ")
        blob = base64.b64decode(value)
        if signer == name and blob[:4].hex() == key_id:
            public.verify(blob[4:], body.encode())  # raises InvalidSignature
            origin, size, root = body.splitlines()[:3]
            return origin, int(size), base64.b64decode(root)
    raise SpecError("no signature by the log's key")


@dataclass
class Log:
    origin: str
    size: int
    root: bytes
    entries: list[bytes]
    note: str


def fetch(get, file_path: str) -> bytes:
    status, body = get(file_path)
    if status != 200:
        raise SpecError(f"{file_path}: HTTP {status}")
    return body


def read_log(get, verifier_key: str) -> Log:
    note = fetch(get, "checkpoint").decode()
    origin, size, root = open_signed_checkpoint(note, verifier_key)
    entries: list[bytes] = []
    leaves: list[bytes] = []
    for n in range((size + WIDTH - 1) // WIDTH):
        width = min(WIDTH, size - n * WIDTH)
        tile = fetch(get, path(0, n, width))
        bundle = parse_bundle(fetch(get, path("entries", n, width)))
        hashes = [tile[i:i + 32] for i in range(0, len(tile), 32)]
        if len(tile) != 32 * width or len(bundle) != width:
            raise SpecError(f"tile or bundle {n} has the wrong width")
        if [leaf_hash(e) for e in bundle] != hashes:
            raise SpecError(f"bundle {n} does not hash to tile 0/{n}")
        entries += bundle
        leaves += hashes
    level = 1
    while size // WIDTH ** level:  # every hash of every level is the MTH of its leaves
        count = size // WIDTH ** level
        for n in range((count + WIDTH - 1) // WIDTH):
            width = min(WIDTH, count - n * WIDTH)
            tile = fetch(get, path(level, n, width))
            if len(tile) != 32 * width:
                raise SpecError(f"tile {level}/{n} has the wrong width")
            for i in range(width):
                j = n * WIDTH + i
                span = WIDTH ** level
                if tile[32 * i:32 * i + 32] != mth(leaves[j * span:(j + 1) * span]):
                    raise SpecError(f"hash {i} of tile {level}/{n} is not the MTH of its leaves")
        level += 1
    derived = mth(leaves) if leaves else hashlib.sha256(b"").digest()
    if derived != root:
        raise SpecError("the tiles' root is not the checkpoint's")
    return Log(origin, size, root, entries, note)


def build_tiles(entries: list[bytes]) -> dict[str, bytes]:
    """Every tile and bundle of a log of these entries, from the spec's formula (full and partial)."""
    leaves = [leaf_hash(e) for e in entries]
    files = {}
    size = len(entries)
    for n in range((size + WIDTH - 1) // WIDTH):
        part = entries[n * WIDTH:(n + 1) * WIDTH]
        files[path("entries", n, len(part))] = b"".join(len(e).to_bytes(2, "big") + e for e in part)
    level = 0
    while size // WIDTH ** level:
        count, span = size // WIDTH ** level, WIDTH ** level
        hashes = [mth(leaves[j * span:(j + 1) * span]) for j in range(count)]
        for n in range((count + WIDTH - 1) // WIDTH):
            part = hashes[n * WIDTH:(n + 1) * WIDTH]
            files[path(level, n, len(part))] = b"".join(part)
        level += 1
    return files
