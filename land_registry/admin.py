"""The clerks' admin. A clerk sees and works on the offices granted to them (django-guardian), nothing else.

The register is read-only here: it changes only when a second clerk approves a registration.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from land_registry import selectors, services
from land_registry.models import (
    Consent,
    Office,
    Parcel,
    Party,
    Registration,
    Right,
    SourceDocument,
    blind_index,
)
from ledger.disclosure import record_history


def is_clerk(request, obj=None) -> bool:
    """Staff with at least one granted office; with an object, one of its office."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    offices = selectors.clerk_offices(user)
    if obj is None:
        return offices.exists()
    office_id = obj.office_id
    return offices.filter(pk=office_id).exists()


class OfficeScopedAdmin(admin.ModelAdmin):
    """Visible only to clerks of an office, and each object only to the clerks of its office."""

    def has_module_permission(self, request):
        return is_clerk(request)

    def has_view_permission(self, request, obj=None):
        return is_clerk(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # history is never overwritten


@admin.register(Office)
class OfficeAdmin(GuardedModelAdmin):
    """Administrators grant clerks their offices here (object permissions)."""

    list_display = ("code", "name", "public_ref")
    search_fields = ("code", "name")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside a parent whose admin already limits what the clerk may see."""

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RightInline(ReadOnlyInline):
    model = Right
    fk_name = "parcel"
    extra = 0
    fields = ("kind", "holder_name", "share_display", "amount", "legal_date", "ended_on", "active",
              "registration", "corrects", "public_ref")
    readonly_fields = fields
    ordering = ("registered_at", "id")

    @admin.display(description=_("holder"))
    def holder_name(self, right):
        return f"{right.holder.name} ({right.holder.get_kind_display()})"

    @admin.display(description=_("share"))
    def share_display(self, right):
        return right.share_display


def ledger_history_html(obj):
    rows = [(step.leaf_index if step.leaf_index is not None else "—", step.entry["time"][:19],
             step.entry["op"], step.entry.get("action", ""), step.entry["actor"].get("role", ""),
             step.entry["actor"].get("office", ""), ", ".join(step.entry["changed"]),
             f"status-{'valid' if step.proof_status == 'verified' else 'suspended'}", step.proof_status)
            for step in record_history(obj)]
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td>"
                                "<td class=\"{}\">{}</td></tr>", rows)
    head = format_html_join("", "<th>{}</th>", ((label,) for label in (
        _("index"), _("time (UTC)"), _("operation"), _("action"), _("actor"), _("changed"), _("proof"))))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(Parcel)
class ParcelAdmin(OfficeScopedAdmin):
    list_display = ("number", "location", "area_m2", "land_use", "office", "status")
    list_filter = ("status", "land_use")
    search_fields = ("number", "location")
    fields = ("number", "location", "area_m2", "land_use", "office", "status", "parent_numbers",
              "public_ref", "ledger_history")
    readonly_fields = fields
    inlines = [RightInline]

    def get_queryset(self, request):
        return selectors.parcels_for_clerk(request.user).select_related("office")

    @admin.display(description=_("ledger history"))
    def ledger_history(self, parcel):
        return ledger_history_html(parcel)


class PartyForm(forms.ModelForm):
    class Meta:
        model = Party
        fields = ("kind", "name", "id_number", "address", "user", "office")
        widgets = {"name": forms.TextInput, "id_number": forms.TextInput, "address": forms.TextInput}


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    """Parties recorded by the clerk's offices or holding rights there. Names are encrypted: search by
    the exact id number or the reference."""

    form = PartyForm
    list_display = ("public_ref", "kind", "name", "office")
    search_fields = ("public_ref",)
    search_help_text = _("Exact id number or reference.")
    raw_id_fields = ("user",)

    def has_module_permission(self, request):
        return is_clerk(request)

    def has_view_permission(self, request, obj=None):
        return is_clerk(request) and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return is_clerk(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return selectors.parties_for_clerk(request.user).select_related("office")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(id_index=blind_index(term)) | queryset.filter(public_ref=term.lower()), False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = selectors.clerk_offices(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        party = services.party_create(office=data["office"], kind=data["kind"], name=data["name"],
                                      id_number=data["id_number"], address=data["address"], user=data["user"])
        obj.__dict__.update(party.__dict__)


class RegistrationForm(forms.ModelForm):
    document = forms.FileField(label=_("source document"), required=False)
    document_title = forms.CharField(label=_("document title"), max_length=200, required=False)

    class Meta:
        model = Registration
        fields = ("office", "kind", "parcels", "payload", "legal_date", "reason", "consent_required")
        help_texts = {"payload": _(
            'JSON, by kind. first_registration: {"parcel": {"number", "location", "area_m2", "land_use"}, '
            '"owners": [{"party": ref, "share": "1/2"}]}; transfer: {"owners": [...]}; mortgage: '
            '{"holder": ref, "amount": yuan}; lease, easement, caveat, seizure: {"holder": ref}; '
            'discharge, seizure_release: {"right": ref}; correction: {"right": ref, "share" | "holder" | '
            '"legal_date" | "cancel"}; split: {"parts": [{"number", "location", "area_m2"}, ...]}; '
            'merge: {"parcel": {"number", "location"}}.')}

    def __init__(self, *args, clerk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clerk = clerk
        self.fields["office"].queryset = selectors.clerk_offices(clerk)
        self.fields["parcels"].queryset = selectors.parcels_for_clerk(clerk)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            services.registration_check(office=data["office"], kind=data["kind"],
                                        parcels=list(data.get("parcels") or []), payload=data["payload"])
        except services.RegistrationRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


class DocumentInline(ReadOnlyInline):
    model = SourceDocument
    extra = 0
    fields = ("title", "sha256", "uploaded_at", "public_ref")
    readonly_fields = fields


class ConsentInline(DocumentInline):
    model = Consent
    fields = ("party", "given_at", "public_ref")
    readonly_fields = fields


@admin.register(Registration)
class RegistrationAdmin(OfficeScopedAdmin):
    form = RegistrationForm
    list_display = ("public_ref", "kind", "parcel_numbers", "office", "state", "prepared_at", "decided_at")
    list_filter = ("state", "kind")
    search_fields = ("parcel_numbers", "public_ref")
    actions = ["approve", "reject"]
    readonly_fields = ("office", "kind", "parcel_numbers", "payload", "legal_date", "reason",
                       "consent_required", "state", "prepared_by", "prepared_at", "decided_by",
                       "decided_at", "decision_note", "public_ref", "ledger_history")
    inlines = [DocumentInline, ConsentInline]

    def has_add_permission(self, request):
        return is_clerk(request)

    def get_queryset(self, request):
        return selectors.registrations_for_clerk(request.user).select_related("office")

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*RegistrationForm.Meta.fields, "document_title", "document"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        form = super().get_form(request, obj, change=change, **kwargs)

        class ClerkForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, clerk=request.user, **inner)

        return ClerkForm

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        upload = data.get("document")
        documents = [(data.get("document_title") or upload.name, upload.read())] if upload else []
        registration = services.registration_prepare(
            clerk=request.user, office=data["office"], kind=data["kind"], parcels=list(data["parcels"]),
            payload=data["payload"], reason=data["reason"], legal_date=data["legal_date"],
            consent_required=data["consent_required"], documents=documents)
        obj.__dict__.update(registration.__dict__)

    def save_related(self, request, form, formsets, change):
        pass  # the service stored the parcels and documents

    @admin.display(description=_("ledger history"))
    def ledger_history(self, registration):
        return ledger_history_html(registration)

    def _decide(self, request, queryset, decide, done):
        for registration in queryset:
            try:
                decide(clerk=request.user, registration=registration)
            except services.RegistrationRefused as exc:
                self.message_user(request, f"{registration}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{registration.parcel_numbers}: {done}", messages.SUCCESS)

    @admin.action(description=_("Approve the selected registrations"))
    def approve(self, request, queryset):
        self._decide(request, queryset, services.registration_approve, _("approved"))

    @admin.action(description=_("Reject the selected registrations"))
    def reject(self, request, queryset):
        self._decide(request, queryset, services.registration_reject, _("rejected"))

    def get_actions(self, request):
        # Actions need only the clerk's view of the objects; the service checks each decision.
        actions = super().get_actions(request)
        return actions if is_clerk(request) else {}

