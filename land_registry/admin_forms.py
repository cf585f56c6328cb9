"""The clerk's form to prepare a registration: typed inputs for each kind, no JSON to write.

Parcels, parties and rights are picked by search (the admin's autocomplete, limited to the clerk's
offices); owners' shares are fractions whose sum the page shows (static/admin-extra/registration.js);
source documents are attached in the same form. The inputs are turned into the service's details
(`services.registration_check` / `registration_prepare`), which keep every rule of the register.
"""
from __future__ import annotations

from fractions import Fraction

from django import forms
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from land_registry import selectors, services
from land_registry.models import LandUse, Party, Registration, RegistrationKind, Right
from portal.admin_fields import RowAutocompleteSelect, RowChoiceField, RowsAutocompleteSelect, RowsChoiceField

K = RegistrationKind
# "holder" and "share" mean other things for licences (持证人, 分享): the register's words have a context.
HOLDER_LABEL = pgettext_lazy("holder of a right", "holder")
SHARE_LABEL = pgettext_lazy("portion of a right", "share")
OWNER_ROWS, PART_ROWS, DOCUMENT_ROWS = 6, 4, 3
SHARE_ATTRS = {"class": "admin-extra-share", "placeholder": "1/2", "autocomplete": "off",
               "data-sum-label": _("Sum of the shares:"), "data-sum-wrong": _("they must add up to exactly 1"),
               "data-sum-bad": _("a share is not a fraction like 1/2")}

# Which group of inputs each kind uses; the script shows only the chosen kind's groups.
GROUPS = {
    "parcels": (K.TRANSFER, K.MORTGAGE, K.DISCHARGE, K.LEASE, K.EASEMENT, K.CAVEAT, K.SEIZURE,
                K.SEIZURE_RELEASE, K.CORRECTION, K.SPLIT, K.MERGE),
    "new_parcel": (K.FIRST, K.MERGE),
    "owners": (K.FIRST, K.TRANSFER),
    "holder": (K.MORTGAGE, K.LEASE, K.EASEMENT, K.CAVEAT, K.SEIZURE, K.CORRECTION),
    "amount": (K.MORTGAGE,),
    "right": (K.DISCHARGE, K.SEIZURE_RELEASE, K.CORRECTION),
    "correction": (K.CORRECTION,),
    "parts": (K.SPLIT,),
    "party": (K.PARTY_CORRECTION,),
}
GROUP_TITLES = {
    "parcels": _("Parcels concerned"), "new_parcel": _("The new parcel"), "owners": _("New owners and their shares"),
    "holder": _("Holder of the right (creditor, lessee, court…)"), "amount": _("Secured amount"),
    "right": _("The right concerned"), "correction": _("What to correct"), "parts": _("The parcels it is split into"),
    "party": _("The party and its corrected details"),
}


def owner_fields(i):
    return f"owner_{i}", f"owner_share_{i}"


def part_fields(i):
    return f"part_number_{i}", f"part_location_{i}", f"part_area_{i}"


def document_fields(i):
    return f"document_title_{i}", f"document_{i}"


GROUP_FIELDS = {
    "parcels": ["parcels"],
    "new_parcel": ["new_number", "new_location", "new_area", "new_land_use"],
    "owners": [name for i in range(1, OWNER_ROWS + 1) for name in owner_fields(i)],
    "holder": ["holder"], "amount": ["amount"], "right": ["right"],
    "correction": ["new_share", "new_legal_date", "cancel"],
    "parts": [name for i in range(1, PART_ROWS + 1) for name in part_fields(i)],
    "party": ["party", "party_name", "party_id_number", "party_address", "unlink_account"],
}
DOCUMENT_FIELDS = [name for i in range(1, DOCUMENT_ROWS + 1) for name in document_fields(i)]


def parse_share(text: str) -> Fraction | None:
    """A share as a clerk types it (1/2, 0.5, 1); None when it is not one."""
    try:
        share = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return None
    return share if 0 < share <= 1 and share.denominator <= services.MAX_SHARE_TERM else None


class PartyField(RowChoiceField):
    def label_from_instance(self, party):
        return party_label(party)


def party_label(party: Party) -> str:
    """A party as a clerk picks it: masked name, kind and reference (the ID number never in full)."""
    return f"{party.public_name} · {party.get_kind_display()} · {party.public_ref}"


def right_label(right: Right) -> str:
    return (f"{right.parcel.number} · {right.get_kind_display()} · {right.holder.public_name} · "
            f"{right.share_display} · {right.public_ref}")


class RightField(RowChoiceField):
    def label_from_instance(self, right):
        return right_label(right)


class PrepareFormBase(forms.ModelForm):
    reason = forms.CharField(label=_("reason"), max_length=services.REASON_MAX, widget=forms.Textarea(
        attrs={"rows": 3}))
    legal_date = forms.DateField(label=_("legal date"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("The day the change takes effect in law; today if empty."))
    new_number = forms.CharField(label=_("parcel number"), max_length=40, required=False)
    new_location = forms.CharField(label=_("location"), max_length=300, required=False)
    new_area = forms.IntegerField(label=_("area (m²)"), min_value=1, max_value=services.MAX_AREA, required=False,
                                  help_text=_("Not needed for a merge: the parcels' areas are added up."))
    new_land_use = forms.ChoiceField(label=_("land use"), choices=LandUse.choices, required=False)
    amount = forms.IntegerField(label=_("secured amount (yuan)"), min_value=1, max_value=services.MAX_AMOUNT,
                                required=False)
    new_share = forms.CharField(label=_("corrected share"), max_length=40, required=False,
                                widget=forms.TextInput(attrs={"placeholder": "1/2"}))
    new_legal_date = forms.DateField(label=_("corrected effective date"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    cancel = forms.BooleanField(label=_("cancel the right (registered by mistake)"), required=False)
    party_name = forms.CharField(label=_("corrected name"), max_length=services.NAME_MAX, required=False)
    party_id_number = forms.CharField(label=_("corrected ID number"), max_length=40, required=False)
    party_address = forms.CharField(label=_("corrected address"), max_length=services.ADDRESS_MAX, required=False)
    unlink_account = forms.BooleanField(label=_("unlink the portal account"), required=False)

    class Meta:
        model = Registration
        fields = ("office", "kind", "parcels", "legal_date", "reason")
        field_classes = {"office": RowChoiceField, "parcels": RowsChoiceField}

    def __init__(self, *args, clerk=None, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clerk = clerk
        self.fields["office"].queryset = selectors.clerk_offices(clerk)
        self.fields["kind"].widget.attrs["class"] = "admin-extra-kind"
        self._search("parcels", Registration._meta.get_field("parcels"), selectors.parcels_for_clerk(clerk),
                     admin_site, multiple=True)
        self.fields["parcels"].help_text = _("Type part of a parcel number and pick it; a merge names two or more.")
        for form_field in self.fields.values():
            form_field.label = capfirst(form_field.label)
        for name, more in (("owner_share_1", _("Add another owner")), ("part_number_1", _("Add another new parcel")),
                           ("document_title_1", _("Add another document"))):
            self.fields[name].widget.attrs["data-more"] = more
        parties = selectors.parties_for_clerk(clerk)
        for name in ("holder", "party", *(owner_fields(i)[0] for i in range(1, OWNER_ROWS + 1))):
            self._search(name, Right._meta.get_field("holder"), parties, admin_site)
        self._search("right", Right._meta.get_field("corrects"), clerk_rights(clerk), admin_site)

    def _search(self, name, source_field, queryset, admin_site, multiple=False):
        """The field picks from `queryset`, by search (the admin's autocomplete) when there is an admin site."""
        field = self.fields[name]
        field.required = False
        if admin_site is not None:
            field.widget = (RowsAutocompleteSelect if multiple else RowAutocompleteSelect)(source_field, admin_site)
            field.widget.is_required = False
        field.queryset = queryset

    def _share_rows(self) -> list[tuple[str, Party, Fraction]]:
        rows = []
        for i in range(1, OWNER_ROWS + 1):
            party_name, share_name = owner_fields(i)
            party, text = self.cleaned_data.get(party_name), (self.cleaned_data.get(share_name) or "").strip()
            if (party is None and not text) or self.has_error(party_name):
                continue
            if party is None:
                self.add_error(party_name, _("Pick the owner who receives this share."))
                continue
            share = parse_share(text or "1")
            if share is None:
                self.add_error(share_name, _("“%(share)s” is not a share: write a fraction above 0 and at most 1, "
                                             "like 1/2.") % {"share": text[:40]})
                continue
            rows.append((share_name, party, share))
        return rows

    def _require(self, *names) -> None:
        for name in names:
            if self.cleaned_data.get(name) in (None, "", []) and not self.has_error(name):
                self.add_error(name, _("This kind of registration needs “%(field)s”.")
                               % {"field": self.fields[name].label})

    def details(self, kind: str) -> dict:
        """The service's details of the kind, from the typed inputs; each missing input an error on it."""
        data, payload = self.cleaned_data, {}
        if kind in GROUPS["owners"]:
            rows = self._share_rows()
            if not rows and not self.has_error(owner_fields(1)[1]):
                self.add_error(owner_fields(1)[0], _("Name at least one owner."))
            total = sum((share for _name, _party, share in rows), Fraction(0))
            if rows and total != 1 and not any(self.has_error(owner_fields(i)[1])
                                               for i in range(1, OWNER_ROWS + 1)):
                self.add_error(rows[0][0], _("The shares add up to %(total)s; they must add up to exactly 1.")
                               % {"total": total})
            payload["owners"] = [{"party": party.public_ref, "share": str(share)} for _n, party, share in rows]
        if kind in GROUPS["new_parcel"]:
            self._require("new_number", "new_location", *(("new_area",) if kind == K.FIRST else ()))
            payload["parcel"] = {"number": data.get("new_number") or "", "location": data.get("new_location") or "",
                                 "land_use": data.get("new_land_use") or LandUse.RESIDENTIAL}
            if kind == K.FIRST:
                payload["parcel"]["area_m2"] = data.get("new_area") or 0
        if kind in GROUPS["holder"] and kind != K.CORRECTION:
            self._require("holder")
            payload["holder"] = getattr(data.get("holder"), "public_ref", "")
        if kind == K.MORTGAGE:
            self._require("amount")
            payload["amount"] = data.get("amount") or 0
        if kind in GROUPS["right"]:
            self._require("right")
            payload["right"] = getattr(data.get("right"), "public_ref", "")
        if kind == K.CORRECTION:
            payload.update(self._correction())
        if kind == K.SPLIT:
            payload["parts"] = self._parts()
        if kind == K.PARTY_CORRECTION:
            payload.update(self._party_correction())
        return payload

    def _correction(self) -> dict:
        data, changes = self.cleaned_data, {}
        if data.get("cancel"):
            return {"cancel": True}
        if (data.get("new_share") or "").strip():
            share = parse_share(data["new_share"])
            if share is None:
                self.add_error("new_share", _("Write the share as a fraction above 0 and at most 1, like 1/2."))
            else:
                changes["share"] = str(share)
        if data.get("holder") is not None:
            changes["holder"] = data["holder"].public_ref
        if data.get("new_legal_date"):
            changes["legal_date"] = data["new_legal_date"].isoformat()
        if not changes and not self.has_error("new_share"):
            self.add_error("new_share", _("Say what to correct: a share, a holder, an effective date, or cancel."))
        return changes

    def _parts(self) -> list[dict]:
        parts = []
        for i in range(1, PART_ROWS + 1):
            number, location, area = (self.cleaned_data.get(name) for name in part_fields(i))
            if number or location or area:
                parts.append({"number": number or "", "location": location or "", "area_m2": area or 0})
        if len(parts) < 2:
            self.add_error(part_fields(1)[0], _("A split needs at least two new parcels."))
        return parts

    def _party_correction(self) -> dict:
        data = self.cleaned_data
        self._require("party")
        payload = {"party": getattr(data.get("party"), "public_ref", "")}
        for field, key in (("party_name", "name"), ("party_id_number", "id_number"), ("party_address", "address")):
            if (data.get(field) or "").strip():
                payload[key] = data[field].strip()
        if data.get("unlink_account"):
            payload["unlink_account"] = True
        return payload

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind is None or "office" not in data:
            return data
        payload = self.details(kind)
        data["payload"] = payload
        data["documents"] = self._documents()
        if self.errors:
            return data
        try:
            services.registration_check(office=data["office"], kind=kind, parcels=list(data.get("parcels") or []),
                                        payload=payload, legal_date=data.get("legal_date"))
        except services.RegistrationRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data

    def _documents(self) -> list[tuple[str, bytes]]:
        documents = []
        for i in range(1, DOCUMENT_ROWS + 1):
            title_name, file_name = document_fields(i)
            upload = self.cleaned_data.get(file_name)
            if upload is None:
                continue
            if upload.size > services.MAX_DOCUMENT_BYTES:
                self.add_error(file_name, _("The document is larger than %(max)s MB.")
                               % {"max": services.MAX_DOCUMENT_BYTES // 2**20})
                continue
            title = (self.cleaned_data.get(title_name) or "").strip() or upload.name[:services.TITLE_MAX]
            documents.append((title, upload.read()))
        return documents


def numbered(label: str, n: int):
    """A row's label, translated when shown: "owner 2", "所有权人 2"."""
    return lazy(lambda: gettext(label) % {"n": n}, str)()


def _row_fields() -> dict:
    """The searched choices and the repeated rows (owners, parts, documents) of the form."""
    fields = {"holder": PartyField(label=HOLDER_LABEL, queryset=Party.objects.none(), required=False),
              "party": PartyField(label=_("party"), queryset=Party.objects.none(), required=False),
              "right": RightField(label=_("right"), queryset=Right.objects.none(), required=False)}
    for i in range(1, OWNER_ROWS + 1):
        party_name, share_name = owner_fields(i)
        fields[party_name] = PartyField(label=numbered("owner %(n)s", i), queryset=Party.objects.none(),
                                        required=False)
        fields[share_name] = forms.CharField(label=numbered("share of owner %(n)s", i), max_length=40,
                                             required=False, widget=forms.TextInput(attrs=SHARE_ATTRS))
    for i in range(1, PART_ROWS + 1):
        number, location, area = part_fields(i)
        fields[number] = forms.CharField(label=numbered("number of new parcel %(n)s", i), max_length=40,
                                         required=False)
        fields[location] = forms.CharField(label=numbered("location of new parcel %(n)s", i), max_length=300,
                                           required=False)
        fields[area] = forms.IntegerField(label=numbered("area of new parcel %(n)s (m²)", i), min_value=1,
                                          max_value=services.MAX_AREA, required=False)
    for i in range(1, DOCUMENT_ROWS + 1):
        title, upload = document_fields(i)
        fields[title] = forms.CharField(label=numbered("title of document %(n)s", i), required=False,
                                        max_length=services.TITLE_MAX)
        fields[upload] = forms.FileField(label=numbered("source document %(n)s", i), required=False)
    return fields


def clerk_rights(clerk):
    """The active rights on the clerk's offices' parcels: what a discharge, release or correction names."""
    return Right.objects.filter(active=True, parcel__in=selectors.parcels_for_clerk(clerk)).select_related(
        "parcel", "holder").order_by("parcel__number", "id")


RegistrationPrepareForm = type("RegistrationPrepareForm", (PrepareFormBase,), _row_fields())
