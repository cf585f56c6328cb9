from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ContentSecurityPolicyMiddleware:
    """Every response carries the strict CSP: the portal serves all its own assets."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class MalformedRequestMiddleware:
    """Answers 400 for NUL characters in the path, query, cookies or form fields, before any view sees them.

    No legitimate input carries them, and PostgreSQL refuses them in text (a server error at the query).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem:
            from portal.views import error_response

            return error_response(request, 400, problem)
        return self.get_response(request)

    @staticmethod
    def problem(request) -> str | None:
        if "\x00" in request.path or _has_nul(request.GET) or any(
                "\x00" in key or "\x00" in value for key, value in request.COOKIES.items()):
            return _("The address contains a NUL character.")
        if request.method == "POST" and request.content_type in _FORM_TYPES and _has_nul(request.POST):
            return _("A form field contains a NUL character.")
        return None


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())
