"""The clerks' admin. A clerk sees and works on the offices granted to them (django-guardian), nothing else.

The register is read-only here: it changes only when a second clerk approves a registration.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from land_registry import selectors, services
from land_registry.admin_forms import (
    DOCUMENT_FIELDS,
    GROUP_FIELDS,
    GROUP_TITLES,
    GROUPS,
    HOLDER_LABEL,
    SHARE_LABEL,
    RegistrationPrepareForm,
    clerk_rights,
    party_label,
    right_label,
)
from land_registry.admin_review import preview
from land_registry.models import (
    Consent,
    Office,
    Parcel,
    Party,
    PartyChange,
    Registration,
    Right,
    SourceDocument,
    blind_index,
    mask_id_number,
)
from ledger.disclosure import record_history
from portal.admin_fields import RowChoiceField, is_row_id
from portal.admin_site import WorkItem, WorkSection


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

    def changelist_view(self, request, extra_context=None):
        if not all(is_row_id(value) for value in request.POST.getlist(ACTION_CHECKBOX_NAME)):
            self.message_user(request, _("The selection is not valid; select the rows again."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)

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

    @admin.display(description=HOLDER_LABEL)
    def holder_name(self, right):
        return f"{right.holder.name} ({right.holder.get_kind_display()})"

    @admin.display(description=SHARE_LABEL)
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


@admin.register(Right)
class RightAdmin(OfficeScopedAdmin):
    """Rights are shown on their parcel's page; this admin only answers the search for a right to name
    in a discharge, release or correction (active rights of the clerk's offices' parcels)."""

    search_fields = ("parcel__number", "public_ref")
    list_display = ("public_ref", "parcel", "kind", "active")

    def has_module_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return is_clerk(request) and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())

    def get_queryset(self, request):
        return clerk_rights(request.user)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()[:64]
        if not term:
            return queryset, False
        return queryset.filter(parcel__number__iexact=term) | queryset.filter(public_ref__startswith=term.lower()), \
            False

    @staticmethod
    def autocomplete_label(right):
        return right_label(right)


class PartyForm(forms.ModelForm):
    """A new party. Its portal account is not a clerk's to set: the citizen claims it at /land/claim/."""

    name = forms.CharField(label=_("name"), max_length=services.NAME_MAX)
    id_number = forms.CharField(label=_("id number"), max_length=40, required=False,
                                help_text=_("A person's 18-character national ID number (checked by its last "
                                            "character); an organisation's unified social credit code."))
    address = forms.CharField(label=_("address"), max_length=services.ADDRESS_MAX, required=False)

    class Meta:
        model = Party
        fields = ("kind", "name", "id_number", "address", "office")
        field_classes = {"office": RowChoiceField}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data.update(services.party_details(office=data["office"], kind=data["kind"], name=data["name"],
                                               id_number=data["id_number"], address=data["address"]))
        except services.RegistrationRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


class HeldRightInline(ReadOnlyInline):
    """The rights a party holds on the clerk's offices' parcels."""

    model = Right
    fk_name = "holder"
    extra = 0
    fields = ("parcel", "kind", "share_display", "legal_date", "ended_on", "active", "registration")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(parcel__in=selectors.parcels_for_clerk(request.user))

    @admin.display(description=SHARE_LABEL)
    def share_display(self, right):
        return right.share_display


NAME_SEARCH_LIMIT = 5000  # parties read to find one by (part of) its name


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    """Parties recorded by the clerk's offices or holding rights there. Names are encrypted: search by
    the exact id number or the reference. Read-only once recorded: a change is a party_correction."""

    form = PartyForm
    list_display = ("public_ref", "kind", "name", "office", "account_linked")
    search_fields = ("public_ref",)
    search_help_text = _("Exact id number, the beginning of the reference, or (part of) the name.")
    view_fields = ("public_ref", "kind", "name", "masked_id_number", "address", "account_linked", "office",
                   "ledger_history")
    inlines = [HeldRightInline]

    def has_module_permission(self, request):
        return is_clerk(request)

    def has_view_permission(self, request, obj=None):
        return is_clerk(request) and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())

    def has_change_permission(self, request, obj=None):
        return False  # who a party is changes only through a registration approved by a second clerk

    def has_add_permission(self, request):
        return is_clerk(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return self.view_fields if obj is not None else PartyForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        return selectors.parties_for_clerk(request.user).select_related("office").order_by("pk")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()[:64]
        if not term or "\x00" in term:
            return queryset.none() if term else queryset, False
        found = queryset.filter(id_index=blind_index(term)) | queryset.filter(public_ref=term.lower())
        if len(term) >= 4:  # a reference's beginning, as a clerk reads it off a paper or a page
            found = found | queryset.filter(public_ref__startswith=term.lower())
        if not term.isascii():  # a name: names are encrypted, so the office's parties are read and compared
            named = [party.pk for party in queryset.order_by("pk")[:NAME_SEARCH_LIMIT] if term in party.name]
            found = found | queryset.filter(pk__in=named)
        return found, False

    @staticmethod
    def autocomplete_label(party):
        return party_label(party)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = selectors.clerk_offices(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("id number"))
    def masked_id_number(self, party):
        return mask_id_number(party.id_number)

    @admin.display(description=_("portal account linked"), boolean=True)
    def account_linked(self, party):
        return party.user_id is not None

    @admin.display(description=_("ledger history"))
    def ledger_history(self, party):
        return ledger_history_html(party)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        party = services.party_create(office=data["office"], kind=data["kind"], name=data["name"],
                                      id_number=data["id_number"], address=data["address"], clerk=request.user)
        obj.__dict__.update(party.__dict__)


class DocumentInline(ReadOnlyInline):
    model = SourceDocument
    extra = 0
    fields = ("title", "sha256", "uploaded_at", "public_ref", "download")
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, document):
        url = reverse("admin:land_registry_registration_document", args=[document.registration_id, document.pk])
        return format_html('<a href="{}">{}</a>', url, _("open"))


class ConsentInline(ReadOnlyInline):
    model = Consent
    extra = 0
    fields = ("party", "given_at", "public_ref")
    readonly_fields = fields


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _rows(rows) -> str:
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((row,) for row in rows))) if rows \
        else "—"


class DecisionForm(forms.Form):
    confirm = forms.BooleanField(label=_("I have checked the parcels, parties, shares, consents and documents above"),
                                 required=False)
    note = forms.CharField(label=_("reason (required to reject; kept with the decision)"), required=False,
                           max_length=services.REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Registration)
class RegistrationAdmin(OfficeScopedAdmin):
    form = RegistrationPrepareForm
    list_display = ("public_ref", "kind", "parcel_numbers", "office", "state", "prepared_at", "decided_at")
    list_filter = ("state", "kind")
    search_fields = ("parcel_numbers", "public_ref")
    actions = ["approve", "reject"]
    readonly_fields = ("office", "kind", "state", "decision", "legal_date", "reason", "parcels_concerned",
                       "parties_named", "consents_needed", "effect", "prepared_by", "prepared_at",
                       "decided_by", "decided_at", "decision_note", "public_ref", "ledger_history")
    inlines = [DocumentInline, ConsentInline]

    def has_add_permission(self, request):
        return is_clerk(request)

    def get_queryset(self, request):
        return selectors.registrations_for_clerk(request.user).select_related("office")

    def get_fields(self, request, obj=None):
        if obj is None:
            return [name for _title, options in self.get_fieldsets(request) for name in options["fields"]]
        return self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        """Adding: the common inputs, a fieldset per group of inputs (shown by the script for the kinds
        that use it), and the documents."""
        if obj is not None:
            return super().get_fieldsets(request, obj)
        groups = [(GROUP_TITLES[group], {"fields": GROUP_FIELDS[group], "classes": (
            "registration-group", *(f"for-{kind}" for kind in kinds))}) for group, kinds in GROUPS.items()]
        return [(None, {"fields": ("office", "kind", "legal_date", "reason")}), *groups,
                (_("Source documents"), {"fields": DOCUMENT_FIELDS})]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the page only shows the registration: a form with no fields
            return super().get_form(request, obj, change=change, **{**kwargs, "form": forms.ModelForm,
                                                                     "fields": ()})
        form = super().get_form(request, obj, change=change, **{**kwargs, "fields": None})
        admin_site = self.admin_site

        class ClerkForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, clerk=request.user, admin_site=admin_site, **inner)

        return ClerkForm

    class Media:
        js = ("admin-extra/registration.js",)
        css = {"all": ("admin-extra/admin-extra.css",)}

    def get_urls(self):
        document = path("<int:registration_id>/documents/<int:document_id>/",
                        self.admin_site.admin_view(self.document_view), name="land_registry_registration_document")
        decide = path("<int:registration_id>/decide/", self.admin_site.admin_view(self.decide_view),
                      name="land_registry_registration_decide")
        return [document, decide, *super().get_urls()]

    def decide_view(self, request, registration_id: int):
        """The checker's page: what approval does, in words and before/after; approve or reject it."""
        registration = self.get_queryset(request).filter(pk=registration_id).first()
        if registration is None or not self.has_view_permission(request, registration):
            raise Http404
        back = reverse("admin:land_registry_registration_change", args=[registration.pk])
        return self._decision_page(request, [registration], approve=True, reject=True, back=back,
                                   action_url=request.get_full_path(), hidden=[])

    def _decision_page(self, request, registrations, *, approve, reject, back, action_url, hidden):
        pending = [r for r in registrations if r.state == "prepared"]
        decided = "_approve" in request.POST or "_reject" in request.POST
        form = DecisionForm(request.POST if decided else None)
        if decided and form.is_valid():
            approving = "_approve" in request.POST and approve
            if approving and not form.cleaned_data["confirm"]:
                form.add_error("confirm", _("Tick the box to confirm that you checked what is approved."))
            elif not approving and not form.cleaned_data["note"].strip():
                form.add_error("note", _("Give the reason for the rejection: the clerk who prepared it reads it."))
            else:
                self._decide(request, pending, services.registration_approve if approving
                             else services.registration_reject, _("approved") if approving else _("rejected"),
                             note=form.cleaned_data["note"])
                return redirect(back)
        items = [self._review(request, registration) for registration in registrations]
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "items": items,
                   "form": form if pending else None, "allow_approve": approve, "allow_reject": reject,
                   "form_action": action_url, "hidden_fields": hidden, "back_url": back,
                   "title": _("Approve or reject")}
        return TemplateResponse(request, "admin/land_registry/registration/decide.html", context)

    def _review(self, request, registration) -> dict:
        registration.viewer = request.user
        return {"registration": registration, "named": self.parties_named(registration),
                "consents": self.consents_needed(registration), "preview": preview(registration),
                "sides": self._sides(preview(registration)), "documents": registration.documents.all(),
                "prepared_at": _when(registration.prepared_at), "legal_date": registration.legal_date,
                "own": registration.prepared_by_id == request.user.pk}

    @staticmethod
    def _sides(view):
        return [(_("Now"), view.before), (_("After approval"), view.after)] if not view.problem and (
            view.after or view.before) else [(_("Now"), view.before)]

    @admin.display(description=_("effect of approval"))
    def effect(self, registration):
        view = preview(registration)
        return render_to_string("admin/land_registry/registration/_preview.html",
                                {"preview": view, "sides": self._sides(view)})

    @admin.display(description=_("decision"))
    def decision(self, registration):
        if registration.state != "prepared":
            return registration.get_state_display()
        url = reverse("admin:land_registry_registration_decide", args=[registration.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Approve or reject…"))

    def document_view(self, request, registration_id: int, document_id: int):
        """A source document, decrypted, for the clerks of the registration's office only."""
        registration = self.get_queryset(request).filter(pk=registration_id).first()
        if registration is None or not self.has_view_permission(request, registration):
            raise Http404
        document = get_object_or_404(registration.documents, pk=document_id)
        response = HttpResponse(document.file.open().read(), content_type="application/octet-stream")
        response["Content-Disposition"] = content_disposition_header(True, f"{document.title}")
        response["Cache-Control"] = "no-store"
        return response

    def get_object(self, request, object_id, from_field=None):
        registration = super().get_object(request, object_id, from_field)
        if registration is not None:
            registration.viewer = request.user  # the page's displays mask by who is looking
        return registration

    @staticmethod
    def _party(viewer, party) -> str:
        """The clerk sees parties of their offices by name, a person's ID number masked; others only masked."""
        if party is None:
            return "—"
        if not selectors.parties_for_clerk(viewer).filter(pk=party.pk).exists():
            return format_html("{} <code>{}</code>", party.public_name, party.public_ref)
        return format_html("{} ({}, {} {}) <code>{}</code>", party.name, party.get_kind_display(), _("ID"),
                           mask_id_number(party.id_number) or "—", party.public_ref)

    @admin.display(description=_("parcels"))
    def parcels_concerned(self, registration):
        rows = []
        for parcel in registration.parcels.all():
            url = reverse("admin:land_registry_parcel_change", args=[parcel.pk])
            owners = format_html_join(", ", "{} {}", ((self._party(registration.viewer, r.holder), r.share_display)
                                                      for r in selectors.active_rights(parcel, "ownership")))
            rows.append(format_html('<a href="{}">{}</a> · {} m² · {} · {} · {}: {}', url, parcel.number,
                                    parcel.area_m2, parcel.get_land_use_display(), parcel.get_status_display(),
                                    _("owners now"), owners or "—"))
        plan_parcels = (registration.payload.get("parts") or [registration.payload.get("parcel")]) \
            if registration.state == "prepared" and isinstance(registration.payload, dict) else []
        for spec in plan_parcels:
            if isinstance(spec, dict):
                rows.append(format_html("{}: {} · {} · {} m²", _("new parcel"), spec.get("number"),
                                        spec.get("location"), spec.get("area_m2", "—")))
        return _rows(rows)

    @admin.display(description=_("parties and shares"))
    def parties_named(self, registration):
        return _rows(self._named(registration))

    def _named(self, registration) -> list:
        payload = registration.payload if isinstance(registration.payload, dict) else {}
        viewer = registration.viewer
        parties = selectors.parties_of_office(registration.office)
        find = {p.public_ref: p for p in parties.filter(public_ref__in=self._refs(payload))}
        rows = [format_html("{}: {} · {} {}", _("new owner"), self._party(viewer, find.get(str(owner.get("party")))),
                            SHARE_LABEL, owner.get("share") or "1")
                for owner in payload.get("owners") or [] if isinstance(owner, dict)]
        if "holder" in payload:
            rows.append(format_html("{}: {}", HOLDER_LABEL, self._party(viewer, find.get(str(payload["holder"])))))
        if "amount" in payload:
            rows.append(format_html("{}: {} {}", _("secured amount"), payload["amount"], _("yuan")))
        right = Right.objects.filter(public_ref=str(payload.get("right", "")),
                                     parcel__office=registration.office).first()
        if right is not None:
            rows.append(format_html("{}: {} {} · {} · {}", _("right"), right.get_kind_display(),
                                    right.share_display, self._party(viewer, right.holder), right.public_ref))
        change = PartyChange.objects.filter(registration=registration).select_related("party").first()
        if change is not None:
            rows.append(format_html("{}: {}", _("party"), self._party(viewer, change.party)))
            for name, label in (("name", _("new name")), ("address", _("new address"))):
                if getattr(change, name):
                    rows.append(format_html("{}: {}", label, getattr(change, name)))
            if change.id_number:
                rows.append(format_html("{}: {}", _("new id number"), mask_id_number(change.id_number)))
            if change.unlink_account:
                rows.append(_("the portal account linked to the party is unlinked"))
        return rows

    @staticmethod
    def _refs(payload) -> list[str]:
        refs = [str(o.get("party")) for o in payload.get("owners") or [] if isinstance(o, dict)]
        return refs + [str(payload["holder"])] if "holder" in payload else refs

    @admin.display(description=_("owners' consent"))
    def consents_needed(self, registration):
        if not selectors.needs_consent(registration):
            return _("not needed for this kind of registration")
        given = set(registration.consents.values_list("party_id", flat=True))
        owners = Party.objects.filter(pk__in=selectors.owners_to_consent(registration))
        return _rows([format_html("{}: {} ({} {})", self._party(registration.viewer, owner),
                                  _("given") if owner.pk in given else _("awaited"), _("account linked by the "
                                  "citizen's claim on"), _when(selectors.account_linked_at(owner)))
                      for owner in owners])

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        registration = services.registration_prepare(
            clerk=request.user, office=data["office"], kind=data["kind"], parcels=list(data.get("parcels") or []),
            payload=data["payload"], reason=data["reason"], legal_date=data.get("legal_date"),
            documents=data["documents"])
        obj.__dict__.update(registration.__dict__)

    def save_related(self, request, form, formsets, change):
        pass  # the service stored the parcels and documents

    @admin.display(description=_("ledger history"))
    def ledger_history(self, registration):
        return ledger_history_html(registration)

    def _decide(self, request, queryset, decide, done, note=""):
        for registration in queryset:
            try:
                decide(clerk=request.user, registration=registration, note=note)
            except services.RegistrationRefused as exc:
                self.message_user(request, f"{registration}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{registration.parcel_numbers}: {done}", messages.SUCCESS)

    def _confirm_action(self, request, queryset, name):
        """An action asks first: the registrations in words, before/after, then approve (or reject with a reason)."""
        hidden = [("action", name), ("index", "0"), *((ACTION_CHECKBOX_NAME, pk) for pk in
                                                      request.POST.getlist(ACTION_CHECKBOX_NAME))]
        return self._decision_page(request, list(queryset), approve=name == "approve", reject=name == "reject",
                                   back=reverse("admin:land_registry_registration_changelist"),
                                   action_url=request.get_full_path(), hidden=hidden)

    @admin.action(description=_("Approve the selected registrations (asks for confirmation)"))
    def approve(self, request, queryset):
        return self._confirm_action(request, queryset, "approve")

    @admin.action(description=_("Reject the selected registrations (asks for a reason)"))
    def reject(self, request, queryset):
        return self._confirm_action(request, queryset, "reject")

    def get_actions(self, request):
        # Actions need only the clerk's view of the objects; the service checks each decision.
        actions = super().get_actions(request)
        return actions if is_clerk(request) else {}



WORK_ROWS = 20


def _registration_item(registration, note) -> WorkItem:
    text = format_html("{} · {} · {} · {}", registration.get_kind_display(), registration.parcel_numbers or "—",
                       registration.prepared_by.username, _when(registration.prepared_at))
    return WorkItem(text, reverse("admin:land_registry_registration_change", args=[registration.pk]), note)


def _awaited(registration) -> int:
    return len(selectors.owners_to_consent(registration)
               - set(registration.consents.values_list("party_id", flat=True)))


def clerk_work(request) -> list[WorkSection]:
    """A land clerk's home: registrations of their offices waiting for them to check, their own waiting."""
    user = request.user
    if not is_clerk(request):
        return []
    prepared = (selectors.registrations_for_clerk(user).filter(state="prepared")
                .select_related("prepared_by").order_by("prepared_at", "pk"))
    to_check, own = [], []
    for registration in prepared.exclude(prepared_by=user)[:WORK_ROWS]:
        awaited = _awaited(registration)
        to_check.append(_registration_item(registration, _("%(count)s owner(s) have not yet consented") % {
            "count": awaited} if awaited else _("ready for your decision")))
    for registration in prepared.filter(prepared_by=user)[:WORK_ROWS]:
        awaited = _awaited(registration)
        own.append(_registration_item(registration, _("waiting for %(count)s owner(s)' consent") % {
            "count": awaited} if awaited else _("waiting for a second clerk to check it")))
    return [WorkSection(_("Registrations waiting for you to check"), to_check, _("Nothing to check.")),
            WorkSection(_("Your registrations waiting for a checker or the owners' consent"), own,
                        _("None of yours is waiting."))]


admin.site.add_work_list(clerk_work)
