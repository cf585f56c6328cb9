"""Mirrors: a verified copy of each peer's log, fetched as C2SP tlog-tiles from `<peer>/log/`.

A run fetches the peer's checkpoint (signed by the log key it announced), then the hash tiles that
prove it from the size mirrored before, and checks them all: every full tile against the level
above, the right edges against the new root, and the same tiles against the old root (the two
trees are consistent). Then each new entry bundle, against the verified level-0 hashes. Only when
everything verified are the files moved into the served copy (LEDGER_MIRROR_DIR/<origin hash>/,
served at /mirror/<origin hash>/), the checkpoint last, and the state row updated.

Files fetched during a run wait in `.incoming/` (never served); a run cut short by a crash or the
network resumes from them and from the full tiles already served, checked again like fetched ones.
A tile that does not verify, a truncated bundle or a checkpoint inconsistent with the last one
stores nothing: the run stops, the offending bytes are kept under `evidence/` and an alarm is raised
(the witness's alarms), with both checkpoints.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from ledger import monitor, services
from ledger.models import Alarm, MirroredLog, Peer
from ledger.publish import CHECKPOINT, TileStore
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote
from ledger.tlog import tiles as ttiles
from ledger.tlog.witness import origin_hash

logger = logging.getLogger("ledger.mirror")

MAX_TILE = ttiles.TILE_WIDTH * (2 + ttiles.MAX_ENTRY)  # the largest entry bundle there can be
INCOMING = ".incoming"
LOCK_SECONDS = 120  # renewed while the run goes on: a crashed run's lock soon expires
FETCHERS = 4  # files fetched at once from one peer, while those before them are checked


def fetch_ordered(function: Callable, items: Iterable, workers: int = FETCHERS) -> Iterator:
    """function(item) for each item, in order, `workers` at a time and at most twice that many
    ahead of the consumer: the network is kept busy while the CPU checks, in bounded memory."""
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class Refused(Exception):
    """The peer served something that does not verify: an alarm, with evidence."""

    def __init__(self, kind: str, message: str, kept: dict[str, bytes] | None = None):
        super().__init__(message)
        self.kind, self.message, self.kept = kind, message, kept or {}  # evidence: file name -> bytes


@dataclass
class Outcome:
    peer: Peer
    size: int = 0
    entries: int = 0  # new entries verified and stored in this run
    alarm: str = ""
    error: str = ""


def store_for(origin: str) -> TileStore:
    return TileStore(settings.LEDGER_MIRROR_DIR / origin_hash(origin))


class _Run:
    """One mirroring run of one peer (network and files only; the caller records the outcome)."""

    def __init__(self, peer: Peer, state: MirroredLog):
        self.peer, self.state = peer, state
        self.store = store_for(peer.origin)
        self.incoming = TileStore(self.store.root / INCOMING)
        self.base = f"{peer.url}/log/"
        self.touched = time.monotonic()
        self.resumed = False  # a file of an interrupted run was used (unflushed: a crash may have cut it)

    def body(self, tile: ttiles.Tile) -> bytes:
        """A tile from the served copy (full tiles only: immutable), from an interrupted run, or
        from the peer; whatever its source it is checked before use."""
        local = self.store.read(tile.path) if tile.full else None
        if local is None and (local := self.incoming.read(tile.path)) is not None:
            self.resumed = True
        if local is not None:
            return local
        body = monitor.fetch(self.base + tile.path, limit=MAX_TILE)
        if time.monotonic() - self.touched > LOCK_SECONDS / 4:  # the lock renewed, not at every file
            self.touched = time.monotonic()
            cache.touch(_lock(self.peer), LOCK_SECONDS)
        self.incoming.write(tile.path, body, sync=False)  # kept for a resumed run; never served from here
        return body

    def checkpoint(self) -> tuple[str, tcheckpoint.Checkpoint]:
        note = monitor.fetch(self.base + CHECKPOINT)
        try:
            text = note.decode("utf-8")
            return text, tcheckpoint.open_checkpoint(text, tnote.Verifier(self.peer.log_key), origin=self.peer.origin)
        except (UnicodeDecodeError, tnote.MalformedNoteError, tcheckpoint.CheckpointError) as exc:
            raise monitor.Unreachable(f"{self.base}{CHECKPOINT}: malformed checkpoint ({exc})") from None
        except tnote.NoteError:
            raise Refused("mirror-key", _("%(origin)s serves tiles under a checkpoint that its announced log key "
                                          "does not sign") % {"origin": self.peer.origin}, {CHECKPOINT: note}) from None

    def same_history_as_monitored(self, hashes, old_size: int, new: tcheckpoint.Checkpoint) -> None:
        """The tiles must make the root of the checkpoint the monitor verified from the peer's
        `/ledger/checkpoint`, when its size is among those the tiles prove: one log, not a
        history for the API and another for the tiles (a split view)."""
        seen = getattr(self.peer, "monitored", None)
        if seen is None or not old_size < seen.size <= new.size:
            return
        if ttiles.root_from_levels(seen.size, hashes) != bytes(seen.root):
            raise Refused("mirror-split", _("%(origin)s serves tiles of another history than the checkpoint of "
                                            "tree size %(size)d its API showed the monitor")
                          % {"origin": self.peer.origin, "size": seen.size},
                          {"monitored-checkpoint": seen.note.encode()})

    def run(self, outcome: Outcome) -> tuple[str, tcheckpoint.Checkpoint] | None:
        note, new = self.checkpoint()
        self.note = note
        old_size, old_root = self.state.size, bytes(self.state.root)
        if new.size < old_size:
            raise Refused("mirror-rollback", _("%(origin)s's log shrank from tree size %(old)d to %(new)d: "
                                               "a rolled-back log") % {"origin": self.peer.origin,
                                                                       "old": old_size, "new": new.size})
        if new.size == old_size:
            if old_size and new.root_hash != old_root:
                raise Refused("mirror-fork", _("%(origin)s signed two roots for tree size %(size)d")
                              % {"origin": self.peer.origin, "size": new.size})
            return None
        needed = ttiles.hash_tiles_needed(old_size, new.size)
        tiles = dict(zip(needed, fetch_ordered(self.body, needed), strict=True))
        try:
            hashes = ttiles.verify_hash_tiles(old_size, old_root, new.size, new.root_hash, tiles)
        except ttiles.InconsistentError as exc:
            raise Refused("mirror-inconsistent", _("%(origin)s's checkpoint of tree size %(new)d is not consistent "
                                                   "with the one of tree size %(old)d mirrored before: %(why)s")
                          % {"origin": self.peer.origin, "new": new.size, "old": old_size, "why": exc}) from None
        except ttiles.TileError as exc:
            raise Refused("mirror-tile", _("A tile of %(origin)s does not verify against its checkpoint of tree "
                                           "size %(size)d: %(why)s") % {"origin": self.peer.origin,
                                                                         "size": new.size, "why": exc},
                          _suspects(str(exc), tiles)) from None
        self.same_history_as_monitored(hashes, old_size, new)
        bundles, fresh = ttiles.bundles_needed(old_size, new.size), 0
        for tile, body in zip(bundles, fetch_ordered(self.body, bundles), strict=True):
            try:
                verified = len(ttiles.verify_bundle(tile, body, hashes[0]))
                fresh += verified - max(0, old_size - tile.index * ttiles.TILE_WIDTH)  # the new ones
            except ttiles.TileError as exc:
                raise Refused("mirror-bundle", _("An entry bundle of %(origin)s does not verify against its "
                                                 "checkpoint of tree size %(size)d: %(why)s")
                              % {"origin": self.peer.origin, "size": new.size, "why": exc}, {tile.path: body}) from None
        for tile in [*tiles, *bundles]:  # all verified: into the served copy, the checkpoint last
            if not (tile.full and self.store.file(tile.path).exists()):
                self.store.adopt(self.incoming, tile)  # body() left every other one there
        self.store.sync()
        self.store.write(CHECKPOINT, note.encode())
        outcome.entries = fresh
        return note, new


def _suspects(message: str, tiles: dict[ttiles.Tile, bytes]) -> dict[str, bytes]:
    """The tile the error names; else (a wrong root) the rightmost tile of each level, as served."""
    words = set(message.split())
    named = {tile.path: body for tile, body in tiles.items() if tile.path in words}
    rightmost = {}
    for tile in tiles:  # in level order, left to right: the last of a level wins
        rightmost[tile.level] = tile
    return named or {tile.path: tiles[tile] for tile in rightmost.values()}


def mirror_peer(peer: Peer) -> Outcome:
    """Mirrors one peer as far as its newest checkpoint, if no other run of it is under way."""
    outcome = Outcome(peer)
    lock = _lock(peer)
    if not cache.add(lock, 1, timeout=LOCK_SECONDS):
        outcome.error = "another mirroring run of this peer is under way"
        return outcome
    try:
        state, _created = MirroredLog.objects.get_or_create(peer=peer)
        run = _Run(peer, state)
        try:
            try:
                done = run.run(outcome)
            except Refused:
                if not run.resumed:
                    raise
                _clear(run.incoming)  # the peer's files, fetched afresh, are what is judged
                run = _Run(peer, state)
                done = run.run(outcome)
        except monitor.Unreachable as exc:
            outcome.error = str(exc)
            logger.warning("mirror: %s", exc)
            MirroredLog.objects.filter(peer=peer).update(last_error=outcome.error)
        except Refused as refused:
            outcome.alarm = refused.kind
            _alarm(run, refused)
            _clear(run.incoming)  # fetched afresh next time
        else:
            if done:
                note, new = done
                MirroredLog.objects.filter(peer=peer).update(size=new.size, root=new.root_hash, note=note,
                                                            last_error="", updated=dt.datetime.now(dt.UTC))
                _clear(run.incoming)
            outcome.size = done[1].size if done else state.size
    finally:
        cache.delete(lock)
    return outcome


def _lock(peer: Peer) -> str:
    return f"ledger-mirror-{peer.pk}"


def _clear(store: TileStore) -> None:
    if not store.root.exists():
        return
    for folder, _dirs, files in os.walk(store.root, topdown=False):
        for name in files:
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


@transaction.atomic
def _alarm(run: _Run, refused: Refused) -> None:
    """Nothing stored; the evidence kept (both checkpoints, the offending bytes); the alarm raised
    once while unacknowledged, as the monitor does."""
    peer = run.peer
    evidence = monitor.evidence(run.state.note, getattr(run, "note", ""))
    kept = TileStore(run.store.root / "evidence" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ"))
    for name, body in refused.kept.items():
        kept.write(name, body)
        evidence += (f"\n# {name} as served\nsha256 {hashlib.sha256(body).hexdigest()}, "
                     f"{len(body)} bytes, kept in {kept.file(name)}\n")
    MirroredLog.objects.filter(peer=peer).update(last_error=refused.message)
    if not Alarm.objects.filter(kind=refused.kind, origin=peer.origin, acknowledged=False).exists():
        services.alarm_raise(kind=refused.kind, origin=peer.origin, message=refused.message, evidence=evidence)


def peers_mirror() -> list[Outcome]:
    """Mirrors every active peer, one after the other (each fetch has the anchoring timeout)."""
    return [mirror_peer(peer) for peer in Peer.objects.filter(active=True).select_related("monitored")]
