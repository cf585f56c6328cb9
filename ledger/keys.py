"""Keys kept outside the database: the ledger signing key and the actor pseudonym key."""
from __future__ import annotations

import os
import secrets
import stat
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
    tmp = path.with_name(path.name + ".tmp")
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


@lru_cache(maxsize=4)
def _signer_for(path: str, mtime: float) -> note.Signer:
    return note.Signer(read_key_file(Path(path)))


def signer() -> note.Signer:
    path = Path(settings.PORTAL_SIGNING_KEY_FILE)
    if not path.exists():
        raise KeyFileError(f"{path} does not exist. Create keys with `python manage.py init_keys`.")
    return _signer_for(str(path), path.stat().st_mtime)


@lru_cache(maxsize=4)
def _pseudonym_key_for(path: str, mtime: float) -> bytes:
    return bytes.fromhex(read_key_file(Path(path)))


def pseudonym_key() -> bytes:
    path = Path(settings.PORTAL_PSEUDONYM_KEY_FILE)
    if not path.exists():
        raise KeyFileError(f"{path} does not exist. Create keys with `python manage.py init_keys`.")
    return _pseudonym_key_for(str(path), path.stat().st_mtime)


def create_signing_key(path: Path, origin: str) -> str:
    """Writes a new Ed25519 signing key for `origin`; returns its verifier key."""
    signer_key, verifier_key = note.generate_key(origin)
    write_secret_file(path, signer_key + "\n")
    return verifier_key


@lru_cache(maxsize=4)
def _witness_signer_for(path: str, mtime: float) -> tcheckpoint.CosignatureSigner:
    return tcheckpoint.CosignatureSigner(read_key_file(Path(path)))


def witness_signer() -> tcheckpoint.CosignatureSigner:
    """This portal's cosigner (C2SP cosignature/v1), a key of its own apart from the log key."""
    path = Path(settings.PORTAL_WITNESS_KEY_FILE)
    if not path.exists():
        raise KeyFileError(f"{path} does not exist. Create keys with `python manage.py init_keys`.")
    return _witness_signer_for(str(path), path.stat().st_mtime)


def create_witness_key(path: Path, name: str) -> str:
    """Writes a new Ed25519 cosigner key (type 0x04) named `name`; returns its verifier key."""
    signer_key, verifier_key = tcheckpoint.generate_cosignature_key(name)
    write_secret_file(path, signer_key + "\n")
    return verifier_key


def create_pseudonym_key(path: Path) -> None:
    write_secret_file(path, secrets.token_hex(32) + "\n")
