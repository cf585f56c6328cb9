"""The clerks' licence form: one input per field of the licence type, each error on its own field.

The type's own fields come from its definition (`LicenceType.fields`: text, date or choice). The
form carries the fields of every type the clerk may issue, one fieldset per type; the admin's
script shows the chosen type's (static/admin-extra/licence-issue.js), and only the chosen type's
values are read. Everything is written by `services.licence_issue`.
"""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from licenses import services
from licenses.blind_index import number_index
from licenses.models import Licence, LicenceType, field_kind
from portal import idnumber
from portal.admin_fields import RowChoiceField

DATE_INPUT = {"type": "date"}


def type_field_name(licence_type: LicenceType, item: dict) -> str:
    return f"t{licence_type.pk}_{item['name']}"


def _input_for(item: dict) -> forms.Field:
    """The input a field's kind calls for; optional here, required for the chosen type in clean()."""
    label, kind = item.get("label") or item["name"], field_kind(item)
    if kind == "date":
        return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs=DATE_INPUT))
    if kind == "choice":
        return forms.ChoiceField(label=label, required=False,
                                 choices=[("", "---------"), *((c, c) for c in item["choices"])])
    return forms.CharField(label=label, required=False, max_length=services.FIELD_VALUE_MAX)


class LicenceIssueForm(forms.ModelForm):
    number = forms.CharField(label=_("Licence number"), max_length=64)
    holder_name = forms.CharField(label=_("Holder's name (as on the ID card)"), max_length=100)
    national_id = forms.CharField(label=_("National ID number"), max_length=40,
                                  help_text=_("18 characters; the last one is checked (GB 11643)."))
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs=DATE_INPUT))
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs=DATE_INPUT))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500,
                             help_text=_("E.g. the application number."))

    # {licence type pk: [(form field name, field definition)]}, set by issue_form_for().
    type_fields: dict[int, list[tuple[str, dict]]] = {}

    class Meta:
        model = Licence
        fields = ("holder", "licence_type", "number", "holder_name", "national_id", "address", "valid_from",
                  "valid_until")
        field_classes = {"licence_type": RowChoiceField, "holder": RowChoiceField}

    def clean_national_id(self):
        number = idnumber.normalize(self.cleaned_data["national_id"])
        idnumber.validate(number)  # GB 11643: a mistyped digit is caught before anything is written
        return number

    def clean(self):
        data = super().clean()
        licence_type = data.get("licence_type")
        if licence_type is not None:
            data["values"] = self._values(licence_type)
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("“Valid until” (%(end)s) is before “Valid from” (%(start)s); a "
                                            "licence ends on or after the day it starts.")
                           % {"end": end.isoformat(), "start": start.isoformat()})
        number = (data.get("number") or "").strip()
        if licence_type is not None and number and Licence.objects.filter(
                licence_type=licence_type, number_index=number_index(number)).exists():
            self.add_error("number", _("A licence of this type with this number exists already."))
        return data

    def _values(self, licence_type: LicenceType) -> dict:
        """The chosen type's values as text, each missing or wrong one an error on its own input."""
        values = {}
        for name, item in self.type_fields.get(licence_type.pk, []):
            if name in self.errors:
                continue
            value = self.cleaned_data.get(name)
            text = value.isoformat() if hasattr(value, "isoformat") else str(value or "").strip()
            if not text:
                self.add_error(name, _("Fill in “%(field)s”: a %(type)s needs it.")
                               % {"field": item.get("label") or item["name"], "type": licence_type.name})
                continue
            problem = services.field_value_problem(item, text)
            if problem:
                self.add_error(name, problem)
            values[item["name"]] = text
        return values

    def validate_unique(self):
        """The number's uniqueness and the dates' order are checked in clean(), in words; the database's
        constraints stay as the last guard (their names mean nothing to a clerk)."""


def issue_form_for(licence_types) -> type[LicenceIssueForm]:
    """The issue form with an input for each own field of each of these types."""
    attrs, type_fields = {}, {}
    for licence_type in licence_types:
        type_fields[licence_type.pk] = []
        for item in licence_type.own_fields():
            name = type_field_name(licence_type, item)
            attrs[name] = _input_for(item)
            type_fields[licence_type.pk].append((name, item))
    attrs["type_fields"] = type_fields
    return type("LicenceIssueForm", (LicenceIssueForm,), attrs)
