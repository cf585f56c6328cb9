"""Ledger codes in words: entry kinds (models), actions, operations and actor roles, translated."""
from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from portal.models import Role

ACTIONS = {
    "authorisation.approve": _("Authorisation approved"),
    "authorisation.end": _("Authorisation ended"),
    "authorisation.read": _("Licence read under an authorisation"),
    "authorisation.refuse": _("Authorisation refused"),
    "authorisation.request": _("Authorisation requested"),
    "demo.load": _("Demonstration data loaded"),
    "ledger.seal": _("Ledger sealed"),
    "licence.expire": _("Licence expired"),
    "licence.issue": _("Licence issued"),
    "licence.reinstate": _("Licence reinstated"),
    "licence.renew": _("Licence renewed"),
    "licence.revoke": _("Licence revoked"),
    "licence.suspend": _("Licence suspended"),
    "office.grant": _("Office access granted"),
    "office.revoke": _("Office access revoked"),
    "party.claim": _("Party claimed by its citizen"),
    "party.create": _("Party created"),
    "party.import": _("Party imported"),
    "record.approve": _("Record approved"),
    "registration.approve": _("Registration approved"),
    "registration.consent": _("Owner consented"),
    "registration.refuse": _("Owner refused"),
    "registration.document": _("Registration document added"),
    "registration.import": _("Registration imported"),
    "registration.prepare": _("Registration prepared"),
    "registration.reject": _("Registration rejected"),
    "share.create": _("Share link created"),
    "share.revoke": _("Share link revoked"),
    "share.view": _("Shared licence viewed"),
}

OPS = {"create": _("Created"), "update": _("Changed"), "delete": _("Deleted")}

ROLES = {
    **dict(Role.choices),
    "public": _("Member of the public"),
    "system": _("The portal itself"),
}


def _model(kind: str):
    try:
        return apps.get_model(kind)
    except (LookupError, ValueError):
        return None


def kind_label(kind: str) -> str:
    """`licenses.licence` -> the model's name in the visitor's language ("Licence", "证照")."""
    model = _model(kind)
    return str(model._meta.verbose_name).capitalize() if model else kind


def field_label(kind: str, name: str) -> str:
    model = _model(kind)
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize() if model else name
    except LookupError:
        return name


def action_label(code: str, op: str = "") -> str:
    """A ledger entry's action in words; without one, what happened to the record (`op`)."""
    if not code:
        return op_label(op) if op else str(_("No named action"))
    return str(ACTIONS.get(code, code))


def op_label(op: str) -> str:
    return str(OPS.get(op, op))


def role_label(role: str) -> str:
    return str(ROLES.get(role, role or ""))


def choice_label(kind: str, name: str, value) -> str:
    """A coded field value in words, from the model field's choices (`valid` -> "Valid", "有效")."""
    model = _model(kind)
    try:
        choices = dict(model._meta.get_field(name).flatchoices) if model else {}
    except LookupError:
        choices = {}
    return str(choices.get(value, value))


def office_name(code: str) -> str:
    """The name of the department or registry office a code stands for; the code when neither knows it."""
    for label in ("licenses.Department", "land_registry.Office"):
        name = apps.get_model(label).objects.filter(code=code).values_list("name", flat=True).first()
        if name:
            return name
    return code
