"""What approving a registration would do, in words, for the checker: each parcel's rights before and after.

Read-only: the plan comes from `services.registration_check` against the register as it is now (as
approval will check it); the after-view mirrors what approval writes (services._apply).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from land_registry import selectors, services
from land_registry.models import RegistrationKind, RegistrationState, Right, RightKind

K = RegistrationKind
CHANGES = {"": "", "ends": _("ends"), "new": _("new"), "corrected": _("corrected"), "carried": _("carried over")}


@dataclass
class Row:
    kind: str
    holder: object  # a Party
    share: str
    amount: int | None
    since: object
    change: str = ""

    @property
    def change_label(self):
        return CHANGES[self.change]


@dataclass
class ParcelView:
    number: str
    rows: list[Row]


@dataclass
class Preview:
    before: list[ParcelView]
    after: list[ParcelView]
    problem: str = ""


def _share(share: Fraction) -> str:
    return str(share) if share != 1 else "1"


def _row(right: Right, change: str = "") -> Row:
    return Row(right.get_kind_display(), right.holder, right.share_display, right.amount, right.legal_date, change)


def _new(kind: str, holder, share=Fraction(1), amount=None, since=None, change="new") -> Row:
    return Row(str(RightKind(kind).label), holder, _share(share), amount, since, change)


def preview(registration) -> Preview:
    """The parcels' active rights now, and after approval; a problem when approval would be refused now."""
    parcels = list(registration.parcels.all())
    rights = {parcel.pk: list(selectors.active_rights(parcel)) for parcel in parcels}
    if registration.state != RegistrationState.PREPARED:
        return Preview([ParcelView(p.number, [_row(r) for r in rights[p.pk]]) for p in parcels], [])
    try:
        plan = services.registration_check(office=registration.office, kind=registration.kind, parcels=parcels,
                                           payload=services._details_to_check(registration),
                                           legal_date=registration.legal_date)
    except services.RegistrationRefused as exc:
        return Preview([ParcelView(p.number, [_row(r) for r in rights[p.pk]]) for p in parcels], [], str(exc))
    ending = _ending(registration.kind, plan, rights)
    before = [ParcelView(p.number, [_row(r, "ends" if r.pk in ending else "") for r in rights[p.pk]])
              for p in parcels]
    return Preview(before, _after(registration, plan, parcels, rights))


def _ending(kind, plan, rights) -> set[int]:
    every = {r.pk for rows in rights.values() for r in rows}
    if kind in (K.SPLIT, K.MERGE):
        return every  # the old parcels are retired
    if kind == K.TRANSFER:
        return {r.pk for rows in rights.values() for r in rows if r.kind == RightKind.OWNERSHIP}
    if kind in (K.DISCHARGE, K.SEIZURE_RELEASE, K.CORRECTION):
        return {plan.right.pk}
    return set()


def _after(registration, plan, parcels, rights) -> list[ParcelView]:
    kind, date = registration.kind, registration.legal_date
    owners = [_new(RightKind.OWNERSHIP, party, share, since=date) for party, share in plan.owners]
    if kind == K.FIRST:
        return [ParcelView(plan.new_parcels[0]["number"], owners)]
    if kind == K.PARTY_CORRECTION:
        return []
    if kind in (K.SPLIT, K.MERGE):
        # Rights follow the land; a merge keeps one set of owners (the same on every parcel).
        carried = [_row(r, "carried") for r in rights[parcels[0].pk]] + [
            _row(r, "carried") for p in parcels[1:] for r in rights[p.pk] if r.kind != RightKind.OWNERSHIP]
        return [ParcelView(spec["number"], carried) for spec in plan.new_parcels]
    parcel = parcels[0]
    kept = [_row(r) for r in rights[parcel.pk] if r.pk not in _ending(kind, plan, rights)]
    if kind == K.TRANSFER:
        return [ParcelView(parcel.number, kept + owners)]
    if kind in (K.MORTGAGE, K.LEASE, K.EASEMENT, K.CAVEAT, K.SEIZURE):
        return [ParcelView(parcel.number, kept + [_new(kind, plan.holder, amount=plan.amount, since=date)])]
    if kind == K.CORRECTION and not plan.correction.get("cancel"):
        old = plan.right
        corrected = Row(old.get_kind_display(), plan.correction.get("holder", old.holder),
                        _share(plan.correction.get("share", old.share)), old.amount,
                        plan.correction.get("legal_date", old.legal_date), "corrected")
        return [ParcelView(parcel.number, kept + [corrected])]
    return [ParcelView(parcel.number, kept)]
