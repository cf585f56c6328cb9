"""Site pages: Chinese first, English second, every asset from the portal under a strict CSP."""
import re

import pytest

from portal.models import Role, User

pytestmark = pytest.mark.django_db


def test_home_is_in_simplified_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html and "公信政务数据共享平台" in html


def test_english_is_the_second_language(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and "Gongxin government data portal" in html


def test_strict_csp_and_only_own_assets(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    html = response.content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html), "no asset from another host"
    assert "<script>" not in html and " style=" not in html
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(path).status_code == 200, path


def test_login_page_and_logging_in(client):
    User.objects.create_user("citizen_wang", password="a-long-pass-2026", role=Role.CITIZEN)
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "citizen_wang", "password": "a-long-pass-2026"})
    assert response.status_code == 302
    assert "退出登录" in client.get("/").content.decode()


def test_admin_requires_staff(client):
    User.objects.create_user("citizen_zhao", password="a-long-pass-2026", role=Role.CITIZEN)
    assert client.get("/admin/").status_code == 302
    client.login(username="citizen_zhao", password="a-long-pass-2026")
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
