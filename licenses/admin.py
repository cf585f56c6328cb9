"""Clerks' admin: licences of the departments and types they are granted (guardian object permissions).

Licences are never edited in place: the add form issues through `licence_issue`, and the changelist
actions renew, suspend, reinstate and revoke through the services, each with a reason.
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from guardian.admin import GuardedModelAdmin

from licenses import selectors, services
from licenses.blind_index import number_index
from licenses.models import Department, Licence, LicenceType
from portal import idnumber
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


class LicenceIssueForm(forms.ModelForm):
    holder_username = forms.CharField(label=_("Holder's username"), max_length=150)
    values = forms.JSONField(label=_("Fields of the type"), initial=dict, required=False,
                             help_text=_('A JSON object, e.g. {"vehicle_class": "C1"}.'))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500,
                             help_text=_("E.g. the application number."))

    class Meta:
        model = Licence
        fields = ("licence_type", "number", "holder_name", "national_id", "address", "valid_from",
                  "valid_until")

    def clean_national_id(self):
        number = idnumber.normalize(self.cleaned_data["national_id"])
        idnumber.validate(number)  # GB 11643: a mistyped digit is caught before anything is written
        return number

    def clean_holder_username(self):
        holder = User.objects.filter(username=self.cleaned_data["holder_username"], role=Role.CITIZEN).first()
        if holder is None:
            raise forms.ValidationError(_("No citizen has this username."))
        self.instance.holder = holder
        return holder

    def clean(self):
        data = super().clean()
        licence_type, values = data.get("licence_type"), data.get("values") or {}
        if not isinstance(values, dict):
            self.add_error("values", _("Give a JSON object of field names and values."))
        elif licence_type is not None:
            try:
                services._split_values(licence_type, values)
            except services.LicenceError as exc:
                self.add_error("values", str(exc))
        number = (data.get("number") or "").strip()
        if licence_type is not None and number and Licence.objects.filter(
                licence_type=licence_type, number_index=number_index(number)).exists():
            self.add_error("number", _("A licence of this type with this number exists already."))
        return data


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ("public_ref", "licence_type", "number_shown", "holder", "status", "valid_until")
    list_filter = ("status", "licence_type")
    # The number is encrypted: found by its exact blind index (get_search_results), not by a substring.
    search_fields = ("public_ref", "holder__username")
    action_form = LicenceActionForm
    actions = ("renew", "suspend", "reinstate", "revoke")
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
            kwargs["form"] = LicenceIssueForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("holder_username", "licence_type", "number", "holder_name", "national_id", "address",
                    "values", "valid_from", "valid_until", "reason")
        return self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "licence_type":
            kwargs["queryset"] = selectors.licence_types_managed_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        licence = services.licence_issue(
            licence_type=data["licence_type"], holder=data["holder_username"], number=data["number"],
            holder_name=data["holder_name"], national_id=data["national_id"], address=data["address"],
            values=data.get("values") or {}, valid_from=data["valid_from"], valid_until=data["valid_until"],
            reason=data.get("reason", ""),
        )
        obj.pk, obj.public_ref = licence.pk, licence.public_ref

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
