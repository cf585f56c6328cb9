"""Login lockout (django-axes, counted in the database) and API throttles, attacked the way they were broken."""
import base64
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import F
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal.models import Role, User

PASSWORD = "right-password-2026"
LIMIT = settings.AXES_FAILURE_LIMIT
LOCKED_EN = "Too many failed log-ins for this account or address."
LOCKED_ZH = "该账户或地址登录失败次数过多"


def make_user(username="carol", **extra):
    return User.objects.create_user(username, password=PASSWORD, role=Role.CITIZEN, **extra)


def web_login(client, username, password, address="127.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def api_get(client, username, password, address="127.0.0.1"):
    return client.get("/api/licences/", HTTP_AUTHORIZATION=basic(username, password), REMOTE_ADDR=address)


def checked_failures(username) -> int:
    """Failures whose password was actually tried (axes logs each one; refused attempts are not tried)."""
    return AccessFailureLog.objects.filter(username=username).count()


@pytest.mark.django_db
def test_the_right_password_is_refused_after_too_many_failures_but_only_from_that_address(client):
    make_user()
    assert web_login(client, "carol", "wrong").status_code == 200
    assert web_login(client, "carol", PASSWORD).status_code == 302  # works, and clears the count
    client.logout()
    AccessFailureLog.objects.all().delete()
    for _ in range(LIMIT - 1):
        response = web_login(client, "carol", "wrong")
        assert response.status_code == 200 and "Please enter a correct username and password" in response.text
    last = web_login(client, "carol", "wrong")  # the failure that reaches the limit says so
    assert last.status_code == 429 and LOCKED_EN in last.text and int(last["Retry-After"]) == 15 * 60
    locked = web_login(client, "carol", PASSWORD)  # locked out, even with the right password
    spoofed = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD},
                          HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="en")
    assert spoofed.status_code == 429  # nor does it make the locked address another one
    assert locked.status_code == 429 and LOCKED_EN in locked.text and 'class="errorlist' in locked.text
    assert "_auth_user_id" not in client.session
    assert checked_failures("carol") == LIMIT
    # The owner, from another address, is not locked out.
    assert web_login(client, "carol", PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))  # the cool-off passes
    assert web_login(client, "carol", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lockout_message_is_in_chinese_by_default(client):
    make_user()
    for _ in range(LIMIT):
        response = client.post("/accounts/login/", {"username": "carol", "password": "wrong"})
    assert response.status_code == 429 and LOCKED_ZH in response.text


@pytest.mark.django_db
def test_api_basic_auth_and_web_login_count_together(client):
    make_user()
    assert api_get(client, "carol", PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert api_get(client, "carol", "wrong").status_code in (401, 403)
    assert web_login(client, "carol", "wrong").status_code == 429  # the web failure reaches the limit
    refused = api_get(client, "carol", PASSWORD)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0 and LOCKED_ZH in refused.json()["detail"]
    assert api_get(client, "carol", PASSWORD, address="10.0.0.2").status_code == 200
    assert checked_failures("carol") == LIMIT


@pytest.mark.django_db
def test_made_up_usernames_from_one_address_lock_no_account(client):
    User.objects.create_superuser("admin", password=PASSWORD, role=Role.ADMIN)
    make_user()
    attacker = "10.6.6.6"
    for number in range(30):
        assert web_login(client, f"nobody{number}", "guess", address=attacker).status_code == 200
    # 30 failures on other names lock neither `admin` nor carol, not even from the attacker's address.
    assert web_login(client, "carol", PASSWORD, address=attacker).status_code == 302
    client.logout()
    assert api_get(client, "admin", PASSWORD, address=attacker).status_code == 200
    assert not AccessAttempt.objects.filter(username__in=["admin", "carol"]).exists()


@pytest.mark.django_db
def test_an_address_past_its_limit_is_slowed_down_but_locks_no_account(client):
    User.objects.create_superuser("admin", password=PASSWORD, role=Role.ADMIN)
    attacker = "10.6.6.7"
    for number in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        assert web_login(client, f"nobody{number}", "guess", address=attacker).status_code == 200
    slowed = web_login(client, "admin", PASSWORD, address=attacker)
    assert slowed.status_code == 429 and "Too many failed log-ins from this address" in slowed.text
    window = settings.LOGIN_ADDRESS_WINDOW.total_seconds()
    assert 0 < int(slowed["Retry-After"]) <= window
    assert "_auth_user_id" not in client.session
    assert web_login(client, "admin", PASSWORD, address="10.0.0.3").status_code == 302  # other addresses: fine
    client.logout()
    assert not AccessAttempt.objects.filter(username="admin").exists()  # no account was locked
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - settings.LOGIN_ADDRESS_WINDOW)
    assert web_login(client, "admin", PASSWORD, address=attacker).status_code == 302  # the window passed


# Parallel guesses against a live server: threads of the test server share one database.

def login_page_session(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return token, cookie


def post_login(base, token, cookie, password):
    data = urllib.parse.urlencode({"username": "carol", "password": password, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=data,
                                     headers={"Cookie": cookie, "Referer": f"{base}/accounts/login/"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(request, timeout=60).status
    except urllib.error.HTTPError as error:
        return error.code


def get_basic(base, password):
    request = urllib.request.Request(f"{base}/api/licences/", headers={"Authorization": basic("carol", password)})
    try:
        return urllib.request.urlopen(request, timeout=60).status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("way", ["web", "api"])
def test_thirty_parallel_guesses_check_at_most_the_limit(live_server, way):
    make_user()
    base = live_server.url
    if way == "web":
        token, cookie = login_page_session(base)
        attempt = lambda password: post_login(base, token, cookie, password)  # noqa: E731
    else:
        attempt = lambda password: get_basic(base, password)  # noqa: E731
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(attempt, [f"guess-{n}" for n in range(30)]))
    assert checked_failures("carol") <= LIMIT, "more guesses were tried than the limit allows"
    assert statuses.count(429) >= 30 - LIMIT, statuses
    assert set(statuses) <= {200, 401, 403, 429}, statuses
    assert attempt(PASSWORD) == 429  # the account is locked for this address, the right password included


# API throttles (DRF, per anonymous address and per user, counted in the cache).

def rate(scope) -> int:
    return SimpleRateThrottle.parse_rate(None, SimpleRateThrottle.THROTTLE_RATES[scope])[0]


@pytest.fixture
def small_rates(monkeypatch):
    """The configured rates, scaled down as `API_RATE_ANON=20/min API_RATE_USER=30/min` would, so that a
    burst fits in its minute on a loaded machine (the defaults are checked on their own below)."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "20/min", "user": "30/min"})


def test_the_default_rates_leave_room_for_honest_use():
    # A peer polls a checkpoint and a proof every second; a citizen's page makes a handful of calls.
    rates = api_settings.DEFAULT_THROTTLE_RATES
    assert rate_per_minute_of(rates["anon"]) >= 120 * 4
    assert rate_per_minute_of(rates["user"]) >= rate_per_minute_of(rates["anon"])


def rate_per_minute_of(text) -> int:
    count, seconds = SimpleRateThrottle.parse_rate(None, text)
    return count * 60 // seconds


def burst(client, path, count, **extra):
    return [client.get(path, **extra).status_code for _ in range(count)]


@pytest.mark.django_db
def test_anonymous_burst_on_the_public_proof_api_gets_429_per_address(client, small_rates):
    path = "/api/ledger/proofs/consistency?old=0&new=0"
    statuses = burst(client, path, rate("anon"), REMOTE_ADDR="10.1.0.1")
    assert 429 not in statuses and set(statuses) <= {200, 400, 404}
    refused = client.get(path, REMOTE_ADDR="10.1.0.1")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    spoofed = client.get(path, REMOTE_ADDR="10.1.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert spoofed.status_code == 429  # a client's own X-Forwarded-For does not give it a fresh count
    assert client.get(path, REMOTE_ADDR="10.1.0.2").status_code != 429  # another address has its own count


@pytest.mark.django_db
def test_logged_in_burst_gets_429_per_user(client, small_rates):
    first, second = make_user("citizen_a"), make_user("citizen_b")
    client.force_login(first)
    assert 429 not in burst(client, "/api/licences/", rate("user"))
    refused = client.get("/api/licences/")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    client.force_login(second)  # the same address, another user: counted apart
    assert client.get("/api/licences/").status_code == 200


def test_every_api_view_is_throttled_per_address_and_per_user():
    from django.core import checks

    from portal.checks import check_api_throttles

    assert check_api_throttles() == []
    assert not [e for e in checks.run_checks(tags=[checks.Tags.urls]) if e.id == "portal.E020"]


def test_a_view_that_drops_the_default_throttles_fails_the_check(settings):
    settings.ROOT_URLCONF = "tests.portal.unthrottled_urls"
    from portal.checks import check_api_throttles

    errors = check_api_throttles()
    assert [e.id for e in errors] == ["portal.E020"] and "Unthrottled" in errors[0].msg
