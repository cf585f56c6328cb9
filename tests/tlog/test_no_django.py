"""ledger/tlog must run without Django: auditors install only `cryptography`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "ledger" / "tlog").glob("*.py") if p.stem != "__init__")


def test_modules_import_without_django() -> None:
    assert {"audit", "block", "canonical", "checkpoint", "commitment", "merkle", "note"} <= set(
        MODULES)
    code = (
        "import importlib, sys\n"
        "sys.modules['django'] = None  # any import of django now fails loudly\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('ledger.tlog.' + name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert loaded == ['django'] and sys.modules['django'] is None, loaded\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_no_django_in_sys_modules_after_plain_import() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('ledger.tlog.' + name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
