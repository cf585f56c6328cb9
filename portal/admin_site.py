"""The admin site: staff users reach it only with a second factor (a TOTP device, django-otp).

Its search-as-you-type (the admin's autocomplete) answers a clerk from the choices the form offers
them (`scope_autocomplete`), not from the admin of the model searched: a licence clerk picks a
citizen as holder without seeing the list of users, a land clerk only their offices' parcels.
"""
from dataclasses import dataclass, field

from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from portal.forms import AdminLoginForm

TERM_MAX = 64


class ScopedAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete, but for a scoped field the choices and the permission are the scope's."""

    def _scope(self):
        key = (self.source_field.model._meta.label_lower, self.source_field.name)
        return self.admin_site.scoped_autocompletes.get(key)

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        return term.strip()[:TERM_MAX], model_admin, source_field, to_field_name

    def has_perm(self, request, obj=None):
        scope = self._scope()
        if scope is None:
            return super().has_perm(request, obj)
        return scope(request) is not None

    def get_queryset(self):
        scope = self._scope()
        if scope is None:
            return super().get_queryset()
        choices = scope(self.request)
        if "\x00" in self.term:
            return choices.none()
        search = getattr(self.model_admin, "autocomplete_search", None) or self.model_admin.get_search_results
        found, distinct = search(self.request, choices, self.term)
        return found.distinct() if distinct else found

    def serialize_result(self, obj, to_field_name):
        label = getattr(self.model_admin, "autocomplete_label", None)
        return {"id": str(getattr(obj, to_field_name)), "text": label(obj) if label else str(obj)}


@dataclass
class WorkItem:
    text: str
    url: str
    note: str = ""


@dataclass
class WorkSection:
    """One list on the admin's home: a clerk's registrations to check, their own waiting, licences expiring."""

    title: str
    items: list[WorkItem] = field(default_factory=list)
    empty: str = ""


class PortalAdminSite(OTPAdminSite):
    """django-otp's admin site under the usual name, so that `admin:` URLs stay as they are."""

    login_form = AdminLoginForm
    site_header = _("Gongxin administration")
    site_title = _("Gongxin administration")

    index_template = "admin/portal_index.html"

    def __init__(self, name="admin"):
        super().__init__(name)
        self.scoped_autocompletes = {}
        self.work_lists = []

    def add_work_list(self, sections) -> None:
        """`sections(request)`: the WorkSections this user's work shows on the admin's home (none if not theirs)."""
        self.work_lists.append(sections)

    def index(self, request, extra_context=None):
        work = [section for sections in self.work_lists for section in sections(request)]
        return super().index(request, {**(extra_context or {}), "work": work})

    def scope_autocomplete(self, field, choices) -> None:
        """`choices(request)`: the queryset of `field`'s model this user may pick from, None if none."""
        self.scoped_autocompletes[(field.model._meta.label_lower, field.name)] = choices

    def autocomplete_view(self, request):
        return ScopedAutocompleteView.as_view(admin_site=self)(request)
