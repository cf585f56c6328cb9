"""A real PostgreSQL streaming replica for tests and benchmarks: a second cluster made with
pg_basebackup from the server of `db` (Django connection settings), started on a free loopback port
and removed afterwards. Needs the primary to accept replication connections from 127.0.0.1 (.ci/run
adds that line to pg_hba.conf)."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


class ReplicaUnavailable(RuntimeError):
    """pg_basebackup is missing or the primary refuses to be copied; the message says which."""


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    return found[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args, **kwargs):
    """Runs a server program as the postgres user (PostgreSQL refuses to run as root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *args], capture_output=True, text=True, **kwargs)


@contextmanager
def streaming_replica(db: dict):
    """Yields the replica's port; `db` is a Django DATABASES entry of the primary."""
    if not Path(pg_bin("pg_basebackup")).exists():
        raise ReplicaUnavailable("pg_basebackup is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="gongxin-replica-"))
    data = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    try:
        done = _as_postgres(pg_bin("pg_basebackup"), "-h", db.get("HOST") or "127.0.0.1",
                            "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres",
                            "-D", str(data), "-R", "-X", "stream", "-c", "fast")
        if done.returncode:
            raise ReplicaUnavailable(
                "pg_basebackup failed (the primary must accept replication connections from 127.0.0.1; "
                f".ci/run allows them in pg_hba.conf): {done.stderr.strip()}")
        port = free_port()
        (data / "postgresql.conf").write_text(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{workdir}'\n"
            "hot_standby = on\nfsync = off\n")
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            for path in (data / "postgresql.conf", data / "pg_hba.conf", data / "pg_ident.conf"):
                shutil.chown(path, "postgres", "postgres")
        started = _as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-l", str(workdir / "replica.log"), "-w", "start")
        if started.returncode:
            raise RuntimeError(started.stderr + (workdir / "replica.log").read_text())
        try:
            yield port
        finally:
            _as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
