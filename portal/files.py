"""The portal's own files (SQLite database, uploads, keys) are readable by their owner only."""
from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Creates a folder (and missing parents) as 0700; an existing one is left as its owner set it."""
    path = Path(path)
    if not path.exists():
        if not path.parent.exists():
            private_dir(path.parent)
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is filtered through the umask


def private_file(path: Path) -> None:
    """Creates an empty file as 0600 when it does not exist yet, so that whoever fills it inherits that."""
    path = Path(path)
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def open_to_others(path: Path) -> str | None:
    """The mode of a file or folder when group or others may read it, else None."""
    path = Path(path)
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    return f"{mode:o}" if mode & 0o077 else None


def sqlite_files(name) -> list[Path]:
    """A SQLite database file with the journal files SQLite may create beside it."""
    if not name or str(name) == ":memory:" or str(name).startswith("file:"):
        return []
    return [Path(f"{name}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


def protect_sqlite(sender, connection, **kwargs) -> None:
    """connection_created: a database SQLite just created (a test database too) becomes 0600."""
    if connection.vendor != "sqlite":
        return
    for path in sqlite_files(connection.settings_dict.get("NAME")):
        if open_to_others(path):
            os.chmod(path, PRIVATE_FILE)


def prepare(settings) -> None:
    """At start: the var folder, uploads and key folders exist as 0700, the SQLite file as 0600."""
    for folder in (settings.VAR_DIR, settings.MEDIA_ROOT, settings.PORTAL_KEYS_DIR):
        private_dir(folder)
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and sqlite_files(database["NAME"]):
        private_file(Path(database["NAME"]))
