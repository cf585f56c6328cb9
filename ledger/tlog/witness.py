"""C2SP tlog-witness v1.0.0: the add-checkpoint request and responses, and the witness's checks.

Request body:  "old <size>\\n", zero to 63 base64 consistency proof lines, "\\n", a signed checkpoint.
200 response:  one or more note signature lines ("— <name> <base64>\\n"), cosignatures.
409 response:  "<size>\\n" with Content-Type text/x.tlog.size, the size the witness last cosigned.
Monitoring:    GET <prefix>/<hex SHA-256 of the origin>/checkpoint, the newest cosigned checkpoint.

Each failure is an exception whose `status` is the HTTP status the spec assigns to it.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import note as _note
from .checkpoint import Checkpoint, CheckpointError, parse_checkpoint
from .merkle import EMPTY_ROOT, HASH_SIZE, ProofError, verify_consistency

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
# A checkpoint with a hundred signatures and 63 proof lines is about 15 kB; more is not a request.
MAX_REQUEST_BYTES = 64 * 1024
MAX_RESPONSE_BYTES = 64 * 1024
MAX_UINT64 = 2**64 - 1
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,19})")


class WitnessError(ValueError):
    """A request the witness refuses; `status` is the HTTP status C2SP tlog-witness gives it."""

    status = 400


class MalformedRequest(WitnessError):
    status = 400


class MalformedResponse(WitnessError):
    """A witness's answer that does not follow the spec (for the log's side)."""

    status = 502


class UntrustedCheckpoint(WitnessError):
    status = 403


class UnknownOrigin(WitnessError):
    status = 404


class SizeConflict(WitnessError):
    status = 409

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"old size does not match the size this witness last cosigned ({size})")


class InconsistentCheckpoint(WitnessError):
    status = 422


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint body; `checkpoint` is parsed but its signatures are not verified yet."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str
    checkpoint: Checkpoint


def parse_uint64(text: str, what: str) -> int:
    """An ASCII decimal with no leading zeroes that fits in 64 bits."""
    if not _DECIMAL.fullmatch(text):
        raise MalformedRequest(f"{what} {text[:40]!r} is not a decimal with no leading zeroes")
    value = int(text)
    if value > MAX_UINT64:
        raise MalformedRequest(f"{what} {text!r} does not fit in 64 bits")
    return value


def _decode(body: bytes, limit: int, what: str, error: type[WitnessError] = MalformedRequest) -> str:
    if not isinstance(body, (bytes, bytearray)):
        raise error(f"{what} must be bytes")
    if len(body) > limit:
        raise error(f"{what} is {len(body)} bytes, more than {limit}")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 (byte {exc.start})") from None
    bad = next((c for c in text if (c < " " and c != "\n") or c == "\x7f"), None)
    if bad is not None:
        raise error(f"{what} has control character {ord(bad):#04x} (lines end in LF only)")
    if not text.endswith("\n"):
        raise error(f"{what} does not end in a newline")
    return text


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """The request in `body`, checked line by line; MalformedRequest names the first bad line."""
    text = _decode(body, MAX_REQUEST_BYTES, "request body")
    first, sep, rest = text.partition("\n")
    if not first.startswith("old "):
        raise MalformedRequest("the first line must be 'old <size>'")
    old_size = parse_uint64(first[4:], "old size")
    proof = []
    while True:
        line, sep, rest = rest.partition("\n")
        if not sep:
            raise MalformedRequest("no empty line between the proof and the checkpoint")
        if line == "":
            break
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            node = _note.b64decode_strict(line)
        except ValueError:
            raise MalformedRequest(f"proof line {len(proof) + 1} is not canonical base64") from None
        if len(node) != HASH_SIZE:
            raise MalformedRequest(f"proof line {len(proof) + 1} is {len(node)} bytes, want {HASH_SIZE}")
        proof.append(node)
    try:
        body_text, _sigs = _note.parse_note(rest)
        checkpoint = parse_checkpoint(body_text)
    except (_note.NoteError, CheckpointError) as exc:
        raise MalformedRequest(f"checkpoint: {exc}") from None
    if old_size > checkpoint.size:
        raise MalformedRequest(f"old size {old_size} is larger than the checkpoint size {checkpoint.size}")
    return AddCheckpointRequest(old_size, tuple(proof), rest, checkpoint)


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body a log sends: old size line, proof lines, empty line, the signed note."""
    if not isinstance(old_size, int) or not 0 <= old_size <= MAX_UINT64:
        raise ValueError(f"old size {old_size!r} is not a uint64")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
    lines = [f"old {old_size}", *(_note.b64encode(bytes(node)) for node in proof), ""]
    return ("".join(line + "\n" for line in lines) + note).encode("utf-8")


def verify_log_signature(request: AddCheckpointRequest, verifiers: Sequence[_note.NoteVerifier]) -> None:
    """UntrustedCheckpoint unless a trusted log key signed the note (unknown keys are ignored)."""
    try:
        _note.open_note(request.note, list(verifiers))
    except _note.NoteError as exc:
        raise UntrustedCheckpoint(f"no valid signature by a trusted key: {exc}") from None


def check_consistency(request: AddCheckpointRequest, latest_size: int, latest_root: bytes | None) -> None:
    """The witness's checks against the newest checkpoint it cosigned for the origin (0, None if none).

    Call with the latest record locked, and persist the new checkpoint in the same transaction.
    """
    new = request.checkpoint
    if request.old_size != latest_size:
        raise SizeConflict(latest_size)
    if new.size == 0 and new.root_hash != EMPTY_ROOT:
        raise InconsistentCheckpoint("a checkpoint of size 0 must have the empty tree's root")
    old_root = EMPTY_ROOT if latest_size == 0 else latest_root
    try:
        verify_consistency(request.old_size, new.size, old_root, new.root_hash, request.proof)
    except ProofError as exc:
        raise InconsistentCheckpoint(f"consistency proof does not verify: {exc}") from None


def format_size(size: int) -> bytes:
    """The 409 body (Content-Type text/x.tlog.size)."""
    return b"%d\n" % size


def parse_size(body: bytes) -> int:
    """The size in a 409 body."""
    text = _decode(body, 32, "size body", MalformedResponse)
    try:
        return parse_uint64(text[:-1], "size")
    except MalformedRequest as exc:
        raise MalformedResponse(str(exc)) from None


def parse_cosignature_lines(body: bytes) -> list[_note.Signature]:
    """The note signature lines of a 200 response, strictly: each '— <name> <base64>\\n'."""
    text = _decode(body, MAX_RESPONSE_BYTES, "response body", MalformedResponse)
    lines = text[:-1].split("\n")
    if len(lines) > _note.MAX_SIGNATURES or "" in lines:
        raise MalformedResponse(f"want 1 to {_note.MAX_SIGNATURES} signature lines, no empty line")
    try:
        # A stand-in text line lets the signed-note parser, not a second copy of it, check each line.
        return _note.parse_note("x\n\n" + text)[1]
    except _note.NoteError as exc:
        raise MalformedResponse(f"response: {exc}") from None


def append_signatures(note: str, lines: Iterable[str]) -> str:
    """`note` with more signature lines (each ending in a newline) after its own."""
    extra = "".join(lines)
    if extra and not extra.endswith("\n"):
        raise ValueError("signature lines end in a newline")
    return note + extra


def origin_hash(origin: str) -> str:
    """The monitoring path segment for a log: lowercase hex SHA-256 of its origin line."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()
