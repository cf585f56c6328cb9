"""Login throttling on django-axes, counted in the database so that parallel guesses cannot slip past.

The rule (settings `AXES_*`, `LOGIN_ADDRESS_*`):
- an account is locked only for the address that attacked it: `AXES_FAILURE_LIMIT` failures for one
  username from one address lock that username+address pair for `AXES_COOLOFF_TIME`; the same account
  from any other address is not affected, and failures on other usernames never lock it;
- one address with `LOGIN_ADDRESS_FAILURE_LIMIT` failed logins (any usernames) within
  `LOGIN_ADDRESS_WINDOW` is refused for every username until the oldest of them leaves the window;
  this slows that address down and locks no account (exact on SQLite, whose writers queue; on PostgreSQL
  requests in flight at once can pass it by their number: it is a slow-down, not a lock).

Axes checks a lock before the password and counts a failure after it, so N parallel guesses could all
pass the check before any is counted. `LoginAttemptBackend` therefore counts each attempt *before* the
password is tried, in one transaction that locks the pair's counter row (`SELECT … FOR UPDATE` on
PostgreSQL, the write lock taken at `BEGIN IMMEDIATE` on SQLite), and refuses when the count has
reached the limit; a successful login resets the pair (`AXES_RESET_ON_SUCCESS`). The web login, the
admin login and the API's HTTP Basic authentication all go through `authenticate()`, so they count alike.
"""
import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_credentials, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

# The pre-counted attempts of a pair live in one row whatever the user agent, so that changing it
# neither resets the count nor escapes the row lock.
COUNTER_USER_AGENT = ""


def _http_request(request):
    """DRF wraps Django's request; flags must reach the Django request that the middleware sees."""
    return getattr(request, "_request", request)


def _flag(request, **flags) -> None:
    for target in {id(request): request, id(_http_request(request)): _http_request(request)}.values():
        for name, value in flags.items():
            setattr(target, name, value)


def address_retry_after(request) -> int:
    """Seconds until the address is below its limit of failed logins again; 0 when it is now."""
    window: timedelta = settings.LOGIN_ADDRESS_WINDOW
    since = timezone.now() - window
    failures = AccessFailureLog.objects.filter(ip_address=request.axes_ip_address, attempt_time__gte=since)
    times = list(failures.order_by("-attempt_time").values_list("attempt_time", flat=True)
                 [: settings.LOGIN_ADDRESS_FAILURE_LIMIT])
    if len(times) < settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return 0
    return max(1, math.ceil((times[-1] + window - timezone.now()).total_seconds()))


def lockout_retry_after(request) -> int:
    if getattr(request, "login_address_retry_after", 0):
        return request.login_address_retry_after
    return int(get_cool_off(request).total_seconds())


class LoginAttemptBackend(AxesStandaloneBackend, ModelBackend):
    """Django's ModelBackend that refuses a locked pair or address, and counts an attempt before trying it.

    A correct password resets the pair's count here, not only on `user_logged_in`: the API's Basic
    authentication never sends that signal, and its every request would count as a failure.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:  # an in-process caller (shell, the test client's login()): no address to count
            return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        try:
            super().authenticate(request, username=username, password=password, **kwargs)  # raises when locked
        except AxesBackendPermissionDenied:
            _flag(request, axes_locked_out=True)
            raise
        if not settings.AXES_ENABLED or username is None:
            return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        retry_after = address_retry_after(request)
        if retry_after:
            _flag(request, axes_locked_out=True, login_address_retry_after=retry_after)
            raise AxesBackendPermissionDenied("too many failed logins from this address")
        credentials = get_credentials(username=username)
        if not attempt_count(request, credentials):
            _flag(request, axes_locked_out=True)
            raise AxesBackendPermissionDenied("too many failed logins for this username from this address")
        _flag(request, login_attempt_counted=True)
        user = ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        if user is not None:
            AttemptHandler().reset_user_attempts(request, credentials)
        return user


@transaction.atomic
def attempt_count(request, credentials) -> bool:
    """Counts one attempt of the username+address pair unless it reached the limit; True if counted."""
    handler = AttemptHandler()
    handler.clean_expired_user_attempts(request, credentials)
    counter, _created = AccessAttempt.objects.select_for_update().get_or_create(
        username=get_client_username(request, credentials), ip_address=request.axes_ip_address,
        user_agent=COUNTER_USER_AGENT,
        defaults={"get_data": "", "post_data": "", "http_accept": request.axes_http_accept,
                  "path_info": request.axes_path_info, "failures_since_start": 0,
                  "attempt_time": request.axes_attempt_time},
    )
    if handler.get_failures(request, credentials) >= get_failure_limit(request, credentials):
        return False
    AccessAttempt.objects.filter(pk=counter.pk).update(
        failures_since_start=F("failures_since_start") + 1, attempt_time=request.axes_attempt_time,
    )
    return True


class AttemptHandler(AxesDatabaseHandler):
    """Axes' database handler, for attempts that `LoginAttemptBackend` already counted."""

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None or not getattr(request, "login_attempt_counted", False):
            return super().user_login_failed(sender, credentials, request, **kwargs)
        username = get_client_username(request, credentials)
        failures = self.get_failures(request, credentials)
        _flag(request, axes_failures_since_start=failures)
        if failures >= get_failure_limit(request, credentials):
            _flag(request, axes_locked_out=True, axes_credentials=credentials)
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
        AccessFailureLog.objects.create(
            username=username, ip_address=request.axes_ip_address, user_agent=request.axes_user_agent,
            http_accept=request.axes_http_accept, path_info=request.axes_path_info,
            attempt_time=request.axes_attempt_time, locked_out=failures >= get_failure_limit(request, credentials),
        )


def lockout_message(request) -> str:
    if getattr(request, "login_address_retry_after", 0):
        minutes = math.ceil(request.login_address_retry_after / 60)
        return _("Too many failed log-ins from this address. Wait %(minutes)s minutes and try again.") % {
            "minutes": minutes}
    minutes = math.ceil(lockout_retry_after(request) / 60)
    return _("Too many failed log-ins for this account or address. Wait %(minutes)s minutes and try again.") % {
        "minutes": minutes}


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; a login page keeps its form, which shows why."""
    if original_response is not None and original_response.get("Content-Type", "").startswith("text/html") \
            and original_response.status_code == 200:
        response = original_response
        response.status_code = 429
        response.reason_phrase = "Too Many Requests"
    else:
        response = JsonResponse({"detail": lockout_message(request)}, status=429)
    response["Retry-After"] = str(lockout_retry_after(request))
    return response
