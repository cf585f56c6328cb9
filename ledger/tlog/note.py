"""C2SP signed-note with Ed25519, key strings as golang.org/x/mod/sumdb/note writes them.

Signer key:   PRIVATE+KEY+<name>+<hash8hex>+base64(0x01 || 32-byte seed)
Verifier key: <name>+<hash8hex>+base64(0x01 || 32-byte public key)
Key hash:     first 4 bytes (big-endian uint32) of SHA-256(name || "\\n" || 0x01 || public key)
Signed note:  text ending in "\\n", a blank line, then lines "— <name> base64(keyhash4 || sig)".
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # as Go's note.Open; the spec asks for at least 16
SIG_PREFIX = "\u2014 "  # em dash, space

# Go's unicode.IsSpace: the Unicode White_Space property.
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_HASH16 = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A note or key that is malformed or does not verify."""


class MalformedNoteError(NoteError):
    def __init__(self, why: str = "") -> None:
        super().__init__("malformed note" + (f": {why}" if why else ""))


class UnverifiedNoteError(NoteError):
    """The note parsed, but no signature is by a known key."""

    def __init__(self) -> None:
        super().__init__("note has no verifiable signatures")


class InvalidSignatureError(NoteError):
    """A known key (same name and key hash) signed, and its signature does not verify."""

    def __init__(self, name: str, key_hash: int) -> None:
        self.name, self.key_hash = name, key_hash
        super().__init__(f"invalid signature for key {name}+{key_hash:08x}")


class KeyFormatError(NoteError):
    """A signer or verifier key string that is malformed."""


class NoteVerifier(Protocol):
    name: str
    key_hash: int

    def verify(self, msg: bytes, sig: bytes) -> bool: ...


class NoteSigner(Protocol):
    name: str
    key_hash: int

    def sign(self, msg: bytes) -> bytes: ...


class Signature(NamedTuple):
    """One signature line: key name, key hash, and the signature bytes after the key hash."""

    name: str
    key_hash: int
    signature: bytes


def is_valid_name(name: str) -> bool:
    """Non-empty, no Unicode space and no '+' (signed-note §Format)."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c in _SPACES for c in name)
        and _utf8_ok(name)
    )


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_hash(name: str, key: bytes) -> int:
    """uint32 key hash of `key` = type byte || public key material."""
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key).digest()[:4], "big")


def b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding, alphabet only, canonical (re-encodes to the same text)."""
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValueError(f"invalid base64: {exc}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("invalid base64: not canonical")
    return raw


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def parse_verifier_key(vkey: str) -> tuple[str, int, bytes]:
    """(name, key hash, type byte || key) of `<name>+<hash8hex>+<base64>`, hash checked."""
    if not isinstance(vkey, str):
        raise KeyFormatError("verifier key must be a string")
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError("malformed verifier id: want <name>+<hash>+<key>")
    name, hash16, key64 = parts
    if not is_valid_name(name) or not _HASH16.fullmatch(hash16):
        raise KeyFormatError("malformed verifier id")
    try:
        key = b64decode_strict(key64)
    except ValueError:
        raise KeyFormatError("malformed verifier id: key is not base64") from None
    if not key:
        raise KeyFormatError("malformed verifier id: empty key")
    h = int(hash16, 16)
    if h != key_hash(name, key):
        raise KeyFormatError("invalid verifier hash")
    return name, h, key


def parse_signer_key(skey: str) -> tuple[str, int, int, bytes]:
    """(name, key hash as written, type byte, private key material) of a PRIVATE+KEY string."""
    if not isinstance(skey, str):
        raise KeyFormatError("signer key must be a string")
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise KeyFormatError("malformed signer id: want PRIVATE+KEY+<name>+<hash>+<key>")
    _, _, name, hash16, key64 = parts
    if not is_valid_name(name) or not _HASH16.fullmatch(hash16):
        raise KeyFormatError("malformed signer id")
    try:
        key = b64decode_strict(key64)
    except ValueError:
        raise KeyFormatError("malformed signer id: key is not base64") from None
    if not key:
        raise KeyFormatError("malformed signer id: empty key")
    return name, int(hash16, 16), key[0], key[1:]


def ed25519_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def format_key(name: str, alg: int, material: bytes, *, private: bytes | None = None) -> str:
    """Key string for `name` and public `material`; the signer form when `private` is given."""
    h = key_hash(name, bytes([alg]) + material)
    if private is None:
        return f"{name}+{h:08x}+{b64encode(bytes([alg]) + material)}"
    return f"PRIVATE+KEY+{name}+{h:08x}+{b64encode(bytes([alg]) + private)}"


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 (signer key, verifier key) pair named `name`."""
    if not is_valid_name(name):
        raise KeyFormatError(f"invalid key name {name!r}: empty, or has a space or '+'")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    pub = ed25519_public(private)
    return (
        format_key(name, ALG_ED25519, pub, private=seed),
        format_key(name, ALG_ED25519, pub),
    )


class Verifier:
    """An Ed25519 note verifier from a verifier key string (type 0x01)."""

    def __init__(self, verifier_key: str) -> None:
        name, h, key = parse_verifier_key(verifier_key)
        if key[0] != ALG_ED25519:
            raise KeyFormatError(f"unknown verifier algorithm {key[0]:#04x}")
        if len(key) != 33:
            raise KeyFormatError("malformed verifier id: Ed25519 key is not 32 bytes")
        self.name, self.key_hash = name, h
        self.public_key = key[1:]
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)
        self.verifier_key = verifier_key

    def verify(self, msg: bytes, sig: bytes) -> bool:
        if len(sig) != 64:
            return False
        try:
            self._key.verify(bytes(sig), bytes(msg))
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier({self.verifier_key!r})"


class Signer:
    """An Ed25519 note signer from a signer key string (type 0x01)."""

    def __init__(self, signer_key: str) -> None:
        name, h, alg, seed = parse_signer_key(signer_key)
        if alg != ALG_ED25519:
            raise KeyFormatError(f"unknown signer algorithm {alg:#04x}")
        if len(seed) != 32:
            raise KeyFormatError("malformed signer id: Ed25519 seed is not 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        pub = ed25519_public(self._key)
        # The written hash is of the public key, so check it after deriving that key.
        if h != key_hash(name, bytes([ALG_ED25519]) + pub):
            raise KeyFormatError("invalid signer hash")
        self.name, self.key_hash = name, h
        self.verifier_key = format_key(name, ALG_ED25519, pub)

    def sign(self, msg: bytes) -> bytes:
        return self._key.sign(bytes(msg))

    def verifier(self) -> Verifier:
        return Verifier(self.verifier_key)

    def __repr__(self) -> str:
        return f"Signer(<private key for {self.verifier_key}>)"


def _check_text(text: str, what: str) -> None:
    for c in text:
        if c < " " and c != "\n":
            raise MalformedNoteError(f"{what} has control character {ord(c):#04x}")
    if not _utf8_ok(text):
        raise MalformedNoteError(f"{what} is not valid UTF-8")


def signature_line(name: str, key_hash: int, signature: bytes) -> str:
    """One signature line, newline included."""
    if not is_valid_name(name):
        raise NoteError(f"invalid signer name {name!r}")
    raw = key_hash.to_bytes(4, "big") + signature
    return f"{SIG_PREFIX}{name} {b64encode(raw)}\n"


def sign_note(text: str, signers: NoteSigner | Iterable[NoteSigner]) -> str:
    """`text` (ending in a newline), a blank line, and one signature line per signer."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNoteError("text must end in a newline")
    _check_text(text, "text")
    if hasattr(signers, "sign"):
        signers = [signers]  # type: ignore[list-item]
    lines = []
    msg = text.encode("utf-8")
    for s in signers:  # type: ignore[union-attr]
        if not is_valid_name(s.name):
            raise NoteError("invalid signer")
        lines.append(signature_line(s.name, s.key_hash, s.sign(msg)))
    if not lines:
        raise NoteError("no signers")
    return text + "\n" + "".join(lines)


def parse_note(note: str) -> tuple[str, list[Signature]]:
    """(text, signature lines in order) of a syntactically valid note; nothing verified."""
    if isinstance(note, (bytes, bytearray)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("not valid UTF-8") from None
    if not isinstance(note, str):
        raise MalformedNoteError("a note is text")
    _check_text(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNoteError("no signature lines, or the last one lacks its newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise MalformedNoteError(f"signature line does not start with an em dash: {line!r}")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not b64 or not is_valid_name(name):
            raise MalformedNoteError(f"bad signature line {line!r}")
        try:
            raw = b64decode_strict(b64)
        except ValueError:
            raise MalformedNoteError(f"signature of {name} is not base64") from None
        if len(raw) < 5:
            raise MalformedNoteError(f"signature of {name} is too short")
        sigs.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, sigs


def _index(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], list[NoteVerifier]]:
    known: dict[tuple[str, int], list[NoteVerifier]] = {}
    for v in verifiers:
        known.setdefault((v.name, v.key_hash), []).append(v)
    return known


def open_note(
    note: str, verifiers: NoteVerifier | Sequence[NoteVerifier]
) -> tuple[str, list[str]]:
    """(text, names of the keys that verified it), following signed-note §Signatures.

    Signatures by unknown keys are ignored; a bad signature by a known key raises
    InvalidSignatureError; no verified signature at all raises UnverifiedNoteError.
    """
    if hasattr(verifiers, "verify"):
        verifiers = [verifiers]  # type: ignore[list-item]
    text, sigs = parse_note(note)
    known = _index(verifiers)  # type: ignore[arg-type]
    msg = text.encode("utf-8")
    seen: set[tuple[str, int]] = set()
    names: list[str] = []
    for sig in sigs:
        found = known.get((sig.name, sig.key_hash))
        if found is None:
            continue
        if len(found) > 1:
            raise NoteError(f"ambiguous key {sig.name}+{sig.key_hash:08x}")
        # A key's repeated signatures are dropped unverified, as Go's note.Open does.
        if (sig.name, sig.key_hash) in seen:
            continue
        seen.add((sig.name, sig.key_hash))
        if not found[0].verify(msg, sig.signature):
            raise InvalidSignatureError(sig.name, sig.key_hash)
        names.append(sig.name)
    if not names:
        raise UnverifiedNoteError()
    return text, names
