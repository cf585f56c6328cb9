"""Restore: a backup into an empty database, then the ledger made whole again from a peer's mirror.

1. The backup is decrypted with the backup key and loaded (SQLite: the online backup API into the
   database file; PostgreSQL: `pg_restore`), into a database that holds no ledger entry.
2. A peer's mirror of this portal's log (`<peer>/mirror/<sha256 of our origin>/`, tlog-tiles) is
   read from the snapshot's tree size on: its checkpoint must carry this portal's own signature and
   its tiles must prove both that checkpoint and the snapshot's root (the two trees are consistent).
   Every entry sealed after the snapshot is put back, in one block signed now (ledger_recover):
   no sealed entry is lost.
3. Those entries are the changes that happened after the snapshot: the records they describe are
   not in the restored data. The report names each, record by record (kind, public reference, time,
   operation, actor role), with the finding `verify_ledger` will give for it until a clerk enters
   the change again.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from ledger import backup, highwater, keys, monitor, selectors, services
from ledger.mirror import MAX_TILE, fetch_ordered
from ledger.recorder import ENTRY_TABLE
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote
from ledger.tlog import tiles as ttiles
from ledger.tlog.witness import origin_hash

Progress = Callable[[str, int, int], None]


class RestoreError(RuntimeError):
    pass


# -- the database --------------------------------------------------------------------------------

def database_problem() -> str | None:
    """Why the database cannot take a restore (it holds a ledger already), or None."""
    tables = connection.introspection.table_names()
    if ENTRY_TABLE not in tables:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {ENTRY_TABLE}")
        count = cursor.fetchone()[0]
    if count:
        return _("The database is not empty: its ledger holds %(count)d entries. A backup is restored only into "
                 "an empty database (a new one, or this one dropped and created again).") % {"count": count}
    return None


def _load_sqlite(plain: Path, progress: Progress | None) -> None:
    name = connection.settings_dict["NAME"]
    connections.close_all()
    source, target = sqlite3.connect(plain), sqlite3.connect(name)
    try:
        source.backup(target, pages=1024,
                      progress=(lambda _s, left, total: progress("load", total - left, total)) if progress else None)
    finally:
        source.close()
        target.close()


def _load_postgresql(plain: Path, progress: Progress | None) -> None:
    connections.close_all()
    if progress:
        progress("load", 0, 1)
    done = subprocess.run(["pg_restore", "--no-owner", "--clean", "--if-exists", "--exit-on-error",
                           "-d", connection.settings_dict["NAME"], str(plain)],
                          env=backup._pg_env(), capture_output=True, text=True)
    if done.returncode:
        raise RestoreError(_("pg_restore failed: %(why)s") % {"why": done.stderr.strip()[-500:]})
    if progress:
        progress("load", 1, 1)


def load(path: Path, progress: Progress | None = None) -> dict:
    """Decrypts the backup and loads it into the (empty) database; returns its header."""
    problem = database_problem()
    if problem:
        raise RestoreError(problem)
    header = backup.read_header(path)
    if header["origin"] != settings.PORTAL_ORIGIN:
        raise RestoreError(_("This backup is of %(theirs)s, not of this portal (%(ours)s).")
                           % {"theirs": header["origin"], "ours": settings.PORTAL_ORIGIN})
    if header["engine"] != backup.engine():
        raise RestoreError(_("This backup is of a %(theirs)s database; this portal uses %(ours)s.")
                           % {"theirs": header["engine"], "ours": backup.engine()})
    with backup.private_tempdir() as folder:
        plain = folder / "snapshot"
        backup.decrypt_file(path, plain, backup.backup_private_key(), progress)
        (_load_sqlite if header["engine"] == "sqlite" else _load_postgresql)(plain, progress)
    size, root = highwater.database_head()
    if (size, root.hex()) != (header["tree_size"], header["root"]):
        raise RestoreError(_("The restored database's tree head (%(size)d) is not the one the backup's header "
                             "names (%(header)d).") % {"size": size, "header": header["tree_size"]})
    return header


# -- the log from a peer's mirror ----------------------------------------------------------------

@dataclass
class Recovered:
    peer_url: str
    size: int
    root: bytes
    entries: list[bytes]  # sealed after the snapshot, in log order


def read_mirror(peer_url: str, old_size: int, old_root: bytes) -> Recovered:
    """This portal's log as the peer mirrors it, verified from (old_size, old_root) on."""
    base = f"{peer_url.rstrip('/')}/mirror/{origin_hash(settings.PORTAL_ORIGIN)}/"
    verifiers = [tnote.Verifier(key) for key in keys.trusted_verifier_keys()]
    try:
        text = monitor.fetch(base + "checkpoint").decode("utf-8")
        new = tcheckpoint.open_checkpoint(text, verifiers, settings.PORTAL_ORIGIN)
    except monitor.Unreachable as exc:
        raise RestoreError(str(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise RestoreError(_("%(url)s does not serve a checkpoint signed by this portal's key (%(why)s).")
                           % {"url": base, "why": exc}) from None
    if new.size < old_size:
        raise RestoreError(_("%(url)s mirrors %(size)d entries of this log, fewer than the backup holds (%(old)d).")
                           % {"url": peer_url, "size": new.size, "old": old_size})
    fetch = lambda tile: monitor.fetch(base + tile.path, limit=MAX_TILE)  # noqa: E731
    try:
        needed = ttiles.hash_tiles_needed(old_size, new.size)
        tiles = dict(zip(needed, fetch_ordered(fetch, needed), strict=True))
        hashes = ttiles.verify_hash_tiles(old_size, old_root, new.size, new.root_hash, tiles)
        entries = []
        bundles = ttiles.bundles_needed(old_size, new.size)
        for tile, body in zip(bundles, fetch_ordered(fetch, bundles), strict=True):
            first = tile.index * ttiles.TILE_WIDTH
            entries += ttiles.verify_bundle(tile, body, hashes[0])[max(0, old_size - first):]
    except monitor.Unreachable as exc:
        raise RestoreError(str(exc)) from None
    except ttiles.TileError as exc:
        raise RestoreError(_("The mirror at %(url)s does not verify against the backup's tree head: %(why)s")
                           % {"url": peer_url, "why": exc}) from None
    return Recovered(peer_url, new.size, new.root_hash, entries)


def best_mirror(peer_urls: list[str], old_size: int, old_root: bytes, say: Callable[[str], None]) -> Recovered:
    """The longest verified mirror among the peers'; RestoreError when none verifies."""
    best, errors = None, []
    for url in peer_urls:
        try:
            found = read_mirror(url, old_size, old_root)
        except RestoreError as exc:
            errors.append(f"{url}: {exc}")
            say(_("Mirror not used: %(why)s") % {"why": exc})
            continue
        say(_("%(url)s mirrors this log up to tree size %(size)d.") % {"url": url, "size": found.size})
        if best is None or found.size > best.size:
            best = found
    if best is None:
        raise RestoreError(_("No peer's mirror of this log could be read and verified:\n%(errors)s")
                           % {"errors": "\n".join(errors) or _("no peer configured")})
    return best


# -- the report ----------------------------------------------------------------------------------

@dataclass
class Change:
    time: str
    op: str
    role: str
    action: str
    changed: list[str]


@dataclass
class MissingRecord:
    kind: str
    ref: str
    changes: list[Change] = field(default_factory=list)
    in_snapshot: bool = True

    @property
    def finding(self) -> str:
        """The finding verify_ledger gives for this record until its changes are entered again."""
        last = self.changes[-1].op
        if not self.in_snapshot:
            return "" if last == "delete" else "record-missing"
        return "record-deleted" if last == "delete" else "record-state"


def missing_records(entries: list[bytes]) -> list[MissingRecord]:
    """The records changed by `entries` (the changes after the snapshot), in order of first change."""
    from ledger.apps import ledgered_models

    models = {model._meta.label_lower: model for model in ledgered_models()}
    records: dict[tuple[str, str], MissingRecord] = {}
    for data in entries:
        entry = json.loads(data)
        key = (entry["kind"], entry["ref"])
        if key not in records:
            model = models.get(entry["kind"])
            exists = bool(model and model._base_manager.filter(public_ref=entry["ref"]).exists())
            records[key] = MissingRecord(*key, in_snapshot=exists)
        records[key].changes.append(Change(entry["time"], entry["op"], entry.get("actor", {}).get("role", ""),
                                           entry.get("action", ""), list(entry.get("changed", []))))
    return list(records.values())


@dataclass
class Outcome:
    header: dict
    recovered: Recovered
    missing: list[MissingRecord]
    already_in_snapshot: int  # recovered entries whose change the snapshot held (unsealed then)
    high_water: str | None  # what the high-water mark still says, None when it agrees


def restore(path: Path, peer_urls: list[str] | None = None, progress: Progress | None = None,
            say: Callable[[str], None] = lambda text: None) -> Outcome:
    header = load(path, progress)
    say(_("Loaded the backup of %(created)s: tree size %(size)d.") % {"created": header["created"],
                                                                       "size": header["tree_size"]})
    from ledger.models import Peer

    urls = peer_urls or list(Peer.objects.filter(active=True).values_list("url", flat=True))
    recovered = best_mirror(urls, header["tree_size"], bytes.fromhex(header["root"]), say)
    waiting = {bytes(h) for h in selectors.entries_unsealed().values_list("leaf_hash", flat=True)}
    from ledger.tlog.merkle import leaf_hash

    lost = [data for data in recovered.entries if leaf_hash(data) not in waiting]
    missing = missing_records(lost)
    if recovered.entries:
        services.ledger_recover(recovered.entries, root=recovered.root)
    highwater_problem = highwater.restore_problem()
    return Outcome(header, recovered, missing, len(recovered.entries) - len(lost), highwater_problem)


def local_time(text: str) -> str:
    from django.utils import formats, timezone

    moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def report_lines(outcome: Outcome) -> list[str]:
    """The report clerks act on, in the active language."""
    from ledger import labels

    lines = [
        _("Restored the backup taken at tree size %(size)d; %(count)d entries sealed after it came back from "
          "the mirror at %(url)s (tree size now %(new)d).") % {
              "size": outcome.header["tree_size"], "count": len(outcome.recovered.entries),
              "url": outcome.recovered.peer_url, "new": outcome.recovered.size},
    ]
    if outcome.already_in_snapshot:
        lines.append(_("%(count)d of them were already in the backup's data (not yet sealed when it was taken).")
                     % {"count": outcome.already_in_snapshot})
    if not outcome.missing:
        lines.append(_("No record changed after the backup: nothing is missing from the restored data."))
    else:
        lines.append(_("%(count)d records changed after the backup; these changes are missing from the restored "
                       "data and must be entered again:") % {"count": len(outcome.missing)})
    for record in outcome.missing:
        lines.append("")
        lines.append(_("%(kind)s %(ref)s (verify_ledger: %(finding)s)") % {
            "kind": labels.kind_label(record.kind), "ref": record.ref, "finding": record.finding or _("none")})
        for change in record.changes:
            what = labels.action_label(change.action, change.op)
            fields = ", ".join(labels.field_label(record.kind, name) for name in change.changed)
            lines.append("  " + _("%(time)s  %(what)s by %(role)s%(fields)s") % {
                "time": local_time(change.time), "what": what, "role": labels.role_label(change.role),
                "fields": f" ({fields})" if fields else ""})
    if outcome.high_water:
        lines.append("")
        lines.append(_("The high-water mark is still ahead of the restored ledger: entries this portal sealed "
                       "were not yet in any peer's mirror and are lost.") + " " + outcome.high_water)
    return lines

