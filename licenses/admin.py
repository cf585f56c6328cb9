"""Clerks' admin: licences of the departments and types they are granted (guardian object permissions).

Licences are never edited in place: the add form (licenses/forms.py: an input per field of the type,
the holder found by search) issues through `licence_issue`, and the changelist actions renew,
suspend, reinstate and revoke through the services, each with a reason.
"""
import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from guardian.admin import GuardedModelAdmin

from licenses import selectors, services
from licenses.blind_index import number_index
from licenses.forms import issue_form_for
from licenses.models import REMINDER_DAYS, Department, Licence, LicenceStatus, LicenceType
from portal.admin_fields import RowAutocompleteSelect
from portal.admin_site import WorkItem, WorkSection
from portal.models import Role, User


@admin.register(Department)
class DepartmentAdmin(GuardedModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(LicenceType)
class LicenceTypeAdmin(GuardedModelAdmin):
    list_display = ("code", "name", "department")
    list_filter = ("department",)


class LicenceActionForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    valid_until = forms.DateField(label=_("New end date (renew)"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))


def holder_choices(request):
    """The people a licence clerk may name as holder: active citizens; nobody for anyone else."""
    if not selectors.may_manage_licences(request.user):
        return None
    return User.objects.filter(role=Role.CITIZEN, is_active=True).order_by("username")


admin.site.scope_autocomplete(Licence._meta.get_field("holder"), holder_choices)


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ("public_ref", "licence_type", "number_shown", "holder", "status", "valid_until")
    list_filter = ("status", "licence_type")
    # The number is encrypted: found by its exact blind index (get_search_results), not by a substring.
    search_fields = ("public_ref", "holder__username")
    action_form = LicenceActionForm
    actions = ("renew", "suspend", "reinstate", "revoke")
    autocomplete_fields = ("holder",)
    general_fields = ("licence_type", "holder", "number", "holder_name", "national_id", "address", "valid_from",
                      "valid_until", "reason")
    view_fields = ("public_ref", "licence_type", "number", "holder", "holder_name", "national_id", "address",
                   "data", "valid_from", "valid_until", "status", "status_reason", "issued_at")

    @admin.display(description=_("licence number"))
    def number_shown(self, licence):
        """Masked in the list where the type makes it personal; the licence's own page shows it whole."""
        return licence.masked_number()

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            results = results | queryset.filter(number_index=number_index(search_term))
        return results, duplicates

    # Scope: everything a clerk sees goes through the grant-filtered queryset.
    def get_queryset(self, request):
        return selectors.licences_for_clerk(request.user)

    def has_module_permission(self, request):
        return selectors.may_manage_licences(request.user)

    def has_view_permission(self, request, obj=None):
        if not selectors.may_manage_licences(request.user):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return selectors.may_manage_licences(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # changes are the actions below, never edits of the record

    def has_delete_permission(self, request, obj=None):
        return False  # licences are revoked, never deleted

    def has_manage_permission(self, request):
        return selectors.may_manage_licences(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = issue_form_for(selectors.licence_types_managed_by(request.user))
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.general_fields if obj is None else self.view_fields

    def get_fieldsets(self, request, obj=None):
        """Adding: the licence's own fields, then a fieldset per type with its fields (the script shows
        the chosen type's)."""
        if obj is not None:
            return super().get_fieldsets(request, obj)
        form = issue_form_for(selectors.licence_types_managed_by(request.user))
        types = selectors.licence_types_managed_by(request.user).filter(pk__in=list(form.type_fields))
        return [(None, {"fields": self.general_fields}), *(
            (_("Fields of a %(type)s") % {"type": licence_type.name},
             {"fields": [name for name, _item in form.type_fields[licence_type.pk]],
              "classes": ("licence-type-fields", f"licence-type-{licence_type.pk}")})
            for licence_type in types if form.type_fields[licence_type.pk])]

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "licence_type":
            kwargs["queryset"] = selectors.licence_types_managed_by(request.user)
        if db_field.name == "holder":
            choices = holder_choices(request)
            kwargs["queryset"] = User.objects.none() if choices is None else choices
            kwargs["widget"] = RowAutocompleteSelect(db_field, self.admin_site)
            kwargs["help_text"] = _("Type part of the citizen's username or e-mail address and pick them.")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        licence = services.licence_issue(
            licence_type=data["licence_type"], holder=data["holder"], number=data["number"],
            holder_name=data["holder_name"], national_id=data["national_id"], address=data["address"],
            values=data.get("values") or {}, valid_from=data["valid_from"], valid_until=data["valid_until"],
            reason=data.get("reason", ""),
        )
        obj.pk, obj.public_ref = licence.pk, licence.public_ref

    class Media:
        js = ("admin-extra/licence-issue.js",)
        css = {"all": ("admin-extra/admin-extra.css",)}

    def save_related(self, request, form, formsets, change):
        pass  # no related objects: the service wrote everything

    def _apply(self, request, queryset, verb, call):
        done = 0
        for licence in queryset:
            try:
                call(licence)
                done += 1
            except services.LicenceError as exc:
                self.message_user(request, f"{licence.public_ref}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, ngettext("%(verb)s %(count)d licence.", "%(verb)s %(count)d licences.",
                                                done) % {"verb": verb, "count": done}, messages.SUCCESS)

    def _reason(self, request):
        return request.POST.get("reason", "")

    @admin.action(description=_("Renew the selected licences (new end date and reason)"),
                  permissions=["manage"])
    def renew(self, request, queryset):
        try:
            until = LicenceActionForm.base_fields["valid_until"].clean(request.POST.get("valid_until"))
        except forms.ValidationError:
            until = None
        if until is None:
            self.message_user(request, _("Give the new end date to renew."), messages.ERROR)
            return
        self._apply(request, queryset, _("Renewed"), lambda licence: services.licence_renew(
            licence=licence, valid_until=until, reason=self._reason(request)))

    @admin.action(description=_("Suspend the selected licences (give a reason)"), permissions=["manage"])
    def suspend(self, request, queryset):
        self._apply(request, queryset, _("Suspended"), lambda licence: services.licence_suspend(
            licence=licence, reason=self._reason(request)))

    @admin.action(description=_("Reinstate the selected suspended licences (give a reason)"),
                  permissions=["manage"])
    def reinstate(self, request, queryset):
        self._apply(request, queryset, _("Reinstated"), lambda licence: services.licence_reinstate(
            licence=licence, reason=self._reason(request)))

    @admin.action(description=_("Revoke the selected licences (give a reason)"), permissions=["manage"])
    def revoke(self, request, queryset):
        self._apply(request, queryset, _("Revoked"), lambda licence: services.licence_revoke(
            licence=licence, reason=self._reason(request)))


EXPIRING_ROWS = 20


def expiring_work(request) -> list[WorkSection]:
    """A licence clerk's home: the valid licences of their departments and types that end within 30 days."""
    if not selectors.may_manage_licences(request.user):
        return []
    today = timezone.localdate()
    expiring = (selectors.licences_for_clerk(request.user)
                .filter(status=LicenceStatus.VALID, valid_until__lte=today + dt.timedelta(days=REMINDER_DAYS))
                .order_by("valid_until", "pk")[:EXPIRING_ROWS])
    items = [WorkItem(format_html("{} · {} · {}", licence.licence_type.name, licence.masked_number(),
                                  licence.holder.username),
                      reverse("admin:licenses_licence_change", args=[licence.pk]),
                      _("valid until %(date)s") % {"date": date_format(licence.valid_until, "DATE_FORMAT")})
             for licence in expiring]
    return [WorkSection(_("Licences of your departments ending within %(days)s days") % {"days": REMINDER_DAYS},
                        items, _("None ends soon."))]


admin.site.add_work_list(expiring_work)
