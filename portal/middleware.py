import re

from django.conf import settings
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

from portal.parsers import json_text_problem


class ContentSecurityPolicyMiddleware:
    """Every response carries the strict CSP: the portal serves all its own assets."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class NoStoreForUsersMiddleware:
    """What a signed-in user sees (their data, a clerk's register, a department's reads) is never
    kept by a browser or a shared cache: `Cache-Control: no-store`. Public pages that show personal
    data (a share's verify page) say so themselves with `never_cache`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # after the view: DRF's Basic auth has set it too
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class MalformedRequestMiddleware:
    """Answers 400, before any view sees it, for input that no legitimate request carries and that
    would otherwise fail deep inside (a server error at the database):

    - NUL characters in the path, query, cookies or form fields (PostgreSQL refuses them in text);
    - whole numbers past 64 bits as a path segment, query value or form field (SQLite cannot bind them);
    - query values longer than MAX_QUERY_VALUE characters (SQLite refuses such LIKE patterns);
    - form fields holding JSON nested deeper than 32 levels, or with NUL or unpaired surrogates in strings.
    """

    MAX_QUERY_VALUE = 1000

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem:
            from portal.views import error_response

            return error_response(request, 400, problem)
        return self.get_response(request)

    def problem(self, request) -> str | None:
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.COOKIES.items()):
            return _("The address contains a NUL character.")
        if any(_past_64_bits(segment) for segment in request.path.split("/")):
            return _("The address holds a number past 64 bits.")
        query = list(_values(request.GET))
        if any(len(value) > self.MAX_QUERY_VALUE for value in query):
            return _("A query parameter is longer than %(max)d characters.") % {"max": self.MAX_QUERY_VALUE}
        problem = _field_problem(query)
        if problem is None and request.method == "POST" and request.content_type in _FORM_TYPES:
            problem = _field_problem(list(_values(request.POST)))
        return problem


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_INTEGER = re.compile(r"[+-]?[0-9]{19,}")
_INT64 = range(-(2**63), 2**63)


def _values(query):
    for key, values in query.lists():
        yield key
        yield from values


def _past_64_bits(value: str) -> bool:
    value = value.strip()
    if not _INTEGER.fullmatch(value):
        return False
    # int() of thousands of digits is slow (and refused past 4300): anything over 19 digits is too large.
    # Leading zeros do not count (nor reach int(): thousands of zeros would be refused too).
    digits = value.lstrip("+-").lstrip("0") or "0"
    return len(digits) > 19 or int(("-" if value.startswith("-") else "") + digits) not in _INT64


def _field_problem(values: list[str]) -> str | None:
    for value in values:
        if "\x00" in value:
            return _("A parameter or form field contains a NUL character.")
        if _past_64_bits(value):
            return _("A number is past 64 bits: %(value).30s…") % {"value": value.strip()}
        problem = json_text_problem(value)
        if problem:
            return problem
    return None
