"""Filters that turn stored values into what a reader expects: local times, words for codes."""
import datetime as dt
from functools import cache

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ledger import labels

register = template.Library()


@register.filter
def local(value, with_time: bool = True) -> str:
    """A datetime (or an RFC 3339 string from the ledger) in Asia/Shanghai, to the minute: 2026-12-02 09:35."""
    if isinstance(value, str):
        value = parse_datetime(value.replace("Z", "+00:00")) if value else None
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


@cache
def _choice_labels(field) -> dict:
    return dict(field.flatchoices)


@register.filter
def display(obj, name: str):
    """`{{ parcel|display:"land_use" }}`: the label of a field's choice, as `parcel.get_land_use_display`
    shows it, translated once; Django's method translates every choice of the field on each call (it
    hashes their lazy labels to build its lookup table)."""
    field = obj._meta.get_field(name)
    value = getattr(obj, field.attname)
    return _choice_labels(field).get(value, value)


@register.filter
def action_words(entry: dict) -> str:
    return labels.action_label(entry.get("action"), entry.get("op"))


@register.filter
def role_words(role: str) -> str:
    return labels.role_label(role)


@register.filter
def office_name(code: str) -> str:
    return labels.office_name(code)


@register.filter
def licence_status(code: str) -> str:
    from licenses.models import LicenceStatus

    return str(dict(LicenceStatus.choices).get(code, code or ""))


@register.filter
def claim_labels(names, licence_type) -> str:
    """Claim names (holder_name, …) as the type's labels in the page's language, comma-separated."""
    labels = {claim.name: claim.label for claim in licence_type.claims()}
    return _(", ").join(labels.get(name, name) for name in names or ())
