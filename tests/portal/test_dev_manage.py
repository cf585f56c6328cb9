"""`python3 dev.py manage …` runs a management command with the venv and `run`'s settings."""
import subprocess
import sys

import pytest
from django.conf import settings

from tests.processes import process_env


def dev(*args, tmp_path):
    return subprocess.run([sys.executable, "dev.py", *args], cwd=settings.BASE_DIR, capture_output=True, text=True,
                          env=process_env(PORTAL_VAR_DIR=str(tmp_path / "var")), timeout=300)


@pytest.mark.django_db  # the commands' processes use the test database
def test_manage_runs_a_command_and_passes_its_exit_status(tmp_path):
    missing_keys = dev("manage", "check", tmp_path=tmp_path)
    assert missing_keys.returncode == 1 and "init_keys" in missing_keys.stderr

    keys = dev("manage", "init_keys", tmp_path=tmp_path)
    assert keys.returncode == 0 and "log key:" in keys.stdout, keys.stdout + keys.stderr
    done = dev("manage", "check", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified" in done.stderr + done.stdout and "ERRORS" not in done.stderr

    unknown = dev("manage", "no_such_command", tmp_path=tmp_path)
    assert unknown.returncode != 0
    assert "Unknown command: 'no_such_command'" in unknown.stderr
