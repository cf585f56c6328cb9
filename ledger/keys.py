"""Keys kept outside the database: the ledger signing key, the actor pseudonym key, the commitment
key of the entries' salts, the verifier keys trusted from outside, and the high-water mark."""
from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note


class KeyFileError(RuntimeError):
    pass


def write_secret_file(path: Path, text: str) -> None:
    """Writes a key file readable by its owner only (0600), atomically."""
    if not path.parent.exists():  # the key folder: its owner only (0700)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    # A name of this process's own: two processes writing the same file never share a temp file.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def key_file_problem(path: Path) -> str | None:
    """Why a key file cannot be used, or None when it is fine."""
    if not path.exists():
        return f"{path} does not exist"
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
    return None


def read_key_file(path: Path) -> str:
    problem = key_file_problem(path)
    if problem:
        raise KeyFileError(f"{problem}. Create keys with `python manage.py init_keys`.")
    return path.read_text().strip()


@lru_cache(maxsize=8)
def _parsed(path: str, mtime: float, parse):
    return parse(read_key_file(Path(path)))


def _key_from(path, parse):
    """A key file parsed once per version of the file (a rotation writes a new mtime)."""
    path = Path(path)
    if not path.exists():
        raise KeyFileError(f"{path} does not exist. Create keys with `python manage.py init_keys`.")
    return _parsed(str(path), path.stat().st_mtime, parse)


def signer() -> note.Signer:
    return _key_from(settings.PORTAL_SIGNING_KEY_FILE, note.Signer)


def pseudonym_key() -> bytes:
    return _key_from(settings.PORTAL_PSEUDONYM_KEY_FILE, bytes.fromhex)


def create_signing_key(path: Path, origin: str) -> str:
    """Writes a new Ed25519 signing key for `origin`; returns its verifier key."""
    signer_key, verifier_key = note.generate_key(origin)
    write_secret_file(path, signer_key + "\n")
    return verifier_key


def witness_signer() -> tcheckpoint.CosignatureSigner:
    """This portal's cosigner (C2SP cosignature/v1), a key of its own apart from the log key."""
    return _key_from(settings.PORTAL_WITNESS_KEY_FILE, tcheckpoint.CosignatureSigner)


def create_witness_key(path: Path, name: str) -> str:
    """Writes a new Ed25519 cosigner key (type 0x04) named `name`; returns its verifier key."""
    signer_key, verifier_key = tcheckpoint.generate_cosignature_key(name)
    write_secret_file(path, signer_key + "\n")
    return verifier_key


def create_pseudonym_key(path: Path) -> None:
    write_secret_file(path, secrets.token_hex(32) + "\n")


# -- the commitment key: entries' field salts derive from their stored seed under this key -------

@dataclass(frozen=True)
class CommitmentKey:
    key: bytes
    # Entries recorded before the key existed (id below `legacy_below`, `legacy_count` of them)
    # keep their unkeyed salts; any other entry claiming them is a forgery.
    legacy_below: int = 0
    legacy_count: int = 0


def parse_commitment_key(text: str) -> CommitmentKey:
    lines = text.split()
    try:
        key = bytes.fromhex(lines[0])
        legacy = dict(item.split("=", 1) for item in lines[1:])
        below, count = int(legacy.get("legacy-below", 0)), int(legacy.get("legacy-count", 0))
    except (IndexError, ValueError) as exc:
        raise KeyFileError(f"malformed commitment key file: {exc}") from None
    if len(key) != 32:
        raise KeyFileError("malformed commitment key file: the key must be 32 bytes (64 hex digits)")
    return CommitmentKey(key, below, count)


_commitment_cache: tuple[object, CommitmentKey | None] = (None, None)


def commitment_key() -> CommitmentKey:
    """Read once per process and setting (never rotated: every entry's salts derive from it); this
    runs for every ledgered change, so the cache is checked by identity alone."""
    global _commitment_cache
    path = settings.PORTAL_COMMITMENT_KEY_FILE
    cached_path, cached = _commitment_cache
    if path is cached_path and cached is not None:
        return cached
    cached = parse_commitment_key(read_key_file(Path(path)))
    _commitment_cache = (path, cached)
    return cached


def create_commitment_key(path: Path, *, legacy_below: int = 0, legacy_count: int = 0) -> None:
    text = secrets.token_hex(32)
    if legacy_below:
        text += f"\nlegacy-below={legacy_below}\nlegacy-count={legacy_count}"
    write_secret_file(path, text + "\n")


# -- verifier keys trusted from outside the database --------------------------------------------

def retired_keys_path() -> Path:
    """Where rotate_signing_key keeps the verifier keys it retired (public keys, one a line)."""
    path = Path(settings.PORTAL_SIGNING_KEY_FILE)
    return path.with_name(path.name + ".retired")


def retire_verifier_key(verifier_key: str) -> None:
    path = retired_keys_path()
    known = path.read_text().split() if path.exists() else []
    if verifier_key not in known:
        write_secret_file(path, "".join(f"{key}\n" for key in [*known, verifier_key]))


def trusted_verifier_keys(extra=()) -> list[str]:
    """The verifier keys trusted from outside the database: LEDGER_TRUSTED_KEYS, `extra` (--key),
    the public half of the signing key file and the keys rotate_signing_key retired. The keys
    listed in the database are not among them: a key is trusted there only when a block signed by
    a trusted key announced it (ledger.tlog.audit)."""
    found = [*settings.LEDGER_TRUSTED_KEYS, *extra]
    if Path(settings.PORTAL_SIGNING_KEY_FILE).exists():
        found.append(signer().verifier_key)
    if retired_keys_path().exists():
        found += retired_keys_path().read_text().split()
    return list(dict.fromkeys(found))

