"""Codes as people read them: ledger actions, actor roles and offices, in the page's language."""
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from portal.models import Role

ACTIONS = {
    "licence.issue": _("licence issued"),
    "licence.renew": _("licence renewed"),
    "licence.suspend": _("licence suspended"),
    "licence.reinstate": _("licence reinstated"),
    "licence.revoke": _("licence revoked"),
    "licence.expire": _("licence expired"),
    "share.create": _("share created"),
    "share.revoke": _("share revoked"),
    "share.view": _("share viewed"),
    "authorisation.request": _("department asked to use it"),
    "authorisation.approve": _("request approved"),
    "authorisation.refuse": _("request refused"),
    "authorisation.end": _("authorisation ended"),
    "authorisation.read": _("read by a department"),
    "registration.prepare": _("registration prepared"),
    "registration.consent": _("owner consented"),
    "registration.refuse": _("owner refused"),
    "registration.approve": _("registration approved"),
    "registration.reject": _("registration rejected"),
    "registration.document": _("document attached"),
    "registration.import": _("imported from the old register"),
    "party.create": _("party recorded"),
    "party.claim": _("party claimed by its account"),
    "party.import": _("party imported"),
    "office.grant": _("office access granted"),
    "office.revoke": _("office access withdrawn"),
    "demo.load": _("demo data loaded"),
}
OPS = {"create": _("created"), "update": _("changed"), "delete": _("deleted")}
ACTOR_ROLES = {**dict(Role.choices), "public": _("the public"), "system": _("the system")}


def action_words(action: str | None, op: str | None = None) -> str:
    """A ledger entry's action in words; an unknown code falls back to what happened to the record."""
    if action in ACTIONS:
        return str(ACTIONS[action])
    return str(OPS.get(op or "", _("changed")))


def role_words(role: str | None) -> str:
    return str(ACTOR_ROLES.get(role or "", _("unknown")))


def office_name(code: str) -> str:
    """The name of the department or registry office a code stands for; the code when neither knows it."""
    for label in ("licenses.Department", "land_registry.Office"):
        name = apps.get_model(label).objects.filter(code=code).values_list("name", flat=True).first()
        if name:
            return name
    return code
