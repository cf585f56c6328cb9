#!/usr/bin/env python3
"""Set up and run Gongxin, or its tests, on a fresh machine with only Python 3.11+.

    python3 dev.py run     # venv, install, keys, demo data; three peer portals, each with a Celery worker and beat
    python3 dev.py test    # venv, install, then the whole test suite (pytest); extra args go to pytest
    python3 dev.py totp    # the demo staff users' current one-time code for the admin login
    python3 dev.py manage COMMAND [ARGS]   # a Django management command, as `run`'s first portal (venv, settings, var/)

`Portal` and `federation_*` below are also the tests' and benchmarks' way to run real portals
(tests/federation/harness.py), so this file stays standard library only.
"""
import concurrent.futures
import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
# Settings a portal must not inherit from the shell or the test run: each portal has its own.
PORTAL_OWN_ENV = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "PORTAL_VAR_DIR", "PORTAL_ORIGIN",
                  "PORTAL_CELERY_DIR", "PORTAL_KEYS_DIR", "PORTAL_SIGNING_KEY_FILE", "PORTAL_WITNESS_KEY_FILE",
                  "PORTAL_PSEUDONYM_KEY_FILE", "PORTAL_DATA_KEYS_FILE", "LEDGER_TILES_DIR", "LEDGER_MIRROR_DIR")


def step(message):
    print(f"==> {message}", flush=True)


def ensure_env(requirements: str) -> None:
    """Creates .venv and installs the pinned requirements when they changed since the last time."""
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py itself may be run by an older python3)
        sys.exit(f"Gongxin needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        step("creating the virtual environment .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    req = ROOT / requirements
    digest = hashlib.sha256(req.read_bytes() + (ROOT / "requirements.txt").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if not stamp.exists() or stamp.read_text() != digest:
        step(f"installing {requirements}")
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "-r", req], check=True)
        stamp.write_text(digest)


class Portal:
    """One portal as its own process tree: var dir (SQLite, keys, Celery queue), web server, worker + beat."""

    def __init__(self, *, origin: str, port: int, var_dir: Path, python=PY, host="127.0.0.1", env=None):
        self.origin, self.port, self.host, self.var_dir, self.python = origin, port, host, Path(var_dir), python
        base = {k: v for k, v in (os.environ if env is None else env).items() if k not in PORTAL_OWN_ENV}
        self.env = {**base, "PORTAL_VAR_DIR": str(self.var_dir), "PORTAL_ORIGIN": origin,
                    "PYTHONUNBUFFERED": "1"}
        self.log_key = self.witness_key = ""
        self.processes: list[subprocess.Popen] = []

    def __repr__(self):
        return f"<Portal {self.origin} at {self.url}>"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def manage(self, *args, check=True) -> subprocess.CompletedProcess:
        """Runs `manage.py ARGS` as this portal; on failure the error carries its output."""
        done = subprocess.run([self.python, "manage.py", *args], cwd=ROOT, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and done.returncode:
            raise RuntimeError(f"{self.origin}: manage.py {' '.join(args)} exited {done.returncode}:\n{done.stdout}")
        return done

    def init_keys(self) -> None:
        """Creates the portal's keys (those missing) and learns the verifier keys its peers need."""
        self.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # database, uploads, keys: the owner's only
        os.chmod(self.var_dir, 0o700)
        for line in self.manage("init_keys").stdout.splitlines():
            label, _, key = line.partition(": ")
            if label == "log key":
                self.log_key = key.strip()
            elif label == "witness key":
                self.witness_key = key.strip()
        if not (self.log_key and self.witness_key):
            raise RuntimeError(f"{self.origin}: init_keys printed no log key and witness key")

    def configured_peers(self) -> set[str]:
        return {line.split("\t")[0] for line in self.manage("peers", "list").stdout.splitlines() if "\t" in line}

    def add_peers(self, peers) -> None:
        """`manage.py peers add` for each of `peers`, in one process (one Django start-up, not one each)."""
        calls = "".join(
            f"call_command('peers', 'add', '--name', {peer.origin!r}, '--url', {peer.url!r}, "
            f"'--log-key', {peer.log_key!r}, '--witness-key', {peer.witness_key!r})\n" for peer in peers)
        if calls:
            self.manage("shell", "-c", "from django.core.management import call_command\n" + calls)

    def start(self, *, web_log=None, worker_log=None) -> None:
        """Starts the web server and the Celery worker with beat, each in a process group of its own."""
        self.processes = [
            self._spawn([self.python, "manage.py", "runserver", f"{self.host}:{self.port}", "--noreload"], web_log),
            self._spawn([self.python, "-m", "celery", "-A", "portal", "worker", "-B", "--pool=threads",
                         "--concurrency=4", "--without-gossip", "--without-mingle", "--without-heartbeat",
                         "--loglevel=INFO", "--schedule", str(self.var_dir / "celerybeat-schedule")], worker_log),
        ]

    def _spawn(self, args, log) -> subprocess.Popen:
        out = open(log, "a") if isinstance(log, (str, Path)) else log  # noqa: SIM115 (closed in stop_processes)
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        process.log_file = out if out is not log else None
        return process

    def running(self) -> bool:
        return bool(self.processes) and all(p.poll() is None for p in self.processes)

    def wait_ready(self, timeout=60.0) -> None:
        """Waits until the web server answers (any HTTP status), or raises."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes and self.processes[0].poll() is not None:
                raise RuntimeError(f"{self.origin}: the web server exited with {self.processes[0].returncode}")
            try:
                urllib.request.urlopen(f"{self.url}/ledger/witness/key", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.origin}: no answer at {self.url} within {timeout:.0f} s")

    def stop(self, timeout=5.0) -> None:
        stop_processes(self.processes, timeout)
        self.processes = []


def stop_processes(processes, timeout=5.0) -> None:
    """SIGTERM to each process group, SIGKILL to what is left after `timeout` seconds: no orphans.

    The whole group, because Celery's worker, its beat and pool, and runserver's threads go together;
    a worker busy in a slow task would otherwise hold the shutdown for as long as the task takes.
    """
    def signal_group(process, sig):
        try:
            if hasattr(os, "killpg"):
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass

    for process in processes:
        signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))  # the group may outlive its leader
        process.wait()
        if getattr(process, "log_file", None):
            process.log_file.close()


def federation_prepare(portals, *, migrate=True, fresh=False) -> None:
    """Keys for every portal, its database migrated, then each one every other one's peer
    (all at once; `fresh`: the databases are new, so no peer is configured yet)."""
    def each(function, items):
        with concurrent.futures.ThreadPoolExecutor(len(items) or 1) as pool:
            list(pool.map(function, items))  # list(): re-raises a portal's error

    each(Portal.init_keys, portals)
    if migrate:
        each(lambda portal: portal.manage("migrate", "--no-input"), portals)
    def add_peers(portal):
        configured = set() if fresh else portal.configured_peers()
        portal.add_peers([peer for peer in portals if peer is not portal and peer.origin not in configured])

    each(add_peers, portals)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def debug_for(address: str) -> str:
    """DEBUG for runserver at address: debug pages (tracebacks, settings) only where only this machine sees them."""
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else "127.0.0.1"
    if host in LOOPBACK:
        return os.environ.get("DEBUG", "1")
    if os.environ.get("DEBUG", "0") not in ("", "0"):
        step(f"DEBUG stays off: {host} is reachable from other machines, which must never see debug pages")
    return "0"


def run(extra):
    ensure_env("requirements.txt")
    address = extra[0] if extra else "127.0.0.1:8000"
    host, _, port = address.rpartition(":")
    env = {**os.environ, "DEBUG": debug_for(address),
           # Short intervals, so that a newcomer sees cosigned checkpoints within seconds.
           "LEDGER_SEAL_INTERVAL": os.environ.get("LEDGER_SEAL_INTERVAL", "1"),
           "LEDGER_ANCHOR_INTERVAL": os.environ.get("LEDGER_ANCHOR_INTERVAL", "2")}
    first = Portal(origin=os.environ.get("PORTAL_ORIGIN", "gongxin.example/city-a"), host=host or "127.0.0.1",
                   port=int(port), var_dir=Path(os.environ.get("PORTAL_VAR_DIR", ROOT / "var")), env=env)
    first.env.update({k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if k in os.environ})
    peers = [Portal(origin=f"gongxin.example/city-{name}", host=first.host, port=first.port + i,
                    var_dir=first.var_dir / f"peer-{first.port + i}", env=env)
             for i, name in ((1, "b"), (2, "c"))]
    portals = [first, *peers]
    if "DATABASE_URL" in os.environ:
        step("creating the peers' PostgreSQL databases")
        _postgres_peers(first.env["DATABASE_URL"], peers)
    step("preparing the keys and databases of three peer portals")
    federation_prepare(portals)
    first.manage("collectstatic", "--no-input", "--verbosity", "0")
    step("loading demo data")
    demo = first.manage("seed_demo").stdout
    print(demo, end="")
    first.manage("seal")
    # Ctrl-C, and a SIGTERM from a supervisor, stop all three; even where the shell started us ignoring SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    logs = first.var_dir / "log"
    logs.mkdir(exist_ok=True)
    step(f"starting the portals, each with a Celery worker and beat (logs in {logs}/)")
    try:
        for portal in portals:
            name = portal.port
            portal.start(web_log=None if portal is first else logs / f"web-{name}.log",
                         worker_log=logs / f"worker-{name}.log")
        for portal in portals:
            portal.wait_ready()
        for portal in portals:
            print(f"    {portal.origin:28} {portal.url}/   checkpoint: {portal.url}/ledger/checkpoint", flush=True)
        # The logins again, below the servers' start-up lines that pushed them off the screen.
        print(demo[demo.find("Demo logins"):], end="", flush=True)
        step(f"the portal: http://{first.host}:{first.port}/  (Ctrl-C stops all three)")
        while all(portal.running() for portal in portals):
            time.sleep(0.5)
        step("a portal process exited; stopping the others (see the logs)")
    except KeyboardInterrupt:
        step("stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not leave orphans
            signal.signal(sig, signal.SIG_IGN)
        stop_processes([process for portal in portals for process in portal.processes])


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _postgres_peers(url: str, peers) -> None:
    """The peers' databases beside the first one's: NAME_8001, NAME_8002 (created once)."""
    base, _, name = url.rpartition("/")
    for peer in peers:
        peer.env["DATABASE_URL"] = f"{base}/{name}_{peer.port}"
    script = ("import sys, psycopg\n"
              "with psycopg.connect(sys.argv[1] + '/postgres', autocommit=True) as c:\n"
              "    for n in sys.argv[2:]:\n"
              "        if not c.execute('SELECT 1 FROM pg_database WHERE datname = %s', [n]).fetchone():\n"
              "            c.execute(f'CREATE DATABASE \"{n}\"')\n")
    subprocess.run([PY, "-c", script, base, *(f"{name}_{peer.port}" for peer in peers)], check=True)


def test(extra):
    ensure_env("requirements-dev.txt")
    args = [PY, "-m", "pytest", *extra]
    step(" ".join(str(a) for a in args[1:]))
    sys.exit(subprocess.run(args, cwd=ROOT).returncode)


def manage(extra):
    """`manage.py ARGS` with the venv's Python and the settings `run` gives its first portal."""
    ensure_env("requirements.txt")
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    sys.exit(subprocess.run([PY, "manage.py", *extra], cwd=ROOT, env=env).returncode)


def totp(extra):
    ensure_env("requirements.txt")
    subprocess.run([PY, "manage.py", "seed_demo", "--code"], cwd=ROOT, check=True,
                   env={**os.environ, "DEBUG": os.environ.get("DEBUG", "1")})


def main():
    commands = {"run": run, "test": test, "totp": totp, "manage": manage}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
