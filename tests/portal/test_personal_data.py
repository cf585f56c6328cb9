"""Personal data at rest: users' names encrypted with the data keys, and the database file, uploads and
keys readable by their owner only."""
import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from portal import crypto
from portal.models import Role, User
from tests.licenses.conftest import make_user
from tests.processes import process_env

pytestmark = pytest.mark.django_db


def raw_names(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name, last_name FROM portal_user WHERE id = %s", [user.pk])
        return cursor.fetchone()


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("root", "root@example.cn", "pw-root-long-enough")


def test_names_are_ciphertext_at_rest_and_shown_to_the_admin_only(client, admin_user):
    citizen = make_user("zhao", first_name="晓明", last_name="赵")
    assert "晓明" not in "".join(raw_names(citizen)) and "赵" not in "".join(raw_names(citizen))
    client.force_login(admin_user)
    change = reverse("admin:portal_user_change", args=[citizen.pk])
    response = client.post(change, {
        "username": "zhao", "first_name": "晓红", "last_name": "钱", "email": "", "is_active": "on",
        "role": Role.CITIZEN, "office": "", "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00",
        "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "08:00:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    first, last = raw_names(citizen)
    assert "晓红" not in first and "钱" not in last and crypto.decrypt(first) == "晓红"
    citizen.refresh_from_db()
    assert (citizen.first_name, citizen.last_name) == ("晓红", "钱")
    assert "晓红" in client.get(change).content.decode()
    found = client.get(reverse("admin:portal_user_changelist"), {"q": "zhao"}).content.decode()
    assert change in found
    # Neither a clerk nor another citizen sees the user admin.
    for other in (make_user("clerk-x", Role.CLERK, "transport"), make_user("other")):
        client.force_login(other)
        response = client.get(change)
        assert response.status_code in (302, 403) and "晓红" not in response.content.decode()


def test_rotate_data_keys_re_encrypts_names(tmp_path):
    path = tmp_path / "data.keys"
    crypto.create_data_keys(path)
    with override_settings(PORTAL_DATA_KEYS_FILE=path):
        user = make_user("sun", first_name="小龙", last_name="孙")
        before = raw_names(user)
        call_command("rotate_data_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
        after = raw_names(user)
        assert after[0] != before[0] and after[1] != before[1]
        path.write_text(path.read_text().split()[0] + "\n")  # only the new key left: names still read
        user.refresh_from_db()
        assert (user.first_name, user.last_name) == ("小龙", "孙")
        user.delete()  # its names are under this test's keys, which end with the test


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keys_var_and_sqlite_database_are_created_owner_only(tmp_path):
    var = tmp_path / "var"
    env = process_env(PORTAL_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="portal.settings", DEBUG="1")
    env.pop("DATABASE_URL")
    env.pop("REDIS_URL", None)
    run = [sys.executable, "manage.py"]
    # One start of the portal as an operator would: keys, then a first write to a new database.
    start = ("from django.core.management import call_command\n"
             "from django.core import checks\n"
             "from django.db import connection\n"
             "call_command('init_keys')\n"
             "with connection.cursor() as c: c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)')\n"
             "print(sorted(m.id for m in checks.run_checks(include_deployment_checks=False)))")
    started = subprocess.run([*run, "shell", "-c", start], cwd=settings.BASE_DIR, env=env, check=True,
                             capture_output=True, text=True)
    assert "portal.W010" not in started.stdout
    assert mode(var) == 0o700 and mode(var / "keys") == 0o700 and mode(var / "media") == 0o700
    for key in ("ledger-signing.key", "pseudonym.key", "data.keys"):
        assert mode(var / "keys" / key) == 0o600
    assert mode(var / "gongxin.sqlite3") == 0o600
    assert all(mode(p) == 0o600 for p in var.glob("gongxin.sqlite3*")), list(var.glob("gongxin.sqlite3*"))
    os.chmod(var / "keys", 0o755)
    checked = subprocess.run([*run, "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert "portal.W010" in checked.stderr and "chmod 700" in checked.stderr


def test_uploads_are_owner_only(tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    name = storage.save("contracts/2026/deed.pdf", ContentFile(b"%PDF-1.7 deed"))
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o600
    assert mode(storage.path(name)) == 0o600
    assert mode(tmp_path / "media" / "contracts") == 0o700 and mode(tmp_path / "media" / "contracts" / "2026") == 0o700


def test_a_new_sqlite_database_and_its_journal_are_owner_only(tmp_path):
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = {**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3",
                     "NAME": str(tmp_path / "fresh.sqlite3"), "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL"}}
    wrapper = DatabaseWrapper(settings_dict, alias="fresh")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x)")
            cursor.execute("INSERT INTO t VALUES (1)")
        files = list(tmp_path.glob("fresh.sqlite3*"))
        assert len(files) >= 2 and all(mode(p) == 0o600 for p in files), [(p, oct(mode(p))) for p in files]
    finally:
        wrapper.close()
