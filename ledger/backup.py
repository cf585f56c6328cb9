"""Encrypted backups of the database, for the portal's backup key (kept outside the database).

A backup is a consistent snapshot (SQLite's online backup API; `pg_dump -Fc` inside an exported
snapshot on PostgreSQL) encrypted for an X25519 public key: whoever holds the file without the
private key (a peer that stores it) cannot read it. The file format is in docs/backups.md:

    GXBACKUP1\\n
    <header: one line of canonical JSON>\\n
    chunks: 4-byte big-endian length, then AES-256-GCM ciphertext of up to CHUNK bytes

The AES key is HKDF-SHA256 over the X25519 shared secret of an ephemeral key and the backup key;
each chunk's nonce is its number, and its associated data the header line, its number and whether
it is the last, so a changed header, a reordered, dropped or truncated chunk does not decrypt.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from ledger import keys
from ledger.tlog.canonical import canonical_json

MAGIC = b"GXBACKUP1\n"
CHUNK = 1 << 20
MAX_HEADER = 4096
INFO = b"gongxin backup v1"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class BackupError(RuntimeError):
    """A backup that cannot be written or read, with a reason for the operator."""


# -- the backup key ------------------------------------------------------------------------------

def create_backup_key(path: Path) -> str:
    """Writes a new X25519 private key (hex); returns the public key (hex)."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    keys.write_secret_file(path, raw.hex() + "\n")
    return _public_hex(private.public_key())


def _parse_private(text: str) -> X25519PrivateKey:
    try:
        raw = bytes.fromhex(text.split()[0])
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return X25519PrivateKey.from_private_bytes(raw)
    except (IndexError, ValueError) as exc:
        raise keys.KeyFileError(f"malformed backup key file: {exc}") from None


def backup_private_key(path: Path | None = None) -> X25519PrivateKey:
    return keys._key_from(path or settings.PORTAL_BACKUP_KEY_FILE, _parse_private)


def _public_hex(public: X25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def backup_public_key() -> str:
    return _public_hex(backup_private_key().public_key())


# -- encryption ----------------------------------------------------------------------------------

def _aes_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=INFO).derive(shared)
    return AESGCM(key)


def _nonce(number: int) -> bytes:
    return bytes(4) + struct.pack(">Q", number)


def _aad(header_line: bytes, number: int, last: bool) -> bytes:
    return header_line + struct.pack(">QB", number, int(last))


def encrypt_file(plain: Path, out: Path, header: dict, recipient_hex: str,
                 progress: Progress | None = None) -> None:
    """Encrypts `plain` into `out` (written beside it, then renamed) for the X25519 key `recipient_hex`."""
    recipient = bytes.fromhex(recipient_hex)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_pub = bytes.fromhex(_public_hex(ephemeral.public_key()))
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    aes = _aes_key(shared, ephemeral_pub, recipient)
    header = {**header, "recipient": recipient_hex, "ephemeral": ephemeral_pub.hex(), "chunk": CHUNK}
    line = canonical_json(header)
    total = plain.stat().st_size
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as sink, open(plain, "rb") as source:
            sink.write(MAGIC + line + b"\n")
            number, done, chunk = 0, 0, source.read(CHUNK)
            while True:
                following = source.read(CHUNK) if chunk else b""
                last = not following
                sealed = aes.encrypt(_nonce(number), chunk, _aad(line, number, last))
                sink.write(struct.pack(">I", len(sealed)) + sealed)
                done += len(chunk)
                if progress:
                    progress("encrypt", done, total)
                if last:
                    break
                number, chunk = number + 1, following
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_header(path: Path) -> dict:
    """The header of a backup file (readable without the key: peers and operators see its tree head)."""
    with open(path, "rb") as source:
        return _header(source)[0]


def _header(source) -> tuple[dict, bytes]:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError(_("This is not a Gongxin backup file (it does not begin with GXBACKUP1)."))
    line = source.readline(MAX_HEADER)
    if not line.endswith(b"\n"):
        raise BackupError(_("The backup file's header is truncated or too long."))
    line = line[:-1]
    try:
        header = json.loads(line)
        if canonical_json(header) != line or not isinstance(header, dict):
            raise ValueError("not canonical")
        for name, kind in (("tree_size", int), ("root", str), ("recipient", str), ("ephemeral", str),
                           ("engine", str), ("origin", str), ("created", str)):
            if not isinstance(header.get(name), kind):
                raise ValueError(f"no {name}")
        bytes.fromhex(header["recipient"])
        bytes.fromhex(header["ephemeral"])
    except (ValueError, TypeError) as exc:
        raise BackupError(_("The backup file's header is malformed (%(why)s).") % {"why": exc}) from None
    return header, line


def decrypt_file(path: Path, out: Path, private: X25519PrivateKey, progress: Progress | None = None) -> dict:
    """Decrypts the backup `path` into `out` with the backup key `private`; returns its header."""
    total = path.stat().st_size
    with open(path, "rb") as source:
        header, line = _header(source)
        ours = _public_hex(private.public_key())
        if header["recipient"] != ours:
            raise BackupError(_("This backup was encrypted for another backup key (%(theirs)s…), not for "
                                "this portal's key (%(ours)s…): it cannot be decrypted here.")
                              % {"theirs": header["recipient"][:16], "ours": ours[:16]})
        ephemeral = bytes.fromhex(header["ephemeral"])
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        aes = _aes_key(shared, ephemeral, bytes.fromhex(header["recipient"]))
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as sink:
            number = 0
            while True:
                size = source.read(4)
                if len(size) != 4:
                    raise BackupError(_("The backup file is truncated: its last part is missing."))
                (length,) = struct.unpack(">I", size)
                sealed = source.read(length)
                if len(sealed) != length or length > CHUNK + 16:
                    raise BackupError(_("The backup file is truncated or damaged."))
                last = source.peek(1)[:1] == b"" if hasattr(source, "peek") else False
                try:
                    chunk = aes.decrypt(_nonce(number), sealed, _aad(line, number, last))
                except InvalidTag:
                    raise BackupError(_("The backup file does not decrypt: it was damaged, cut or altered "
                                        "(part %(part)d).") % {"part": number + 1}) from None
                sink.write(chunk)
                if progress:
                    progress("decrypt", source.tell(), total)
                if last:
                    return header
                number += 1


# -- snapshots -----------------------------------------------------------------------------------

def engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor})
    return vendor


@contextmanager
def private_tempdir() -> Iterator[Path]:
    """A folder of this process's own (0700) under VAR_DIR for plaintext snapshots, always removed."""
    base = Path(settings.VAR_DIR) / "tmp"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _head_of(cursor) -> tuple[int, str]:
    cursor.execute("SELECT tree_size, root FROM ledger_state WHERE id = 1")
    row = cursor.fetchone()
    if row is None or not row[0]:
        from ledger.tlog.merkle import EMPTY_ROOT

        return 0, EMPTY_ROOT.hex()
    return int(row[0]), bytes(row[1]).hex()


def snapshot_sqlite(out: Path, progress: Progress | None = None) -> tuple[int, str]:
    """A consistent copy of the SQLite database (online backup API, committed data only)."""
    name = connection.settings_dict["NAME"]
    source = sqlite3.connect(f"file:{name}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(out)
    try:
        def step(status, remaining, total):
            if progress:
                progress("snapshot", total - remaining, total)

        source.backup(target, pages=1024, progress=step)
    finally:
        source.close()
    try:
        return _head_of(target.cursor())
    finally:
        target.close()


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    for name, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                      ("PGDATABASE", "NAME")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def snapshot_postgresql(out: Path, progress: Progress | None = None) -> tuple[int, str]:
    """`pg_dump -Fc` inside a snapshot exported by a repeatable-read transaction, in which the tree
    head is read: the head and the dump are of the same moment."""
    import psycopg

    db = connection.settings_dict
    params = {key: db[name] for key, name in (("host", "HOST"), ("port", "PORT"), ("user", "USER"),
                                                ("password", "PASSWORD"), ("dbname", "NAME")) if db.get(name)}
    with psycopg.connect(**params) as holder:
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_id = holder.execute("SELECT pg_export_snapshot()").fetchone()[0]
        head = _head_of(holder.cursor())
        if progress:
            progress("snapshot", 0, 1)
        done = subprocess.run(["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot_id}", "-f", str(out)],
                              env=_pg_env(), capture_output=True, text=True)
        holder.rollback()
    if done.returncode:
        raise BackupError(_("pg_dump failed: %(why)s") % {"why": done.stderr.strip()[-500:]})
    if progress:
        progress("snapshot", 1, 1)
    return head


@dataclass
class Written:
    path: Path
    header: dict
    bytes: int


def default_output() -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.LEDGER_BACKUP_DIR) / f"backup-{stamp}.gxb"


def backup(output: Path | None = None, progress: Progress | None = None) -> Written:
    """Snapshots the database and writes it encrypted for this portal's backup key."""
    output = Path(output or default_output())
    recipient = backup_public_key()
    kind = engine()
    with private_tempdir() as folder:
        plain = folder / "snapshot"
        size, root = (snapshot_sqlite if kind == "sqlite" else snapshot_postgresql)(plain, progress)
        header = {"origin": settings.PORTAL_ORIGIN, "tree_size": size, "root": root, "engine": kind,
                  "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        encrypt_file(plain, output, header, recipient, progress)
    return Written(output, read_header(output), output.stat().st_size)
