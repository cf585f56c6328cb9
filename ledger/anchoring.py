"""Anchoring: the newest checkpoint goes to every peer's witness; their cosignatures come back.

Peers are asked in parallel threads that only talk HTTP; every database read and write happens
in the calling thread, in short transactions of their own, so no lock is held while waiting on a
peer and a slow or dead peer delays nobody: not the other peers, not the sealer, not data writes.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ledger import selectors
from ledger.models import Checkpoint, Cosignature, Peer, PeerAnchor
from ledger.services import alarm_raise
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote
from ledger.tlog import witness as twitness

logger = logging.getLogger(__name__)

ADD_CHECKPOINT_PATH = "/ledger/witness/add-checkpoint"
MAX_PEERS_AT_ONCE = 8


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer at all
    body: bytes = b""
    content_type: str = ""
    error: str = ""


@dataclass
class Attempt:
    peer: Peer
    old: int
    answer: Answer | None = None


def post(url: str, body: bytes, timeout: float) -> Answer:
    """POSTs `body`; the whole exchange, reading included, ends within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _read(response, deadline), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, _read(error, deadline), error.headers.get("Content-Type", ""))
    except (OSError, ValueError) as error:  # refused, reset, DNS, timeout, a read past the deadline
        return Answer(None, error=f"{type(error).__name__}: {error}")


def _read(response, deadline: float) -> bytes:
    chunks, size = [], 0
    while size <= twitness.MAX_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError("the peer answered too slowly")
        chunk = response.read1(4096) if hasattr(response, "read1") else response.read(4096)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _body(checkpoint: Checkpoint, old: int) -> bytes:
    proof = selectors.consistency_proof(old, checkpoint.tree_size)[0] if 0 < old < checkpoint.tree_size else []
    return twitness.format_add_checkpoint(old, proof, checkpoint.note)


def _send_all(attempts: list[Attempt], checkpoint: Checkpoint) -> None:
    """Each attempt's answer, the peers asked in parallel (bodies are built here, not in threads)."""
    timeout = settings.LEDGER_ANCHOR_TIMEOUT
    jobs = []
    for attempt in attempts:
        try:
            jobs.append((attempt, _body(checkpoint, attempt.old)))
        except (selectors.LedgerQueryError, LookupError) as exc:  # our stored tree cannot prove it
            attempt.answer = Answer(None, error=f"no consistency proof from {attempt.old}: {exc}")
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=min(MAX_PEERS_AT_ONCE, len(jobs))) as pool:
        answers = pool.map(lambda job: post(job[0].peer.url + ADD_CHECKPOINT_PATH, job[1], timeout), jobs)
        for (attempt, _body_bytes), answer in zip(jobs, answers, strict=True):
            attempt.answer = answer


def _due_peers(checkpoint: Checkpoint) -> list[Attempt]:
    now = timezone.now()
    attempts = []
    peers = Peer.objects.filter(active=True).exclude(witness_key="").select_related("anchor")
    for peer in peers.filter(Q(anchor__isnull=True) | Q(anchor__next_attempt__isnull=True)
                             | Q(anchor__next_attempt__lte=now)):
        anchor = PeerAnchor.objects.get_or_create(peer=peer)[0]
        if Cosignature.objects.filter(peer=peer, tree_size=checkpoint.tree_size).exists():
            continue
        attempts.append(Attempt(peer, min(anchor.cosigned_size, checkpoint.tree_size)))
    return attempts


def anchor_checkpoint() -> dict[str, str]:
    """Sends the newest checkpoint to every due peer; returns each peer's outcome, by origin."""
    checkpoint = selectors.checkpoint_latest()
    if checkpoint is None:
        return {}
    attempts = _due_peers(checkpoint)
    if not attempts:
        return {}
    _send_all(attempts, checkpoint)
    retries = []
    for attempt in attempts:  # a 409 tells the size the peer last cosigned: retry once from there
        if attempt.answer.status == 409:
            retry = _retry_from(attempt, checkpoint)
            if retry:
                retries.append(retry)
    if retries:
        _send_all(retries, checkpoint)
        done = {id(r.peer) for r in retries}
        attempts = [a for a in attempts if id(a.peer) not in done] + retries
    return {attempt.peer.origin: _settle(attempt, checkpoint) for attempt in attempts}


def _retry_from(attempt: Attempt, checkpoint: Checkpoint) -> Attempt | None:
    try:
        size = twitness.parse_size(attempt.answer.body)
    except twitness.WitnessError as exc:
        attempt.answer = Answer(None, error=f"409 without a size: {exc}")
        return None
    if size > checkpoint.tree_size:
        # The peer cosigned more of our log than we now have: a rollback or a fork of our history.
        alarm_raise(
            kind="rolled-back", origin=attempt.peer.origin,
            message=f"peer {attempt.peer.origin} cosigned our log at size {size}, larger than our newest "
                    f"checkpoint ({checkpoint.tree_size}): this log was rolled back or forked",
            evidence=checkpoint.note,
        )
        attempt.answer = Answer(None, error=f"peer cosigned size {size}, beyond our {checkpoint.tree_size}")
        return None
    if not Checkpoint.objects.filter(tree_size=size).exists() and size != 0:
        attempt.answer = Answer(None, error=f"peer cosigned size {size}, which is not one of our checkpoints")
        return None
    return Attempt(attempt.peer, size)


def _settle(attempt: Attempt, checkpoint: Checkpoint) -> str:
    """Stores the cosignature or the failure (with backoff); returns a one-line outcome."""
    peer, answer = attempt.peer, attempt.answer
    if answer.status == 200:
        try:
            line, timestamp = _verified_cosignature(peer, checkpoint, answer.body)
        except twitness.WitnessError as exc:
            return _failed(peer, f"unusable answer: {exc}")
        except tnote.InvalidSignatureError as exc:
            alarm_raise(
                kind="bad-cosignature", origin=peer.origin,
                message=f"peer {peer.origin} returned a cosignature that does not verify over our "
                        f"checkpoint {checkpoint.tree_size}: {exc}",
                evidence=checkpoint.note + "\n----\n" + answer.body.decode("utf-8", "replace"),
            )
            return _failed(peer, str(exc))
        _store(peer, checkpoint, line, timestamp)
        return f"cosigned {checkpoint.tree_size}"
    if answer.status == 422:
        alarm_raise(
            kind="peer-refused", origin=peer.origin,
            message=f"peer {peer.origin} found our checkpoint {checkpoint.tree_size} inconsistent with the one "
                    f"it cosigned for us before (422): {answer.body[:300].decode('utf-8', 'replace')}",
            evidence=checkpoint.note,
        )
    if answer.status is None:
        return _failed(peer, answer.error)
    return _failed(peer, f"HTTP {answer.status}: {answer.body[:200].decode('utf-8', 'replace').strip()}")


def _verified_cosignature(peer: Peer, checkpoint: Checkpoint, body: bytes) -> tuple[str, int]:
    """The peer's own cosignature line from its answer, verified over our checkpoint body."""
    verifier = tcheckpoint.CosignatureVerifier(peer.witness_key)
    parsed = tcheckpoint.parse_checkpoint(tnote.parse_note(checkpoint.note)[0])
    for sig in twitness.parse_cosignature_lines(body):
        if (sig.name, sig.key_hash) != (verifier.name, verifier.key_hash):
            continue  # other witnesses' keys are ignored, as the spec asks
        line = tnote.signature_line(sig.name, sig.key_hash, sig.signature)
        timestamp = tcheckpoint.verify_cosignature(parsed.body() + "\n" + line, parsed, verifier)
        if timestamp == 0:
            raise twitness.MalformedResponse("a cosignature with time 0 (the spec forbids it)")
        return line, timestamp
    raise twitness.MalformedResponse(f"no cosignature by the configured witness key {verifier.verifier_key}")


def _store(peer: Peer, checkpoint: Checkpoint, line: str, timestamp: int) -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                Cosignature.objects.create(peer=peer, tree_size=checkpoint.tree_size, line=line, timestamp=timestamp)
        except IntegrityError:  # another anchoring run stored this peer's cosignature first
            pass
        PeerAnchor.objects.filter(peer=peer).update(
            cosigned_size=checkpoint.tree_size, failures=0, next_attempt=None, last_error="",
            last_success=timezone.now(),
        )


def _failed(peer: Peer, error: str) -> str:
    """Records the failure; the next attempt waits longer each time, with jitter."""
    with transaction.atomic():
        anchor = PeerAnchor.objects.select_for_update().get(peer=peer)
        anchor.failures += 1
        delay = min(settings.LEDGER_ANCHOR_INTERVAL * 2 ** min(anchor.failures - 1, 16),
                    settings.LEDGER_ANCHOR_MAX_BACKOFF)
        anchor.next_attempt = timezone.now() + dt.timedelta(seconds=delay * random.uniform(0.5, 1.5))
        anchor.last_error = error[:1000]
        anchor.save()
    logger.warning("anchoring to %s failed (%d in a row): %s", peer.origin, anchor.failures, error)
    return f"failed: {error}"
