"""Backups held by peers: a portal pushes its encrypted backup to each active peer, which stores it
(without the key, so without reading it) and gives it back to that portal alone.

Requests are authenticated as peers already authenticate each other: by the sender's log key, the
one the receiver configured for it (`Peer.log_key`). The `Gongxin-Backup` header carries, in
base64, a signed note (C2SP signed-note, the log key) over

    gongxin backup v1            (or: gongxin backup fetch v1)
    <origin>
    <sha256 hex of the body>     (fetch: the word "newest")
    <unix time>

and the receiver takes it only when the note verifies, the origin is the one whose SHA-256 hex is
in the URL, the time is within LEDGER_BACKUP_CLOCK_SKEW of its own and (push) the body's hash is
the signed one.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ledger import backup, keys
from ledger.models import Peer
from ledger.tlog import note as tnote
from ledger.tlog.witness import origin_hash

HEADER = "Gongxin-Backup"
PUSH, FETCH = "gongxin backup v1", "gongxin backup fetch v1"
CLOCK_SKEW = 600  # seconds
MAX_NOTE = 2048
PATH = "/ledger/backups/"


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# -- the signed request --------------------------------------------------------------------------

def sign_request(purpose: str, subject: str, *, origin: str = "", signer=None, at: float | None = None) -> str:
    """The header value for a request of `purpose` about `subject`, by this portal (or `origin`)."""
    stamp = int(time.time() if at is None else at)
    text = f"{purpose}\n{origin or settings.PORTAL_ORIGIN}\n{subject}\n{stamp}\n"
    return base64.b64encode(tnote.sign_note(text, signer or keys.signer()).encode()).decode()


def check_request(header: str, purpose: str, hashed_origin: str) -> tuple[Peer, str]:
    """The peer that signed the request and the subject it signed; Refused otherwise."""
    if not header or len(header) > MAX_NOTE:
        raise Refused(401, _("A signed %(header)s header is required.") % {"header": HEADER})
    try:
        text = base64.b64decode(header, validate=True).decode("utf-8")
        body, _sigs = tnote.parse_note(text)
    except (binascii.Error, ValueError):
        raise Refused(400, _("The %(header)s header is not a signed note.") % {"header": HEADER}) from None
    lines = body.split("\n")
    if len(lines) != 5 or lines[0] != purpose or lines[4] != "" or not lines[3].isdigit() or len(lines[3]) > 12:
        raise Refused(400, _("The %(header)s header does not sign a request of this kind.") % {"header": HEADER})
    origin, subject, stamp = lines[1], lines[2], int(lines[3])
    if origin_hash(origin) != hashed_origin:
        raise Refused(403, _("The request is signed for another origin than the one in the address."))
    peer = Peer.objects.filter(origin=origin, active=True).first()
    if peer is None:
        raise Refused(403, _("This portal keeps backups of its active peers only."))
    try:
        tnote.open_note(text, [tnote.Verifier(peer.log_key)])
    except tnote.NoteError:
        raise Refused(403, _("The request is not signed by the peer's log key.")) from None
    if abs(time.time() - stamp) > CLOCK_SKEW:
        raise Refused(403, _("The request's time is too far from this portal's clock."))
    return peer, subject


# -- as the peer that stores --------------------------------------------------------------------

def folder_for(hashed_origin: str) -> Path:
    return Path(settings.LEDGER_PEER_BACKUP_DIR) / hashed_origin


def store(*, hashed_origin: str, signature: str, length: int, stream) -> Path:
    """Stores a peer's pushed backup (read from `stream`, `length` bytes); keeps its newest few."""
    _peer, digest = check_request(signature, PUSH, hashed_origin)
    if length <= 0:
        raise Refused(411, _("A backup is sent with its Content-Length."))
    if length > settings.LEDGER_BACKUP_MAX_BYTES:
        raise Refused(413, _("The backup is larger than this portal keeps for a peer (%(limit)d bytes).")
                      % {"limit": settings.LEDGER_BACKUP_MAX_BYTES})
    folder = folder_for(hashed_origin)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = folder / f".incoming.{os.getpid()}.{time.monotonic_ns()}"
    hasher, left = hashlib.sha256(), length
    try:
        with open(tmp, "wb") as sink:
            while left:
                chunk = stream.read(min(left, 1 << 20))
                if not chunk:
                    raise Refused(400, _("The backup was cut short."))
                hasher.update(chunk)
                sink.write(chunk)
                left -= len(chunk)
        if hasher.hexdigest() != digest:
            raise Refused(400, _("The backup's SHA-256 is not the signed one."))
        try:
            header = backup.read_header(tmp)
        except backup.BackupError as exc:
            raise Refused(400, str(exc)) from None
        if origin_hash(header["origin"]) != hashed_origin:
            raise Refused(400, _("The backup is of another portal than the one that sent it."))
        stamp = header["created"].replace("-", "").replace(":", "")
        final = folder / f"backup-{stamp}-{digest[:16]}.gxb"
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    prune(folder, settings.LEDGER_BACKUP_KEEP)
    return final


def prune(folder: Path, keep: int) -> None:
    """Deletes all but the `keep` newest backups in `folder` (names sort by time)."""
    for old in sorted(folder.glob("backup-*.gxb"))[:-keep or None]:
        old.unlink(missing_ok=True)


def newest(folder: Path) -> Path | None:
    found = sorted(folder.glob("backup-*.gxb"))
    return found[-1] if found else None


def newest_for(*, hashed_origin: str, signature: str) -> Path:
    """The newest backup this portal keeps for the peer that asks (its own, and no other's)."""
    check_request(signature, FETCH, hashed_origin)
    found = newest(folder_for(hashed_origin))
    if found is None:
        raise Refused(404, _("This portal keeps no backup of that portal."))
    return found


# -- as the portal whose backup it is ------------------------------------------------------------

@dataclass
class Pushed:
    origin: str
    status: int | None
    error: str = ""


def push(path: Path, peer_url: str, timeout: float = 120) -> tuple[int | None, str]:
    """POSTs the backup file to a peer; (HTTP status or None, error text)."""
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    url = f"{peer_url}{PATH}{origin_hash(settings.PORTAL_ORIGIN)}"
    with open(path, "rb") as source:
        request = urllib.request.Request(url, data=source, method="POST", headers={
            "Content-Type": "application/octet-stream", "Content-Length": str(path.stat().st_size),
            HEADER: sign_request(PUSH, digest.hexdigest())})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, ""
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read(500).decode("utf-8", "replace").strip()
        except (OSError, ValueError, http.client.HTTPException) as error:
            return None, f"{type(error).__name__}: {error}"


def push_to_peers(path: Path) -> list[Pushed]:
    return [Pushed(peer.origin, *push(path, peer.url)) for peer in Peer.objects.filter(active=True)]


def fetch_own(peer_url: str, out: Path, timeout: float = 120) -> Path:
    """Fetches the newest backup of this portal that the peer at `peer_url` keeps, into `out`."""
    url = f"{peer_url.rstrip('/')}{PATH}{origin_hash(settings.PORTAL_ORIGIN)}"
    request = urllib.request.Request(url, headers={HEADER: sign_request(FETCH, "newest")})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(out, "wb") as sink:
            while chunk := response.read(1 << 20):
                sink.write(chunk)
    except urllib.error.HTTPError as error:
        with error:
            raise backup.BackupError(_("%(url)s answered %(status)d: %(why)s") % {
                "url": url, "status": error.code, "why": error.read(500).decode("utf-8", "replace").strip()}) from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise backup.BackupError(f"{url}: {error}") from None
    return out
