#!/usr/bin/env python3
"""Set up and run Gongxin, or its tests, on a fresh machine with only Python 3.11+.

    python3 dev.py run     # venv, install, migrate, keys, demo data; portal + Celery worker and beat
    python3 dev.py test    # venv, install, then the whole test suite (pytest); extra args go to pytest
    python3 dev.py totp    # the demo staff users' current one-time code for the admin login
"""
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


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


def manage(*args, env=None):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True, env=env)


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
    env = {**os.environ, "DEBUG": debug_for(address)}
    for folder in ("", "keys", "media"):  # database, uploads, keys: the owner's only
        path = ROOT / "var" / folder
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    step("preparing the database and keys")
    manage("init_keys", env=env)
    manage("migrate", "--no-input", env=env)
    manage("collectstatic", "--no-input", "--verbosity", "0", env=env)
    step("loading demo data")
    manage("seed_demo", env=env)
    manage("seal", env=env)
    step(f"starting the Celery worker with beat, and the portal at http://{address}/")
    worker = subprocess.Popen(
        [BIN / "celery", "-A", "portal", "worker", "-B", "--loglevel=INFO", "--concurrency=2",
         "--schedule", str(ROOT / "var" / "celerybeat-schedule")],
        cwd=ROOT, env=env,
    )
    try:
        manage("runserver", address, env=env)
    except KeyboardInterrupt:
        pass
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test(extra):
    ensure_env("requirements-dev.txt")
    args = [PY, "-m", "pytest", *extra]
    step(" ".join(str(a) for a in args[1:]))
    sys.exit(subprocess.run(args, cwd=ROOT).returncode)


def totp(extra):
    ensure_env("requirements.txt")
    manage("seed_demo", "--code", env={**os.environ, "DEBUG": os.environ.get("DEBUG", "1")})


def main():
    commands = {"run": run, "test": test, "totp": totp}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
