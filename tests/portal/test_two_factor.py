"""Staff reach the admin only with a second factor (django-otp TOTP), through the real login forms."""
import base64
import hashlib
import hmac
import io
import re
import struct
import time

import pytest
from django.core.management import CommandError, call_command

from portal.models import Role, User

pytestmark = [pytest.mark.django_db, pytest.mark.real_otp]

PASSWORD = "clerk-pass-2026"


def authenticator_code(secret_b32: str, at: float | None = None) -> str:
    """What an authenticator app shows for a base32 secret (RFC 6238: SHA-1, 30 s, 6 digits)."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(secret_b32), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def enrol(username) -> str:
    out = io.StringIO()
    call_command("otp_enroll", username, stdout=out)
    text = out.getvalue()
    assert f"otpauth://totp/Gongxin%3A{username}?secret=" in text
    return re.search(r"secret: ([A-Z2-7]+)", text).group(1)


def admin_login(client, username, password=PASSWORD, token=None):
    data = {"username": username, "password": password, "next": "/admin/"}
    if token is not None:
        data["otp_token"] = token
    return client.post("/admin/login/?next=/admin/", data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def clerk():
    return User.objects.create_user("clerk_wu", password=PASSWORD, role=Role.CLERK, is_staff=True)


def test_the_admin_login_with_password_and_the_current_code_works(client, clerk):
    secret = enrol("clerk_wu")
    response = admin_login(client, "clerk_wu", token=authenticator_code(secret))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("token", [None, "", "000000x", "12345678901234567890", "\x00"])
def test_a_missing_or_malformed_code_is_refused(client, clerk, token):
    enrol("clerk_wu")
    response = admin_login(client, "clerk_wu", token=token)
    if token in ("12345678901234567890", "\x00"):  # past 64 bits, NUL: refused before the form (400)
        assert response.status_code == 400
    else:
        assert response.status_code == 200 and 'class="errornote"' in response.text
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_is_refused(client, clerk):
    secret = enrol("clerk_wu")
    wrong = authenticator_code(secret, at=time.time() - 3600)  # an hour old
    response = admin_login(client, "clerk_wu", token=wrong)
    assert response.status_code == 200 and "Invalid token" in response.text
    assert client.get("/admin/").status_code == 302


def test_the_code_of_another_users_device_is_refused(client, clerk):
    enrol("clerk_wu")
    User.objects.create_user("clerk_he", password=PASSWORD, role=Role.CLERK, is_staff=True)
    other_secret = enrol("clerk_he")
    response = admin_login(client, "clerk_wu", token=authenticator_code(other_secret))
    assert response.status_code == 200 and client.get("/admin/").status_code == 302


def test_a_staff_user_without_a_device_cannot_use_the_admin(client, clerk):
    response = admin_login(client, "clerk_wu", token="123456")
    assert response.status_code == 200 and client.get("/admin/").status_code == 302
    # Logged in with the password alone on the site's own login page: the admin still refuses.
    response = client.post("/accounts/login/", {"username": "clerk_wu", "password": PASSWORD})
    assert response.status_code == 302
    for path in ("/admin/", "/admin/portal/user/", f"/admin/portal/user/{clerk.pk}/change/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), path
    client.force_login(clerk)  # a password login without the second factor, marked real_otp: no bypass
    assert client.get("/admin/portal/user/").status_code == 302


def test_a_wrong_password_with_the_right_code_is_refused_and_counted(client, clerk):
    secret = enrol("clerk_wu")
    response = admin_login(client, "clerk_wu", password="wrong", token=authenticator_code(secret))
    assert response.status_code == 200 and client.get("/admin/").status_code == 302
    from axes.models import AccessFailureLog

    assert AccessFailureLog.objects.filter(username="clerk_wu").count() == 1


def test_enrol_command_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("otp_enroll", "nobody")


def test_the_demo_admin_logs_in_with_the_printed_secret(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    secret = re.search(r"demo TOTP secret ([A-Z2-7]+)", out.getvalue()).group(1)
    printed = re.search(r"current code: (\d{6})", out.getvalue()).group(1)
    assert printed in {authenticator_code(secret, time.time() + d) for d in (-30, 0)}
    response = admin_login(client, "admin", password="gongxin-demo-2026", token=authenticator_code(secret))
    assert response.status_code == 302 and client.get("/admin/").status_code == 200
    client.logout()
    response = admin_login(client, "dc01_clerk1", password="gongxin-demo-2026", token=authenticator_code(secret))
    assert response.status_code == 302 and client.get("/admin/").status_code == 200


def test_the_admin_login_asks_for_the_code_in_chinese_by_default(client):
    html = client.get("/admin/login/").content.decode()
    assert "一次性验证码" in html and "公信管理后台" in html
    html = client.get("/accounts/login/").content.decode()
    assert "身份验证器应用中的一次性验证码" in html


def test_the_admin_login_counts_failures_and_locks_like_the_site_login(client, clerk):
    from django.conf import settings

    secret = enrol("clerk_wu")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(client, "clerk_wu", password="wrong", token="000000").status_code == 200
    locked = admin_login(client, "clerk_wu", password="wrong", token="000000")
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.text and locked["Retry-After"]
    locked = admin_login(client, "clerk_wu", token=authenticator_code(secret))  # right password and code
    assert locked.status_code == 429 and client.get("/admin/").status_code == 302
