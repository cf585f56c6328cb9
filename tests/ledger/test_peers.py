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
