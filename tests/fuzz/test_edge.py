"""Error pages in both languages, the request edge's refusals, the deployment check, and who sees debug pages."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
# status: (how a visitor gets it, Chinese title, English title)
PAGES = {
    400: ("get", "/land/?q=%00", "请求有误", "Bad request"),
    403: ("post", "/accounts/login/", "禁止访问", "Forbidden"),
    404: ("get", "/no-such-page/", "未找到", "Not found"),
    500: ("get", "/fail/", "服务器错误", "Server error"),
}


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.fuzz.urls_failing"


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(PAGES))
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_error_pages_render_in_the_visitors_language_with_their_status(failing_urls, status, language):
    method, url, title_zh, title_en = PAGES[status]
    client = Client(enforce_csrf_checks=True, raise_request_exception=False,
                    **({"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}))
    response = getattr(client, method)(url)
    assert response.status_code == status
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert f"{status} · {title_zh if language == 'zh-hans' else title_en}" in html
    assert f'<html lang="{language}">' in html and "<footer>" in html  # the site's own layout
    assert "Traceback" not in html and "RuntimeError" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "status"), [("/api/no-such-thing", 404), ("/api/fail", 500),
                                             ("/api/land/parcels?q=%00", 400)])
def test_api_paths_answer_errors_in_json(failing_urls, url, status):
    response = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"} and "Traceback" not in response.json()["detail"]


def _post_json(body: str):
    return Client(HTTP_ACCEPT_LANGUAGE="en").post("/api/licences/presentations/check", body,
                                                  content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "status", "message"), [
    ('{"presentation": ' + "[" * 33 + "]" * 33 + "}", 400, "nested deeper than 32"),
    ('{"presentation": {"a": "\\u0000"}}', 400, "NUL"),
    ('{"presentation": {"a": "\\ud800"}}', 400, "surrogate"),
    ('{"presentation": ' + "[" * 100_000, 400, "nested deeper"),  # once a server error (RecursionError)
    ('{"presentation": {"a": "' + "x" * 3_000_000 + '"}}', 413, "too large"),
    ('{"presentation": NaN}', 400, "JSON parse error"),
])
def test_the_api_refuses_json_that_would_fail_inside(body, status, message):
    response = _post_json(body)
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "message"), [
    ("/api/ledger/proofs/inclusion?index=0&size=" + str(2**70), "past 64 bits"),
    ("/land/parcels/" + str(2**70) + "/", "past 64 bits"),
    ("/land/?q=" + "x" * 1001, "longer than 1000"),
    ("/land/?q=a%00b", "NUL"),
])
def test_the_edge_refuses_input_the_database_cannot_take(url, message):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_a_form_field_with_deep_json_is_refused_before_the_form(fuzz_world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(fuzz_world["superuser"])
    response = client.post("/admin/licenses/licencetype/add/", {"code": "x", "fields": "[" * 5000})
    assert response.status_code == 400
    assert "nested deeper than 32" in response.content.decode()


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgres://gongxin@db.internal:5432/gongxin",
        "SECRET_KEY": "x7!" + "k" * 60 + "q9@Zp2#", "ALLOWED_HOSTS": "gongxin.example",
        "CSRF_TRUSTED_ORIGINS": "https://gongxin.example", "DEBUG": "0",
        "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1",
        "SECURE_SSL_REDIRECT": "1", "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    # init_keys reads the database it starts the commitment key for: an empty one of its own here.
    subprocess.run([*manage, "init_keys"], env={**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'keys.sqlite3'}"},
                   cwd=ROOT, check=True, capture_output=True)
    result = subprocess.run([*manage, "check", "--deploy", "--fail-level", "WARNING"], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout

    # Without the HTTPS settings the same check names what is missing.
    for name in ("SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"):
        del env[name]
    result = subprocess.run([*manage, "check", "--deploy"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_the_run_command_shows_debug_pages_only_on_a_loopback_address(monkeypatch):
    sys.path.insert(0, str(ROOT))
    try:
        import dev
    finally:
        sys.path.remove(str(ROOT))
    monkeypatch.delenv("DEBUG", raising=False)
    assert dev.debug_for("127.0.0.1:8000") == "1" and dev.debug_for("[::1]:8000") == "1"
    assert dev.debug_for("8000") == "1"
    monkeypatch.setenv("DEBUG", "1")
    assert dev.debug_for("0.0.0.0:8000") == "0" and dev.debug_for("192.168.1.5:8000") == "0"


def test_the_schema_documents_the_json_errors():
    schema = json.loads(Client().get("/api/schema", HTTP_ACCEPT="application/json").content)
    operation = schema["paths"]["/api/ledger/entries/{index}"]["get"]
    assert {"200", "400", "404", "429"} <= set(operation["responses"])
    assert schema["paths"]["/api/ledger/entries/{index}"]["get"]["parameters"][0]["schema"]["maximum"] < 2**63


@pytest.mark.django_db
@pytest.mark.parametrize("max_views", [2**70, 2**63, 2**31, -1, 0])
def test_a_share_with_a_view_limit_past_64_bits_is_refused(fuzz_world, max_views):
    from django.utils import timezone

    from licenses import selectors

    licence = selectors.licences_of(fuzz_world["citizen"]).first()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(fuzz_world["citizen"])
    body = {"licence": licence.public_ref, "fields": [], "purpose": "rent",
            "expires_at": (timezone.now() + timezone.timedelta(days=3)).isoformat(), "max_views": max_views}
    response = client.post("/api/licences/shares/create", body, content_type="application/json")
    assert response.status_code == 400
    assert "max_views" in response.json()
