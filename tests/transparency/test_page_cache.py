"""The transparency pages anonymous visitors share from the cache: each visitor still gets their own
CSRF token (that the language switch accepts) and address, each language its own page, and a
signed-in user or a waiting message the page rendered for them."""
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT = re.compile(r'name="next" type="hidden" value="([^"]*)"')


def _page(client, url, language="en"):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.mark.parametrize("url", ["/transparency/", "/transparency/block/0/", "/transparency/entry/0/"])
def test_each_anonymous_visitor_of_a_cached_page_gets_a_token_of_their_own_that_works(world, url):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    _response, html_first = _page(first, url)
    response, html = _page(second, url)  # from the cache now
    token = TOKEN.search(html).group(1)
    assert token != TOKEN.search(html_first).group(1)
    assert response.cookies["csrftoken"].value  # the secret the token is masked from
    assert "csrf-" not in html and "path-" not in html  # no marker left unfilled
    switched = second.post("/i18n/setlang/", {"language": "zh-hans", "next": url, "csrfmiddlewaretoken": token})
    assert switched.status_code == 302 and switched["Location"] == url
    # The first visitor's token is no good without the first visitor's cookie.
    refused = Client(enforce_csrf_checks=True).post(
        "/i18n/setlang/", {"language": "zh-hans", "csrfmiddlewaretoken": token})
    assert refused.status_code == 403


def test_the_language_forms_next_is_the_visitors_own_address_escaped(client, world):
    _page(client, "/transparency/")
    _response, html = _page(client, "/transparency/?from=a&b=<x>")
    assert NEXT.search(html).group(1) == "/transparency/?from=a&amp;b=%3Cx%3E"
    _response, html = _page(client, "/transparency/")
    assert NEXT.search(html).group(1) == "/transparency/"


@pytest.mark.parametrize("url", ["/transparency/", "/transparency/block/0/", "/transparency/entry/0/"])
def test_chinese_and_english_pages_are_cached_apart(client, world, url):
    for _ in range(2):  # the second round from the cache
        _response, en = _page(client, url, "en")
        _response, zh = _page(client, url, "zh-hans")
        assert '<html lang="en">' in en and "Transparency dashboard" in en and "透明度看板" not in en
        assert '<html lang="zh-hans">' in zh and "透明度看板" in zh and "Transparency dashboard" not in zh


def test_a_signed_in_user_gets_their_own_shell_not_the_anonymous_one(client, world):
    _page(client, "/transparency/entry/0/")  # the anonymous page, cached
    client.force_login(world.citizen_a)
    _response, html = _page(client, "/transparency/entry/0/")
    assert 'action="/accounts/logout/"' in html and "Log in" not in html
    assert "Ledger entry 0" in html and "data-verify" in html
    client.logout()
    _response, html = _page(Client(), "/transparency/entry/0/")
    assert 'action="/accounts/logout/"' not in html and "Log in" in html


def test_a_waiting_message_is_shown_not_skipped(client, world):
    _page(client, "/transparency/")  # the anonymous page, cached
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    storage = CookieStorage(request)  # a message left by another page, as the messages framework keeps it
    storage.add(20, "Something happened")
    response = HttpResponse()
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    _response, html = _page(client, "/transparency/")
    assert "Something happened" in html
    _response, html = _page(client, "/transparency/")  # shown once, then the shared page again
    assert "Something happened" not in html


def test_the_entry_page_follows_a_new_checkpoint(client, world):
    from django.core.cache import cache

    from ledger import selectors, services

    size = selectors.checkpoint_latest().tree_size
    _response, html = _page(client, "/transparency/entry/0/")
    assert f"<dd>{size}</dd>" in html
    world.first(world.x, "X01-0099", "东城区 99 号", 10, [(world.zhang, "1")])
    services.ledger_seal_all()
    newer = selectors.checkpoint_latest().tree_size
    assert newer > size
    cache.delete_many([f"transparency:newest-size::{lang}" for lang in ("en", "zh-hans")])  # as after 2 s
    _response, html = _page(client, "/transparency/entry/0/")
    assert f"<dd>{newer}</dd>" in html


def test_a_page_cached_by_another_process_is_filled_in_too(client, world):
    """Gunicorn's workers share the file or Redis cache: the markers are the same in each."""
    import importlib

    from transparency import views

    _page(client, "/transparency/")  # cached by "this" process
    importlib.reload(views)  # another process: its markers computed anew (the URLconf's views see them)
    _response, html = _page(client, "/transparency/")
    assert TOKEN.search(html) and "csrf-" not in html and "path-" not in html
