"""Who acted is in every entry (pseudonymous), and grants of access are ledgered like data."""
import json
import os
import stat

import pytest
from django.contrib.auth.models import Group
from django.core import checks
from django.core.management import call_command
from django.test import override_settings
from guardian.shortcuts import assign_perm, remove_perm

from ledger.actor import pseudonym
from ledger.models import Entry
from portal.models import Role, User
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db


def entries(kind=None, ref=None):
    qs = Entry.objects.order_by("id")
    if kind:
        qs = qs.filter(kind=kind)
    if ref:
        qs = qs.filter(ref=ref)
    return [json.loads(bytes(e.data)) for e in qs]


@pytest.fixture
def clerk():
    return User.objects.create_user("clerk_li", password="pw-123456!", role=Role.CLERK, office="city-a/north",
                                    first_name="李", last_name="四", email="li.si@example.cn", is_staff=True)


def test_a_request_is_ledgered_with_the_users_pseudonym_role_and_office(client, clerk):
    group = Group.objects.create(name="editors")
    clerk.groups.add(group)
    superuser = User.objects.create_superuser("root_admin", "root@example.cn", "pw-123456!")
    client.force_login(superuser)
    response = client.post(f"/admin/portal/user/{clerk.pk}/change/", {
        "username": "clerk_li", "role": "clerk", "office": "city-a/south", "is_active": "on", "is_staff": "on",
        "groups": [group.pk], "first_name": "李", "last_name": "四", "email": "li.si@example.cn",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-11-27", "date_joined_1": "10:00:00",
    })
    assert response.status_code == 302, response.content[:2000]
    entry = entries(ref=clerk.public_ref)[-1]
    assert entry["changed"] == ["office"] and entry["public"]["office"] == "city-a/south"
    assert entry["actor"] == {"id": pseudonym(superuser.pk), "office": "", "role": "admin"}
    assert "root_admin" not in json.dumps(entry, ensure_ascii=False)


def test_object_permission_grants_and_revocations_are_ledgered(clerk):
    record = Record.objects.create(title="r")
    assign_perm("ledgerapp.change_record", clerk, record)
    grant = entries(kind="portal.userobjectpermission")[-1]
    assert grant["op"] == "create" and grant["public"] == {"permission": grant["public"]["permission"]}
    assert clerk.has_perm("ledgerapp.change_record", record)
    remove_perm("ledgerapp.change_record", clerk, record)
    assert entries(kind="portal.userobjectpermission")[-1]["op"] == "delete"


def test_group_membership_and_global_permissions_are_ledgered(clerk):
    group = Group.objects.create(name="land-clerks")
    before = len(entries(ref=clerk.public_ref))
    group.user_set.add(clerk)
    clerk.user_permissions.add(*list(__import__("django.contrib.auth.models", fromlist=["Permission"])
                                     .Permission.objects.filter(codename="view_record")))
    after = entries(ref=clerk.public_ref)
    assert len(after) == before + 2
    assert after[-2]["changed"] == ["groups"] and after[-1]["changed"] == ["user_permissions"]


@pytest.mark.django_db(transaction=True)
def test_management_commands_act_as_the_command(tmp_path):
    import subprocess
    import sys

    from tests.processes import process_env

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from tests.ledgerapp.models import Record; Record.objects.create(title='from shell')"],
        env=process_env(), capture_output=True, text=True, timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert result.returncode == 0, result.stderr
    record = Record.objects.get(title="from shell")
    assert entries(ref=record.public_ref)[0]["actor"] == {"id": "command:shell", "office": "", "role": "system"}


def test_system_checks_report_a_missing_or_world_readable_key(tmp_path):
    from ledger.checks import check_key_files

    readable = tmp_path / "signing.key"
    readable.write_text("x")
    os.chmod(readable, 0o644)
    with override_settings(PORTAL_SIGNING_KEY_FILE=readable, PORTAL_PSEUDONYM_KEY_FILE=tmp_path / "missing.key"):
        errors = check_key_files()
    messages = " ".join(e.msg for e in errors)
    assert {e.id for e in errors} == {"ledger.E001"}
    assert "readable by others" in messages and "does not exist" in messages


def test_init_keys_writes_owner_only_key_files(tmp_path):
    paths = {name: tmp_path / name for name in ("s.key", "p.key", "d.keys")}
    with override_settings(PORTAL_SIGNING_KEY_FILE=paths["s.key"], PORTAL_PSEUDONYM_KEY_FILE=paths["p.key"],
                           PORTAL_DATA_KEYS_FILE=paths["d.keys"]):
        from io import StringIO

        out = StringIO()
        call_command("init_keys", stdout=out)
    for path in paths.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "gongxin.example/city-a+" in out.getvalue()


def test_production_settings_mistakes_are_checks():
    from portal.checks import check_settings

    with override_settings(DEBUG=False, SECRET_KEY="dev-insecure-gongxin-secret-key-change-me-for-any-real-deployment"):
        assert "portal.E001" in {e.id for e in check_settings()}
    with override_settings(PORTAL_ORIGIN="https://bad origin"):
        assert "portal.E003" in {e.id for e in check_settings()}
    assert checks.run_checks(tags=["models"]) == []


def test_group_permissions_are_ledgered_under_a_derived_reference():
    from django.contrib.auth.models import Permission

    from ledger.services import ledger_seal
    from ledger.verification import verify_ledger

    group = Group.objects.create(name="licence-clerks")
    created = entries(kind="auth.group")[-1]
    assert created["op"] == "create" and created["public"] == {"name": "licence-clerks"}
    assert created["ref"] == group.public_ref and len(created["ref"]) == 26  # keyed digest, not the id
    group.permissions.add(Permission.objects.get(codename="view_record"))
    assert entries(kind="auth.group")[-1]["changed"] == ["permissions"]
    ledger_seal()
    assert verify_ledger() == []
    group.delete()
    assert entries(kind="auth.group")[-1]["op"] == "delete"


def test_bulk_writes_to_groups_are_ledgered_like_a_ledgered_models(clerk):
    from ledger.services import ledger_seal_all
    from ledger.verification import verify_ledger

    group = Group.objects.create(name="land-clerks")
    clerk.groups.add(group)
    Group.objects.filter(pk=group.pk).update(name="land-registrars")
    assert entries(ref=group.public_ref)[-1]["public"] == {"name": "land-registrars"}
    clerk.groups.all().update(name="registrars")  # through a related manager, too
    assert entries(ref=group.public_ref)[-1]["public"] == {"name": "registrars"}
    [other] = Group.objects.bulk_create([Group(name="auditors")])
    assert entries(ref=other.public_ref)[-1]["op"] == "create"
    ledger_seal_all()
    assert verify_ledger() == []


def test_deleting_a_group_or_a_permission_is_ledgered_for_everyone_who_held_it(clerk):
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from ledger.services import ledger_seal_all
    from ledger.verification import verify_ledger

    group = Group.objects.create(name="land-clerks")
    clerk.groups.add(group)
    permission = Permission.objects.create(codename="seal_register", name="Can seal the register",
                                           content_type=ContentType.objects.get_for_model(Record))
    group.permissions.add(permission)
    clerk.user_permissions.add(permission)
    permission.delete()  # its link rows go without m2m_changed: the holders changed all the same
    assert entries(ref=group.public_ref)[-1]["changed"] == ["permissions"]
    assert entries(ref=clerk.public_ref)[-1]["changed"] == ["user_permissions"]
    group.delete()
    assert entries(ref=clerk.public_ref)[-1]["changed"] == ["groups"]
    ledger_seal_all()
    assert verify_ledger() == []
