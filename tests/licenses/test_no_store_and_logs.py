"""Personal data on the wire: no-store responses for what a signed-in user or a verifier sees, and share
tokens out of the request logs (Django's, runserver's and gunicorn's)."""
import base64
import json
import logging
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.urls import reverse

from ledger.services import ledger_seal
from licenses import services
from tests.licenses.conftest import ALICE_ID, in_days, issue_driving, make_user
from tests.processes import process_env, wait_for

pytestmark = pytest.mark.django_db


# No-store: everything a signed-in user sees, and the public verify page and API of a share.

def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def shared(alice_driving):
    share, token = services.share_create(licence=alice_driving, fields=["holder_name"], expires_at=in_days(2),
                                         purpose="p")
    ledger_seal()
    return share, token


def test_personal_pages_and_api_are_not_stored(client, alice, clerk_transport, bank_transport, alice_driving,
                                                shared):
    _share, token = shared
    client.force_login(alice)
    for url in (reverse("licenses:list"), reverse("licenses:detail", args=[alice_driving.public_ref]),
                reverse("licenses:api-list"), reverse("licenses:api-detail", args=[alice_driving.public_ref])):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), url
    client.force_login(clerk_transport)
    for url in (reverse("admin:licenses_licence_changelist"),
                reverse("admin:licenses_licence_change", args=[alice_driving.pk])):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), url
    client.force_login(bank_transport)
    response = client.get(reverse("licenses:api-authorisations"))
    assert response.status_code == 200 and no_store(response)
    client.logout()
    for url in (reverse("licenses:verify", args=[token]), reverse("licenses:api-share-verify", args=[token])):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response) and "王丽华" in response.content.decode(), url
    # Basic auth through the API counts as signed in too.
    basic = "Basic " + base64.b64encode(b"alice:pw-alice").decode()
    response = client.get(reverse("licenses:api-list"), HTTP_AUTHORIZATION=basic)
    assert response.status_code == 200 and no_store(response)
    # Who may not see: anonymous is sent to log in, citizen B gets a 404, both unstored.
    assert client.get(reverse("licenses:detail", args=[alice_driving.public_ref])).status_code == 302
    client.force_login(make_user("carol"))
    response = client.get(reverse("licenses:detail", args=[alice_driving.public_ref]))
    assert response.status_code == 404 and no_store(response)


# Share tokens in logs.

def test_request_log_masks_the_token(client, caplog):
    token = "Tk" + "x" * 40
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("licenses:verify", args=[token])).status_code == 404
        assert client.get(reverse("licenses:api-share-verify", args=[token])).status_code == 404
    messages = [record.getMessage() for record in caplog.records if record.name == "django.request"]
    assert len(messages) == 2 and all("[token]" in m for m in messages)
    assert token not in caplog.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_and_read_log(command, port, log_of, tokens):
    """Starts a server, requests each share link once, stops it; returns its log."""
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=process_env(DEBUG="1"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def up():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ledger/checkpoint", timeout=2)
                return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False

        assert wait_for(up, timeout=60), "the server did not start"
        for path in tokens:
            try:
                urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}",
                    headers={"Referer": f"http://127.0.0.1:{port}{path}"}), timeout=10)
            except urllib.error.HTTPError:
                pass
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    return log_of(output)


@pytest.mark.django_db(transaction=True)
def test_runserver_and_gunicorn_access_logs_mask_share_tokens(tmp_path, alice, driving):
    from licenses.models import Licence

    licence = Licence.objects.first() or issue_driving(driving, alice, number="LOG-1", national_id=ALICE_ID)
    _share, token = services.share_create(licence=licence, fields=[], expires_at=in_days(1), purpose="p")
    paths = [f"/licences/verify/{token}", f"/api/licences/shares/{token}/verify", "/licences/verify/unknown-tok"]
    port = free_port()
    runserver = serve_and_read_log([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                                   port, lambda output: output, paths)
    assert "GET /licences/verify/[token] HTTP/1.1" in runserver and "/api/licences/shares/[token]/verify" in runserver
    assert token not in runserver and "unknown-tok" not in runserver
    access = tmp_path / "access.log"
    port = free_port()
    # `gunicorn portal.wsgi` reads ./gunicorn.conf.py: the logger class comes from there.
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    serve_and_read_log([gunicorn, "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                        "--access-logfile", str(access), "--error-logfile", str(tmp_path / "error.log")],
                       port, lambda output: output, paths)
    logged = access.read_text()
    assert logged.count("/licences/verify/[token]") >= 3 and "/api/licences/shares/[token]/verify" in logged
    assert token not in logged and "unknown-tok" not in logged
    assert token not in (tmp_path / "error.log").read_text()


def test_holder_sees_their_share_link_and_citizen_b_does_not(client, alice, shared):
    share, token = shared
    client.force_login(alice)
    assert token in client.get(reverse("licenses:share", args=[share.public_ref])).content.decode()
    client.force_login(make_user("dan"))
    response = client.get(reverse("licenses:share", args=[share.public_ref]))
    assert response.status_code == 404 and token not in response.content.decode()
    assert json.loads(client.get(reverse("licenses:api-shares")).content) == []
