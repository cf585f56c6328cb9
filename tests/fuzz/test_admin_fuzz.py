"""Hostile input to every admin page and every site page: always an answer below 500.

Every ModelAdmin registered in the admin site is fetched (changelist, add, change) with hostile query
strings and object ids, and its add and change forms are posted with hostile values in every field,
as a superuser and as clerks; every URL pattern of the site is fetched with hostile path segments,
anonymously and as each kind of user. All server errors are collected and reported together.
"""
import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

HUGE = str(2**70)
# Values a form field must refuse (or store) without a server error.
HOSTILE_VALUES = [
    HUGE, "-" + HUGE, "-1", "x" * 70_000, "2026-02-30", "2026-13-45 25:61", "{", "[" * 5000,
    '{"a": "\\u0000"}', '"\\ud800"', "1e999", "NaN", "\u202e\ufeff", "%00", "../../etc/passwd",
]
HOSTILE_QUERIES = [
    {"q": "\x00"}, {"q": "x" * 70_000}, {"q": "%"}, {"p": "99999999999999999999"}, {"p": "-1"},
    {"o": "99999"}, {"o": "1.-999"}, {"all": "", "p": HUGE}, {"e": "1"}, {"bogus": HUGE},
    {"id__gt": HUGE}, {"pk": HUGE}, {"_to_field": "password"}, {"_popup": "1", "_to_field": "\x00"},
]
HOSTILE_IDS = [HUGE, "-" + HUGE, "0", "x" * 5000, "%00", "%FF%FE", "1%20OR%201=1"]
HOSTILE_SEGMENTS = [HUGE, "-1", "x" * 5000, "%00", "a%00b", "%FF%FE", "..%2F..%2F", "%E2%80%AE"]


class Probe:
    """Sends requests as one user; a server error is recorded (and its database work undone), not raised."""

    def __init__(self, user):
        self.client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            self.client.force_login(user)
        self.name = user.username if user else "anonymous"
        self.errors = []
        self.count = 0

    def send(self, method, url, data=None):
        savepoint = transaction.savepoint()
        response = getattr(self.client, method)(url, data)
        self.count += 1
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
            self.errors.append(f"{self.name} {method.upper()} {url[:200]} {repr(data)[:200]} -> {response.status_code}")
        else:
            transaction.savepoint_commit(savepoint)
        return response


def _form_fields(model_admin, request_user, obj=None) -> list[str]:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = request_user
    return list(model_admin.get_form(request, obj).base_fields)


def _probe_admin(probe, user):
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{name}_changelist")
        add = reverse(f"{name}_add")
        for query in HOSTILE_QUERIES:
            probe.send("get", changelist, query)
        probe.send("get", add)
        for object_id in HOSTILE_IDS:
            probe.send("get", f"{changelist}{object_id}/change/")
            probe.send("post", f"{changelist}{object_id}/delete/", {"post": "yes"})
        probe.send("post", changelist, {"action": "delete_selected", "_selected_action": [HUGE, "\x00", "x"]})
        obj = model._default_manager.order_by("pk").first()
        targets = [(add, None)]
        if obj is not None:
            targets.append((reverse(f"{name}_change", args=[obj.pk]), obj))
        for url, instance in targets:
            fields = _form_fields(model_admin, user, instance)
            for value in HOSTILE_VALUES:
                probe.send("post", url, {name: value for name in fields})


@pytest.mark.parametrize("role", ["superuser", "clerk", "land_clerk"])
def test_admin_answers_hostile_input_without_a_server_error(fuzz_world, role):
    probe = Probe(fuzz_world[role])
    _probe_admin(probe, fuzz_world[role])
    assert probe.count > 500
    assert not probe.errors, "\n".join(probe.errors)


def _admin_models():
    for model in admin.site._registry:
        yield pytest.param(model, id=model._meta.label)


@pytest.mark.parametrize("model", list(_admin_models()))
def test_every_admin_change_page_opens_for_a_superuser(fuzz_world, model):
    from django.contrib.auth.models import Group

    from ledger.services import ledger_seal

    Group.objects.create(name="fuzz")
    ledger_seal()  # a block, and the signing key's row
    _federation_and_login_records(fuzz_world["superuser"])
    probe = Probe(fuzz_world["superuser"])
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    for url in (reverse(f"{name}_change", args=[obj.pk]), reverse(f"{name}_history", args=[obj.pk])):
        assert probe.send("get", url).status_code == 200, probe.errors


def _federation_and_login_records(superuser) -> None:
    """A row for each admin that only peers, witnessing and failed logins fill: a peer, what it
    cosigned, what we saw and mirrored of it, an alarm, a failed login, an admin's backup codes."""
    from django_otp.plugins.otp_static.models import StaticDevice

    from ledger import services
    from ledger.models import Cosignature, MirroredLog, MonitoredCheckpoint, WitnessedCheckpoint
    from ledger.tlog.checkpoint import generate_cosignature_key
    from ledger.tlog.note import generate_key

    origin = "fuzz.example/peer"
    peer = services.peer_add(origin=origin, url="http://127.0.0.1:9", log_key=generate_key(origin)[1],
                             witness_key=generate_cosignature_key(origin)[1])
    note = f"{origin}\n1\n{'A' * 43}=\n\n— {origin} AAAA\n"
    WitnessedCheckpoint.objects.create(origin=origin, size=1, root=bytes(32), note=note, cosignature="— x AAAA\n")
    Cosignature.objects.create(peer=peer, tree_size=1, line="— x AAAA\n", timestamp=1)
    MonitoredCheckpoint.objects.create(peer=peer, size=1, root=bytes(32), note=note)
    MirroredLog.objects.create(peer=peer, size=1, root=bytes(32), note=note)
    services.alarm_raise(kind="fork", origin=origin, message="fuzz", evidence=note)
    Client(REMOTE_ADDR="192.0.2.7").post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    StaticDevice.objects.create(user=superuser, name="backup codes")


def _site_routes(resolver=None, prefix=""):
    """Every non-admin URL pattern as (route, parameter names)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                yield from _site_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and "<" in route:
            yield route


def _fill(route: str, segment: str) -> str:
    import re

    return "/" + re.sub(r"<[^>]+>", segment, route).lstrip("^").rstrip("$")


@pytest.mark.parametrize("role", ["anonymous", "citizen", "clerk", "department"])
def test_site_pages_answer_hostile_paths_without_a_server_error(fuzz_world, role):
    probe = Probe(fuzz_world[role])
    routes = list(_site_routes())
    assert len(routes) > 20
    for route in routes:
        for segment in HOSTILE_SEGMENTS:
            url = _fill(route, segment)
            probe.send("get", url)
            probe.send("post", url, {"reason": "\x00", "decision": HUGE})
    for path in ("/%00", "/land/%00/", "/licences/%FF/", "/api/%00", "/static/%00", "/" + "a/" * 2000):
        probe.send("get", path)
    for query in HOSTILE_QUERIES:
        probe.send("get", "/land/", query)
        probe.send("get", "/land/notices/", query)
    assert not probe.errors, "\n".join(probe.errors)
