"""Real federated portals on loopback, for tests and benchmarks.

Each portal is a process tree of its own (dev.py's `Portal`, the code `python3 dev.py run` uses):
its own var dir, keys and origin, its own database (a SQLite file in its var dir, or a PostgreSQL
database of its own when DATABASE_URL names PostgreSQL), runserver on a free port, and a Celery
worker with beat on a filesystem broker in its var dir; all are each other's peers.
Databases are cloned from one migrated template (a file copy, or CREATE DATABASE … TEMPLATE).
"""
from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dev
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote

# Short intervals: a change is sealed, anchored and monitored within a few seconds.
PORTAL_ENV = {
    "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(48), "LOG_LEVEL": "INFO",
    "LEDGER_SEAL_INTERVAL": "1", "LEDGER_ANCHOR_INTERVAL": "1", "LEDGER_MONITOR_INTERVAL": "1",
    "LEDGER_ANCHOR_TIMEOUT": "2", "LEDGER_ANCHOR_MAX_BACKOFF": "3",
    "DJANGO_SUPERUSER_PASSWORD": "federation-test-password-2026",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres(url: str) -> tuple[str, str] | None:
    """(server URL, database name) when `url` names PostgreSQL, else None."""
    if not url.startswith("postgres"):
        return None
    base, _, name = url.rpartition("/")
    return base, name


class Databases:
    """One migrated template database, cloned for every portal; dropped at the end (PostgreSQL)."""

    def __init__(self, root: Path, database_url: str | None = None, prefix: str = ""):
        self.root = Path(root)
        self.server = _postgres(database_url if database_url is not None else os.environ.get("DATABASE_URL", ""))
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        self.prefix = prefix or (f"{self.server[1]}_{worker}" if self.server and worker else
                                 self.server[1] if self.server else "")
        self.created: list[str] = []
        self.template: Path | str | None = None

    def _sql(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server[0]}/postgres", autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def url(self, name: str) -> str:
        return f"{self.server[0]}/{name}"

    def prepare_template(self) -> None:
        """Migrates the template once (no keys yet, so without the system checks)."""
        if self.template is not None:
            return
        portal = dev.Portal(origin="template.gongxin.test/log", port=0, var_dir=self.root / "template",
                            python=sys.executable, env={**os.environ, **PORTAL_ENV})
        if self.server:
            name = f"{self.prefix}_tpl"
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
            self.created.append(name)
            portal.env["DATABASE_URL"] = self.url(name)
        portal.manage("migrate", "--no-input", "--skip-checks")
        self.template = name if self.server else portal.var_dir / "gongxin.sqlite3"

    def clone(self, portal: dev.Portal, name: str) -> None:
        """Gives `portal` a database of its own, a copy of the migrated template."""
        self.prepare_template()
        if self.server:
            database = f"{self.prefix}_{name}"
            self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                      f'CREATE DATABASE "{database}" TEMPLATE "{self.template}"')
            self.created.append(database)
            portal.env["DATABASE_URL"] = self.url(database)
        else:
            portal.var_dir.mkdir(parents=True, exist_ok=True)
            copy_sqlite(self.template, portal.var_dir / "gongxin.sqlite3")

    def lose(self, portal: dev.Portal) -> None:
        """The portal's database is gone: on PostgreSQL an empty database of the same name stands in
        its place (SQLite's file goes with the portal's var dir)."""
        if self.server:
            current = portal.env["DATABASE_URL"].rpartition("/")[2]
            self._sql(f'DROP DATABASE IF EXISTS "{current}" WITH (FORCE)', f'CREATE DATABASE "{current}"')

    def backup(self, portal: dev.Portal, name: str) -> str | Path:
        """A copy of the portal's database as it is now (on PostgreSQL the portal must be stopped;
        SQLite's backup API copies a consistent snapshot of a live database)."""
        if self.server:
            database = f"{self.prefix}_{name}"
            current = portal.env["DATABASE_URL"].rpartition("/")[2]
            self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                      f'CREATE DATABASE "{database}" TEMPLATE "{current}"')
            self.created.append(database)
            return database
        target = portal.var_dir.parent / f"{name}.sqlite3"
        copy_sqlite(portal.var_dir / "gongxin.sqlite3", target)
        return target

    def restore(self, portal: dev.Portal, backup: str | Path) -> None:
        """Puts the backup back in place of the portal's database (the portal must be stopped)."""
        if self.server:
            current = portal.env["DATABASE_URL"].rpartition("/")[2]
            self._sql(f'DROP DATABASE "{current}" WITH (FORCE)', f'CREATE DATABASE "{current}" TEMPLATE "{backup}"')
        else:
            for suffix in ("-wal", "-shm"):
                Path(f"{portal.var_dir / 'gongxin.sqlite3'}{suffix}").unlink(missing_ok=True)
            copy_sqlite(Path(backup), portal.var_dir / "gongxin.sqlite3")

    def drop(self) -> None:
        if self.server and self.created:
            self._sql(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in reversed(self.created)))
        self.created = []


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, WAL included (the backup API, not a file copy)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


class Federation:
    """`count` portals (a, b, c, …) that are each other's peers: start(), then stop() (no orphans)."""

    def __init__(self, root: Path, count: int = 3, *, databases: Databases | None = None, env=None, tag="fed"):
        self.root = Path(root)
        self.databases = databases or Databases(self.root)
        base = {**os.environ, **PORTAL_ENV, **(env or {})}
        self.portals = [
            dev.Portal(origin=f"{tag}.gongxin.test/portal-{letter}", port=free_port(),
                       var_dir=self.root / letter, python=sys.executable, env=base)
            for letter in "abcdefgh"[:count]
        ]
        self.names = {portal.origin: letter for portal, letter in zip(self.portals, "abcdefgh", strict=False)}

    def __iter__(self):
        return iter(self.portals)

    def __getitem__(self, index):
        return self.portals[index]

    def start(self) -> Federation:
        try:
            for portal in self.portals:
                self.databases.clone(portal, self.names[portal.origin])
            dev.federation_prepare(self.portals, migrate=False, fresh=True)
            for portal in self.portals:
                self.start_portal(portal, wait=False)
            for portal in self.portals:
                portal.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def start_portal(self, portal: dev.Portal, wait=True) -> None:
        portal.start(web_log=portal.var_dir / "web.log", worker_log=portal.var_dir / "worker.log")
        if wait:
            portal.wait_ready()

    def lose(self, portal: dev.Portal) -> None:
        """The portal's database is gone: on PostgreSQL an empty database of the same name stands in
        its place (SQLite's file goes with the portal's var dir)."""
        if self.server:
            current = portal.env["DATABASE_URL"].rpartition("/")[2]
            self._sql(f'DROP DATABASE IF EXISTS "{current}" WITH (FORCE)', f'CREATE DATABASE "{current}"')

    def backup(self, portal: dev.Portal, name: str) -> str | Path:
        """A backup of the portal's database, taken as an operator would (stopping it if need be)."""
        if not self.databases.server:
            return self.databases.backup(portal, name)
        portal.stop()
        try:
            return self.databases.backup(portal, name)
        finally:
            self.start_portal(portal)

    def restore(self, portal: dev.Portal, backup: str | Path) -> None:
        """The portal stopped and its database replaced by the backup (its keys and high-water mark stay)."""
        portal.stop()
        self.databases.restore(portal, backup)

    def start_refused(self, portal: dev.Portal) -> str:
        """Starts the portal expecting its web server to refuse (a system check error), stops what
        did start, and returns what the web server printed; raises if it started serving instead."""
        log = portal.var_dir / "web.log"
        offset = log.stat().st_size if log.exists() else 0
        self.start_portal(portal, wait=False)
        try:
            portal.processes[0].wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{portal.origin}: the web server started instead of refusing") from None
        finally:
            portal.stop()
        with open(log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def stop(self) -> None:
        dev.stop_processes([process for portal in self.portals for process in portal.processes])
        for portal in self.portals:
            portal.processes = []

    def logs(self, portal: dev.Portal, lines=60) -> str:
        text = ""
        for name in ("web.log", "worker.log"):
            path = portal.var_dir / name
            if path.exists():
                text += f"--- {portal.origin} {name}\n" + "\n".join(path.read_text().splitlines()[-lines:]) + "\n"
        return text

    def write(self, portal: dev.Portal, tag: str) -> None:
        """A ledgered change made the way an operator makes one: a management command (a new user)."""
        portal.manage("createsuperuser", "--no-input", "--username", f"op-{tag}", "--email", f"op-{tag}@example.org")

    def peers_of(self, portal: dev.Portal) -> list[dev.Portal]:
        return [peer for peer in self.portals if peer is not portal]


def http(url: str, *, data: bytes | None = None, timeout=10.0) -> tuple[int, str, dict]:
    """(status, body, headers) of a GET (or a POST of `data`), whatever the status."""
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), dict(error.headers)


def checkpoint(portal: dev.Portal) -> tuple[tcheckpoint.Checkpoint, str] | None:
    """The portal's newest checkpoint, verified with its log key, and the note as served."""
    status, body, _ = http(f"{portal.url}/ledger/checkpoint")
    if status != 200:
        return None
    return tcheckpoint.open_checkpoint(body, tnote.Verifier(portal.log_key), origin=portal.origin), body


def cosigners(portal: dev.Portal, witnesses) -> tuple[int, set[str]]:
    """(tree size, origins of `witnesses` whose valid cosignature the served checkpoint carries)."""
    found = checkpoint(portal)
    if found is None:
        return 0, set()
    head, note = found
    valid = set()
    for witness in witnesses:
        try:
            tcheckpoint.verify_cosignature(note, head, tcheckpoint.CosignatureVerifier(witness.witness_key))
            valid.add(witness.origin)
        except tnote.NoteError:
            pass
    return head.size, valid


def wait_for(predicate, timeout=60.0, every=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None
