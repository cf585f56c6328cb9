"""C2SP tlog-checkpoint notes and C2SP tlog-cosignature `cosignature/v1` (Ed25519, type 0x04).

A cosignature is a note signature line "— <name> base64(keyhash4 || uint64 BE time || sig64)"
where sig64 is Ed25519 over "cosignature/v1\\ntime <time>\\n" + the checkpoint body, and the
key hash is SHA-256(name || "\\n" || 0x04 || public key)[:4].
"""
from __future__ import annotations

import re
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import note as _note
from .merkle import HASH_SIZE
from .note import (
    ALG_ED25519,
    InvalidSignatureError,
    KeyFormatError,
    NoteError,
    NoteVerifier,
    UnverifiedNoteError,
    b64decode_strict,
    b64encode,
    ed25519_public,
    format_key,
    is_valid_name,
    key_hash,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    signature_line,
)

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1
_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint body that does not follow C2SP tlog-checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise CheckpointError("origin must be a non-empty line")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not (
            0 <= self.size < 2**64
        ):
            raise CheckpointError(f"tree size {self.size!r} is not a uint64")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for ext in self.extensions:
            if not isinstance(ext, str) or not ext or "\n" in ext:
                raise CheckpointError("extension lines must be non-empty lines")
        for line in (self.origin, *self.extensions):
            if any(c < " " for c in line):
                raise CheckpointError("checkpoint lines must not hold control characters")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in newline."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint whose body is exactly `text`; CheckpointError naming the bad line."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("checkpoint body must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"checkpoint body has {len(lines)} lines, needs at least 3")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise CheckpointError("origin line is empty")
    if not _SIZE.fullmatch(size_line):
        raise CheckpointError(f"tree size line {size_line!r} is not a decimal without leading 0")
    try:
        root = b64decode_strict(root_line)
    except ValueError:
        raise CheckpointError(f"root hash line {root_line!r} is not base64") from None
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash is {len(root)} bytes, want {HASH_SIZE}")
    for i, ext in enumerate(extensions):
        if not ext:
            raise CheckpointError(f"extension line {i + 1} is empty")
    checkpoint = Checkpoint(origin, int(size_line), root, tuple(extensions))
    if checkpoint.body() != text:
        raise CheckpointError("checkpoint body is not in canonical form")
    return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, signer: _note.NoteSigner) -> str:
    """The signed note for `checkpoint`."""
    return _note.sign_note(checkpoint.body(), [signer])


def open_checkpoint(
    note: str, verifier: NoteVerifier | Sequence[NoteVerifier], origin: str | None = None
) -> Checkpoint:
    """The checkpoint in `note` once a known key verifies it (and has origin `origin`, if given)."""
    text, _names = _note.open_note(note, verifier)
    checkpoint = parse_checkpoint(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r}, want {origin!r}")
    return checkpoint


def cosigned_message(body: str | bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header line, time line, then the whole checkpoint body."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def generate_cosignature_key(name: str) -> tuple[str, str]:
    """A new Ed25519 cosigner (signer key, verifier key), both with type byte 0x04."""
    if not is_valid_name(name):
        raise KeyFormatError(f"invalid key name {name!r}: empty, or has a space or '+'")
    private = Ed25519PrivateKey.generate()
    pub = ed25519_public(private)
    return (
        format_key(name, ALG_COSIGNATURE_V1, pub, private=private.private_bytes_raw()),
        format_key(name, ALG_COSIGNATURE_V1, pub),
    )


class CosignatureVerifier:
    """Verifies cosignature/v1 signatures; a note verifier too (sig = timestamp || sig64).

    Takes a 0x04 verifier key, or a plain Ed25519 0x01 key of the same public key (as
    transparency-dev/formats does); the key hash is always the 0x04 one.
    """

    def __init__(self, verifier_key: str) -> None:
        name, _h, key = parse_verifier_key(verifier_key)
        if key[0] not in (ALG_COSIGNATURE_V1, ALG_ED25519):
            raise KeyFormatError(f"unknown cosigner algorithm {key[0]:#04x}")
        if len(key) != 33:
            raise KeyFormatError("malformed verifier id: Ed25519 key is not 32 bytes")
        self.name = name
        self.public_key = key[1:]
        self.key_hash = key_hash(name, bytes([ALG_COSIGNATURE_V1]) + self.public_key)
        self.verifier_key = format_key(name, ALG_COSIGNATURE_V1, self.public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        if len(sig) != 8 + 64:
            return False
        timestamp = int.from_bytes(sig[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            self._key.verify(bytes(sig[8:]), cosigned_message(bytes(msg), timestamp))
        except InvalidSignature:
            return False
        return True


class CosignatureSigner:
    """Makes cosignature/v1 signatures from a 0x04 (or 0x01) Ed25519 signer key."""

    def __init__(self, signer_key: str) -> None:
        name, h, alg, seed = parse_signer_key(signer_key)
        if alg not in (ALG_COSIGNATURE_V1, ALG_ED25519):
            raise KeyFormatError(f"unknown cosigner algorithm {alg:#04x}")
        if len(seed) != 32:
            raise KeyFormatError("malformed signer id: Ed25519 seed is not 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        pub = ed25519_public(self._key)
        if h != key_hash(name, bytes([alg]) + pub):
            raise KeyFormatError("invalid signer hash")
        self.name = name
        self.key_hash = key_hash(name, bytes([ALG_COSIGNATURE_V1]) + pub)
        self.verifier_key = format_key(name, ALG_COSIGNATURE_V1, pub)

    def sign(self, msg: bytes, timestamp: int | None = None) -> bytes:
        """timestamp (8 bytes BE) || Ed25519 over the cosigned message; now if no timestamp."""
        if timestamp is None:
            timestamp = int(_time.time())
        if not isinstance(timestamp, int) or not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ValueError(f"timestamp {timestamp!r} is not in [0, 2**63 - 1]")
        return timestamp.to_bytes(8, "big") + self._key.sign(cosigned_message(msg, timestamp))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.verifier_key)


def cosign(checkpoint: Checkpoint, cosigner: CosignatureSigner, timestamp: int) -> str:
    """The cosignature line (newline included) to append to the checkpoint's signed note."""
    sig = cosigner.sign(checkpoint.body().encode("utf-8"), timestamp)
    return signature_line(cosigner.name, cosigner.key_hash, sig)


def cosignature_timestamp(signature: bytes) -> int:
    """The time in a cosignature's bytes after the key hash."""
    if len(signature) != 8 + 64:
        raise NoteError(f"cosignature is {len(signature)} bytes, want 72")
    return int.from_bytes(signature[:8], "big")


def verify_cosignature(
    note: str, checkpoint: Checkpoint, cosig_verifier: CosignatureVerifier
) -> int:
    """The timestamp of `cosig_verifier`'s valid cosignature of `checkpoint` in `note`."""
    text, sigs = parse_note(note)
    if text != checkpoint.body():
        raise NoteError("note text is not this checkpoint's body")
    msg = text.encode("utf-8")
    for sig in sigs:
        if sig.name != cosig_verifier.name or sig.key_hash != cosig_verifier.key_hash:
            continue
        if not cosig_verifier.verify(msg, sig.signature):
            raise InvalidSignatureError(sig.name, sig.key_hash)
        return cosignature_timestamp(sig.signature)
    raise UnverifiedNoteError()
