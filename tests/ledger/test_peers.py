"""Peers: the CLI and the admin configure them, every change is ledgered, bad keys are refused."""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ledger.models import Entry, Peer
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note

pytestmark = pytest.mark.django_db

ORIGIN = "gongxin.example/city-b"


def peer_keys(origin=ORIGIN):
    _signer, log_key = note.generate_key(origin)
    _cosigner, witness_key = tcheckpoint.generate_cosignature_key(origin)
    return log_key, witness_key


def run(*args):
    out = StringIO()
    call_command("peers", *args, stdout=out)
    return out.getvalue()


def peer_entries():
    return [json.loads(bytes(data)) for data in Entry.objects.filter(kind="ledger.peer").order_by("id")
            .values_list("data", flat=True)]


def test_add_list_remove_peer_is_ledgered():
    log_key, witness_key = peer_keys()
    out = run("add", "--name", ORIGIN, "--url", "http://127.0.0.1:8001/", "--log-key", log_key,
              "--witness-key", witness_key)
    assert f"Added peer {ORIGIN}" in out
    peer = Peer.objects.get(origin=ORIGIN)
    assert peer.url == "http://127.0.0.1:8001" and peer.active and peer.anchor.cosigned_size == 0
    listing = run("list")
    assert ORIGIN in listing and log_key in listing and witness_key in listing
    run("remove", ORIGIN)
    assert not Peer.objects.exists()
    created, deleted = peer_entries()
    assert (created["op"], deleted["op"]) == ("create", "delete") and created["ref"] == deleted["ref"]
    assert created["public"]["origin"] == ORIGIN and created["public"]["log_key"] == log_key


@pytest.mark.parametrize(("args", "problem"), [
    (["--log-key", "not-a-key"], "log_key"),
    (["--log-key", "{log}", "--witness-key", "x+00000000+AAAA"], "witness_key"),
    (["--log-key", "{log}", "--url", "ftp://127.0.0.1/"], "url"),
    (["--log-key", "{log}", "--url", "http://user:pw@127.0.0.1/"], "url"),
    (["--log-key", "{witness}"], "log_key"),  # a cosigner key is not a log key
])
def test_add_refuses_bad_keys_and_urls(args, problem):
    log_key, witness_key = peer_keys()
    args = [a.format(log=log_key, witness=witness_key) for a in args]
    if "--url" not in args:
        args += ["--url", "http://127.0.0.1:8001"]
    with pytest.raises(CommandError, match=problem):
        run("add", "--name", ORIGIN, *args)
    assert not Peer.objects.exists() and not peer_entries()


def test_add_twice_and_remove_unknown_are_clear_errors():
    log_key, _ = peer_keys()
    run("add", "--name", ORIGIN, "--url", "http://127.0.0.1:8001", "--log-key", log_key)
    with pytest.raises(CommandError, match="exists"):
        run("add", "--name", ORIGIN, "--url", "http://127.0.0.1:8001", "--log-key", log_key)
    with pytest.raises(CommandError, match="No peer"):
        run("remove", "gongxin.example/nowhere")


def make_user(username, role, **extra):
    from portal.models import User

    user = User(username=username, role=role, is_staff=role in ("clerk", "admin"), **extra)
    user.set_password("pw")
    user.save()
    return user


def test_peer_admin_is_for_administrators_only(client):
    from django.contrib.auth.models import Permission

    admin = make_user("root", "admin", is_superuser=True)
    clerk = make_user("clerk", "clerk")
    # Even a clerk who was given the model permissions may not change whose checkpoints we cosign.
    clerk.user_permissions.add(*Permission.objects.filter(codename__endswith="_peer"))
    citizen = make_user("citizen", "citizen")
    log_key, witness_key = peer_keys()
    add = "/admin/ledger/peer/add/"
    form = {"origin": ORIGIN, "url": "http://127.0.0.1:8001", "log_key": log_key, "witness_key": witness_key,
            "active": "on"}
    for user in (clerk, citizen):
        client.force_login(user)
        response = client.post(add, form)
        assert response.status_code in (302, 403) and not Peer.objects.exists()
        assert client.get("/admin/ledger/peer/").status_code in (302, 403)
    client.force_login(admin)
    bad = client.post(add, {**form, "log_key": "gongxin+deadbeef+AAAA"})
    assert bad.status_code == 200 and not Peer.objects.exists()
    assert "verifier key" in bad.content.decode() or "验证" in bad.content.decode()
    assert client.post(add, form).status_code == 302
    peer = Peer.objects.get(origin=ORIGIN)
    change = f"/admin/ledger/peer/{peer.pk}/change/"
    assert client.post(change, {**form, "active": ""}).status_code == 302
    peer.refresh_from_db()
    assert not peer.active
    assert [e["op"] for e in peer_entries()] == ["create", "update"]
    for user in (clerk, citizen):
        client.force_login(user)
        assert client.get(change).status_code in (302, 403)
        assert client.post(change, form).status_code in (302, 403)
    peer.refresh_from_db()
    assert not peer.active


def test_alarm_admin_is_read_only_and_alarms_are_public_over_the_api(client):
    from ledger.services import alarm_raise

    alarm_raise(kind="log-inconsistent", origin=ORIGIN, message="two roots for size 5", evidence="note A\nnote B")
    admin = make_user("root", "admin", is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/ledger/alarm/")
    assert listing.status_code == 200 and "two roots for size 5" in listing.content.decode()
    assert client.get("/admin/ledger/alarm/add/").status_code == 403
    client.logout()
    [alarm] = client.get("/api/ledger/alarms").json()
    assert (alarm["kind"], alarm["evidence"]) == ("log-inconsistent", "note A\nnote B")
    assert client.post("/api/ledger/alarms", {}).status_code in (403, 405)


def test_witness_key_check_warns_when_peers_exist_without_the_key(tmp_path):
    from django.test import override_settings

    from ledger.checks import check_witness_key

    missing = tmp_path / "witness.key"
    with override_settings(PORTAL_WITNESS_KEY_FILE=missing):
        assert check_witness_key() == []  # no peers: nothing to cosign yet
        log_key, _ = peer_keys()
        run("add", "--name", ORIGIN, "--url", "http://127.0.0.1:8001", "--log-key", log_key)
        warning = next(w for w in check_witness_key() if w.id == "ledger.W006")
    assert warning.id == "ledger.W006" and "init_keys" in warning.hint
    [warning] = check_witness_key()  # the key file exists; the peer still lacks a witness key
    assert warning.id == "ledger.W008" and ORIGIN in warning.msg
    Peer.objects.update(witness_key=peer_keys()[1])
    assert check_witness_key() == []


def test_init_keys_writes_a_witness_key_and_prints_both_verifier_keys(tmp_path):
    import stat

    from django.test import override_settings

    paths = {name: tmp_path / name for name in ("s.key", "w.key", "p.key", "d.keys")}
    with override_settings(PORTAL_SIGNING_KEY_FILE=paths["s.key"], PORTAL_WITNESS_KEY_FILE=paths["w.key"],
                           PORTAL_PSEUDONYM_KEY_FILE=paths["p.key"], PORTAL_DATA_KEYS_FILE=paths["d.keys"]):
        out = StringIO()
        call_command("init_keys", stdout=out)
        again = StringIO()
        call_command("init_keys", stdout=again)
    assert stat.S_IMODE(paths["w.key"].stat().st_mode) == 0o600
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines()
                 if line.startswith(("log key: ", "witness key: ")))
    log_key, witness_key = lines["log key"], lines["witness key"]
    assert note.Verifier(log_key) and tcheckpoint.CosignatureVerifier(witness_key).verifier_key == witness_key
    assert log_key != witness_key and witness_key.startswith("gongxin.example/city-a+")
    assert f"witness key: {witness_key}" in again.getvalue()  # an existing key is kept, and printed


def test_quorum_below_one_is_a_configuration_error():
    from django.test import override_settings

    from ledger.checks import check_witness_quorum

    assert check_witness_quorum() == []
    with override_settings(LEDGER_WITNESS_QUORUM=0):
        assert [e.id for e in check_witness_quorum()] == ["ledger.E007"]


def test_the_same_unacknowledged_alarm_is_stored_once():
    from ledger.models import Alarm
    from ledger.services import alarm_raise

    for _ in range(3):
        alarm_raise(kind="peer-refused", origin=ORIGIN, message="422 at size 9", evidence="note")
    alarm_raise(kind="peer-refused", origin=ORIGIN, message="422 at size 10", evidence="note")
    assert Alarm.objects.count() == 2
    Alarm.objects.update(acknowledged=True)
    alarm_raise(kind="peer-refused", origin=ORIGIN, message="422 at size 10", evidence="note")
    assert Alarm.objects.count() == 3
