"""Login throttling through the real login page."""
import pytest
from django.core.cache import cache

from portal import throttling
from portal.models import User

pytestmark = pytest.mark.django_db

KEYS = [key for key, _limit in throttling._keys("carol", None)] + ["login-fail:addr:127.0.0.1"]


@pytest.fixture(autouse=True)
def clean_counters():
    cache.delete_many(KEYS)
    yield
    cache.delete_many(KEYS)


def login(client, password):
    return client.post("/accounts/login/", {"username": "carol", "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def test_the_right_password_is_refused_after_too_many_failures(client):
    user = User(username="carol")
    user.set_password("right-password-1")
    user.save()
    assert login(client, "wrong").status_code == 200
    assert login(client, "right-password-1").status_code == 302  # works, and clears the count
    client.logout()
    for _ in range(throttling.MAX_PER_USERNAME):
        assert login(client, "wrong").status_code == 200
    locked = login(client, "right-password-1")  # locked out, even with the right password
    assert locked.status_code == 200 and "Too many failed log-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    cache.delete(KEYS[0])  # the window passes
    assert login(client, "right-password-1").status_code == 302
