from django.contrib.auth import views as auth_views
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render, resolve_url
from django.template import loader
from django.utils.translation import gettext_lazy as _

from ledger import selectors
from portal.models import Role


class LoginView(auth_views.LoginView):
    """The site's login; a department user lands on their department's pages, not the citizens'."""

    def get_default_redirect_url(self):
        if getattr(self.request.user, "role", None) == Role.DEPARTMENT:
            return resolve_url("department:home")
        return super().get_default_redirect_url()


def home(request):
    return render(request, "portal/home.html", {"head": selectors.tree_head(),
                                                "anchoring": selectors.anchoring_status()})


# Error pages: HTML in the visitor's language, JSON for API clients. No details of the failure are shown.
ERRORS = {
    400: (_("Bad request"), _("The request was malformed: check the address and what you entered, then try again.")),
    403: (_("Forbidden"), _("You are not allowed to see this page or do this. Log in with an account that may.")),
    404: (_("Not found"), _("There is no such page or record, or it is not one you may see.")),
    500: (_("Server error"), _("Something went wrong on our side. It has been logged; please try again later.")),
}


def error_response(request, status: int, detail: str | None = None) -> HttpResponse:
    title, message = ERRORS[status]
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail or str(message)}, status=status)
    context = {"status": status, "title": title, "message": detail or message}
    if status == 500:  # no request context: the failure may lie in what builds it (sessions, the database)
        return HttpResponse(loader.render_to_string("500.html", context), status=500)
    return render(request, f"{status}.html", context, status=status)


def bad_request(request, exception):
    if isinstance(exception, RequestDataTooBig):  # past DATA_UPLOAD_MAX_MEMORY_SIZE
        response = error_response(request, 400, _("The request body is too large."))
        response.status_code = 413
        return response
    return error_response(request, 400)


def permission_denied(request, exception):
    return error_response(request, 403)


def page_not_found(request, exception):
    return error_response(request, 404)


def server_error(request):
    return error_response(request, 500)


def csrf_failure(request, reason=""):
    return error_response(request, 403, _("The form expired or came from another site: reload the page and try again."))
