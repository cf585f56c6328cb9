from django.conf import settings
from django.utils.cache import patch_cache_control


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
