"""The monitor: fetches each peer's checkpoint and checks it against the newest one seen before.

A peer's log may only grow. Each checkpoint it serves must be signed by the log key it announced
(its configured `log_key`) and, from the public proof API of that same peer, provably consistent
with the last checkpoint this portal verified. A smaller tree, another root for the same size, a
failed consistency proof or a checkpoint not signed by the announced key raise an alarm with both
signed notes as evidence. Network trouble is no alarm: it is logged and tried again next time.
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from ledger import services
from ledger.models import Alarm, MonitoredCheckpoint, Peer
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle
from ledger.tlog import note as tnote

logger = logging.getLogger("ledger.monitor")

MAX_RESPONSE = 64 * 1024  # a checkpoint with cosignatures, or a proof: a few hundred bytes


class Unreachable(Exception):
    """The peer did not answer usefully (network, timeout, an HTTP error, a malformed answer)."""


@dataclass(frozen=True)
class Seen:
    size: int
    root: bytes
    note: str


@dataclass
class Observation:
    """What one fetch found: a verified checkpoint (and proof), an alarm to raise, or an error."""

    peer: Peer
    note: str = ""
    checkpoint: tcheckpoint.Checkpoint | None = None
    alarm: str = ""  # kind
    message: str = ""
    error: str = ""


def fetch(url: str, limit: int = MAX_RESPONSE) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=settings.LEDGER_ANCHOR_TIMEOUT) as response:
            body = response.read(limit + 1)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts, cuts
        raise Unreachable(f"{url}: {exc}") from None
    if len(body) > limit:
        raise Unreachable(f"{url}: answer longer than {limit} bytes")
    return body


def consistency_proof(peer: Peer, old: int, new: int) -> tuple[bytes, bytes, list[bytes]]:
    """(old root, new root, proof) as the peer's public API serves them."""
    body = fetch(f"{peer.url}/api/ledger/proofs/consistency?old={old}&new={new}")
    try:
        data = json.loads(body)
        decode = base64.b64decode
        return (decode(data["old_root"], validate=True), decode(data["new_root"], validate=True),
                [decode(node, validate=True) for node in data["proof"]])
    except (ValueError, KeyError, TypeError) as exc:
        raise Unreachable(f"{peer.url}: malformed consistency proof ({exc})") from None


def observe(peer: Peer, seen: Seen | None) -> Observation:
    """Fetches and judges the peer's newest checkpoint against `seen` (no database access: runs in a thread)."""
    found = Observation(peer)
    try:
        found.note = fetch(f"{peer.url}/ledger/checkpoint").decode("utf-8")
        found.checkpoint = tcheckpoint.open_checkpoint(found.note, tnote.Verifier(peer.log_key), origin=peer.origin)
    except Unreachable as exc:
        found.error = str(exc)
        return found
    except (UnicodeDecodeError, tnote.MalformedNoteError, tcheckpoint.CheckpointError) as exc:
        found.error = f"{peer.url}: malformed checkpoint ({exc})"
        return found
    except tnote.NoteError:
        found.alarm, found.message = "unknown-key", (
            f"{peer.origin} serves a checkpoint that its announced log key does not sign "
            f"(signed by {', '.join(_signers(found.note)) or 'nobody'})")
        return found
    new = found.checkpoint
    if seen is None or new.size == seen.size == 0:
        return found
    if new.size < seen.size:
        found.alarm, found.message = "rollback", (
            f"{peer.origin}'s tree shrank from size {seen.size} to {new.size}: a rolled-back log")
    elif new.size == seen.size:
        if new.root_hash != seen.root:
            found.alarm, found.message = "fork", f"{peer.origin} signed two roots for tree size {new.size}"
    elif seen.size > 0:
        try:
            old_root, new_root, proof = consistency_proof(peer, seen.size, new.size)
            merkle.verify_consistency(seen.size, new.size, seen.root, new.root_hash, proof)
        except Unreachable as exc:
            found.error, found.checkpoint = str(exc), None
        except merkle.ProofError as exc:
            found.alarm, found.message = "inconsistent", (
                f"{peer.origin}'s checkpoint of size {new.size} is not consistent with the one of size "
                f"{seen.size} seen before: {exc}")
    return found


def _signers(note: str) -> list[str]:
    try:
        return [f"{sig.name}+{sig.key_hash:08x}" for sig in tnote.parse_note(note)[1]]
    except tnote.NoteError:
        return []


def peers_monitor() -> list[Observation]:
    """Checks every active peer's checkpoint, all at once: one slow peer does not delay the others."""
    peers = list(Peer.objects.filter(active=True).select_related("monitored"))
    if not peers:
        return []
    seen = {}
    for peer in peers:
        row = getattr(peer, "monitored", None)
        seen[peer.pk] = Seen(row.size, bytes(row.root), row.note) if row else None
    with ThreadPoolExecutor(min(len(peers), 8)) as pool:
        observations = list(pool.map(lambda peer: observe(peer, seen[peer.pk]), peers))
    for found in observations:
        peer_observation_record(observation=found, seen=seen[found.peer.pk])
    return observations


@transaction.atomic
def peer_observation_record(*, observation: Observation, seen: Seen | None) -> None:
    """Stores a verified checkpoint as the newest seen, or raises the alarm (once while unacknowledged)."""
    peer = observation.peer
    if observation.alarm:
        if not Alarm.objects.filter(kind=observation.alarm, origin=peer.origin, acknowledged=False).exists():
            services.alarm_raise(kind=observation.alarm, origin=peer.origin, message=observation.message,
                                 evidence=evidence(seen.note if seen else "", observation.note))
        MonitoredCheckpoint.objects.filter(peer=peer).update(last_error=observation.message)
    elif observation.error:
        logger.warning("monitor: %s", observation.error)
        MonitoredCheckpoint.objects.filter(peer=peer).update(last_error=observation.error)
    elif observation.checkpoint is not None:
        new = observation.checkpoint
        MonitoredCheckpoint.objects.update_or_create(
            peer=peer, defaults={"size": new.size, "root": new.root_hash, "note": observation.note, "last_error": ""}
        )


def evidence(seen_note: str, new_note: str) -> str:
    """Both signed notes, as they were served, each under a line naming it."""
    return f"# checkpoint seen before\n{seen_note}\n# checkpoint served now\n{new_note}"
