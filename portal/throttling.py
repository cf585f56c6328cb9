"""Login throttling: after repeated failures for a username or from an address, refuse for a while.

`LoginThrottleBackend` takes ModelBackend's place in AUTHENTICATION_BACKENDS: raising
PermissionDenied there stops Django from trying the password at all. Failures are counted from the
`user_login_failed` signal, so the web login and HTTP Basic auth of the API count alike.
"""
import hashlib

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

WINDOW_SECONDS = 15 * 60
MAX_PER_USERNAME = 5
MAX_PER_ADDRESS = 30


def _keys(username: str | None, request) -> list[tuple[str, int]]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append((f"login-fail:user:{digest}", MAX_PER_USERNAME))
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    if address:
        keys.append((f"login-fail:addr:{address}", MAX_PER_ADDRESS))
    return keys


def is_locked(username: str | None, request) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(username, request))


def record_failure(sender, credentials, request=None, **kwargs):
    for key, _limit in _keys(credentials.get("username"), request):
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)


def clear_failures(sender, request, user, **kwargs):
    for key, _limit in _keys(user.get_username(), None):
        cache.delete(key)


class LoginThrottleBackend(ModelBackend):
    """Django's ModelBackend, refusing every attempt while the username or address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if is_locked(username, request):
            raise PermissionDenied("too many failed logins; try again later")
        return super().authenticate(request, username=username, password=password, **kwargs)


def connect() -> None:
    user_login_failed.connect(record_failure, dispatch_uid="portal.throttling.failed")
    user_logged_in.connect(clear_failures, dispatch_uid="portal.throttling.ok")
