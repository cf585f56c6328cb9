"""Writes to the register. Every rule of the registry is enforced here, not in forms or views.

A registration is prepared by one clerk and approved or rejected by a second clerk of the same
office; only approval changes the register. Each step is ledgered with the clerk as actor.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from land_registry import selectors
from land_registry.models import (
    Consent,
    Follow,
    LandUse,
    Notice,
    Office,
    Parcel,
    ParcelStatus,
    Party,
    Registration,
    RegistrationKind,
    RegistrationState,
    Right,
    RightKind,
    SourceDocument,
)
from ledger.actor import acting_as, actor_for_user, ledger_action

K = RegistrationKind


class RegistrationRefused(ValueError):
    """A registration the rules do not allow; the message tells the clerk what to do."""


@contextmanager
def _acting(user, action: str):
    """The entries name the user the service acts for (the clerk or citizen), and the action."""
    with acting_as(actor_for_user(user)), ledger_action(action):
        yield


# --- offices and parties -------------------------------------------------------------------

@transaction.atomic
def office_grant(*, office: Office, user) -> None:
    with ledger_action("office.grant"):
        assign_perm(selectors.OFFICE_PERMISSION, user, office)


@transaction.atomic
def office_revoke(*, office: Office, user) -> None:
    with ledger_action("office.revoke"):
        remove_perm(selectors.OFFICE_PERMISSION, user, office)


@transaction.atomic
def party_create(*, office: Office, kind: str, name: str, id_number: str = "", address: str = "",
                 user=None) -> Party:
    with ledger_action("party.create"):
        return Party.objects.create(office=office, kind=kind, name=name.strip(), id_number=id_number.strip(),
                                    address=address.strip(), user=user)


# --- checking a registration ---------------------------------------------------------------

@dataclass
class Plan:
    """What an approval will do, resolved from the payload."""

    owners: list[tuple[Party, Fraction]] = field(default_factory=list)
    holder: Party | None = None
    amount: int | None = None
    right: Right | None = None
    new_parcels: list[dict] = field(default_factory=list)
    correction: dict = field(default_factory=dict)


def _party(office: Office, ref) -> Party:
    party = Party.objects.filter(public_ref=str(ref or "")).first()
    if party is None:
        raise RegistrationRefused(
            _("No party with reference “%(ref)s”; record the party first.") % {"ref": ref})
    return party


def _share(text) -> Fraction:
    try:
        share = Fraction(str(text or "1"))
    except (ValueError, ZeroDivisionError) as exc:
        raise RegistrationRefused(
            _("Share “%(share)s” is not a fraction like 1/2.") % {"share": text}) from exc
    if not 0 < share <= 1:
        raise RegistrationRefused(_("Share %(share)s must be more than 0 and at most 1.") % {"share": text})
    return share


def _owners(office: Office, payload: dict) -> list[tuple[Party, Fraction]]:
    items = payload.get("owners") or []
    if not isinstance(items, list) or not items:
        raise RegistrationRefused(_("Name the owners: “owners”: [{“party”: reference, “share”: “1/2”}]."))
    owners = [(_party(office, item.get("party")), _share(item.get("share"))) for item in items]
    if len({party.pk for party, _ in owners}) != len(owners):
        raise RegistrationRefused(_("A party is named twice among the owners; give it one share."))
    total = sum((share for _, share in owners), Fraction(0))
    if total != 1:
        raise RegistrationRefused(
            _("The owners' shares add up to %(total)s; they must add up to exactly 1.") % {"total": total})
    return owners


def _new_parcel(data, *, need_area=True) -> dict:
    if not isinstance(data, dict):
        raise RegistrationRefused(_("Describe each new parcel with number, location, area_m2 and land_use."))
    number = str(data.get("number") or "").strip()
    location = str(data.get("location") or "").strip()
    if not number or not location:
        raise RegistrationRefused(_("A new parcel needs a number and a location."))
    if Parcel.objects.filter(number=number).exists():
        raise RegistrationRefused(_("Parcel number %(number)s is already registered.") % {"number": number})
    land_use = data.get("land_use") or LandUse.RESIDENTIAL
    if land_use not in LandUse.values:
        raise RegistrationRefused(_("Unknown land use “%(use)s”.") % {"use": land_use})
    result = {"number": number, "location": location, "land_use": land_use}
    if need_area:
        area = data.get("area_m2")
        if not isinstance(area, int) or isinstance(area, bool) or area <= 0:
            raise RegistrationRefused(_("The area of parcel %(number)s must be a whole number of square "
                                        "metres above 0.") % {"number": number})
        result["area_m2"] = area
    return result


def _require_active(parcel: Parcel, verb: str) -> None:
    if not parcel.is_active:
        raise RegistrationRefused(
            _("Parcel %(number)s is retired (split or merged) and cannot be %(verb)s; register it on the "
              "parcels that replaced it.") % {"number": parcel.number, "verb": verb})


def _require_not_seized(parcel: Parcel) -> None:
    seizure = selectors.active_seizure(parcel)
    if seizure is not None:
        raise RegistrationRefused(
            _("Parcel %(number)s is seized (查封) since %(date)s; register the release of the seizure "
              "first.") % {"number": parcel.number, "date": seizure.legal_date})


def _active_right(parcel: Parcel, payload: dict, kind: str | None, missing: str) -> Right:
    ref = str(payload.get("right") or "")
    rights = selectors.active_rights(parcel, kind)
    right = rights.filter(public_ref=ref).first() if ref else None
    if right is None:
        raise RegistrationRefused(missing % {"number": parcel.number, "ref": ref or "—"})
    return right


def _one_parcel(kind: str, parcels: list[Parcel]) -> Parcel:
    if len(parcels) != 1:
        raise RegistrationRefused(_("A %(kind)s concerns exactly one parcel; %(count)s were given.")
                                  % {"kind": RegistrationKind(kind).label, "count": len(parcels)})
    return parcels[0]


def registration_check(*, office: Office, kind: str, parcels: list[Parcel], payload: dict) -> Plan:
    """Checks a registration against the register as it is now; raises RegistrationRefused."""
    if kind not in RegistrationKind.values:
        raise RegistrationRefused(_("Unknown kind of registration “%(kind)s”.") % {"kind": kind})
    if not isinstance(payload, dict):
        raise RegistrationRefused(_("The details must be a JSON object."))
    for parcel in parcels:
        if parcel.office_id != office.pk:
            raise RegistrationRefused(
                _("Parcel %(number)s belongs to another office.") % {"number": parcel.number})
    plan = Plan()
    if kind == K.FIRST:
        if parcels:
            raise RegistrationRefused(_("A first registration creates its parcel; do not select existing "
                                        "parcels."))
        plan.new_parcels = [_new_parcel(payload.get("parcel"))]
        plan.owners = _owners(office, payload)
        return plan
    if kind == K.MERGE:
        return _check_merge(office, parcels, payload, plan)
    parcel = _one_parcel(kind, parcels)
    if kind == K.TRANSFER:
        _require_active(parcel, _("transferred"))
        _require_not_seized(parcel)
        if not selectors.active_rights(parcel, RightKind.OWNERSHIP).exists():
            raise RegistrationRefused(_("Parcel %(number)s has no registered owner; register it first.")
                                      % {"number": parcel.number})
        plan.owners = _owners(office, payload)
    elif kind in (K.MORTGAGE, K.LEASE, K.EASEMENT, K.CAVEAT, K.SEIZURE):
        _require_active(parcel, _("encumbered"))
        if kind == K.MORTGAGE:
            _require_not_seized(parcel)
            amount = payload.get("amount")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise RegistrationRefused(_("A mortgage needs the secured amount in whole yuan above 0."))
            plan.amount = amount
        plan.holder = _party(office, payload.get("holder"))
    elif kind == K.DISCHARGE:
        plan.right = _active_right(parcel, payload, RightKind.MORTGAGE, _(
            "There is no active mortgage “%(ref)s” on parcel %(number)s, so there is nothing to discharge."))
    elif kind == K.SEIZURE_RELEASE:
        plan.right = _active_right(parcel, payload, RightKind.SEIZURE, _(
            "There is no active seizure “%(ref)s” on parcel %(number)s, so there is nothing to release."))
    elif kind == K.CORRECTION:
        plan.right = _active_right(parcel, payload, None, _(
            "There is no active right “%(ref)s” on parcel %(number)s to correct."))
        plan.correction = _check_correction(office, parcel, plan.right, payload)
    elif kind == K.SPLIT:
        _require_active(parcel, _("split"))
        _require_not_seized(parcel)
        parts = payload.get("parts") or []
        if not isinstance(parts, list) or len(parts) < 2:
            raise RegistrationRefused(_("A split needs at least two new parcels in “parts”."))
        plan.new_parcels = [_new_parcel(part) for part in parts]
        _require_distinct_numbers(plan.new_parcels)
        total = sum(part["area_m2"] for part in plan.new_parcels)
        if total != parcel.area_m2:
            raise RegistrationRefused(
                _("The new parcels' areas add up to %(total)s m², but parcel %(number)s has %(area)s m².")
                % {"total": total, "number": parcel.number, "area": parcel.area_m2})
    return plan


def _require_distinct_numbers(new_parcels: list[dict]) -> None:
    numbers = [part["number"] for part in new_parcels]
    if len(set(numbers)) != len(numbers):
        raise RegistrationRefused(_("Each new parcel needs its own number."))


def _ownership(parcel: Parcel) -> set[tuple[int, Fraction]]:
    return {(r.holder_id, r.share) for r in selectors.active_rights(parcel, RightKind.OWNERSHIP)}


def _check_merge(office, parcels, payload, plan) -> Plan:
    if len(parcels) < 2:
        raise RegistrationRefused(_("A merge needs at least two parcels."))
    for parcel in parcels:
        _require_active(parcel, _("merged"))
        _require_not_seized(parcel)
    if len({frozenset(_ownership(parcel)) for parcel in parcels}) != 1:
        raise RegistrationRefused(_("Only parcels with the same owners in the same shares can be merged; "
                                    "register a transfer first."))
    new = _new_parcel(payload.get("parcel"), need_area=False)
    new["area_m2"] = sum(parcel.area_m2 for parcel in parcels)
    plan.new_parcels = [new]
    return plan


def _check_correction(office, parcel, right, payload) -> dict:
    changes = {}
    if payload.get("cancel"):
        return {"cancel": True}
    if "share" in payload:
        changes["share"] = _share(payload["share"])
    if "holder" in payload:
        changes["holder"] = _party(office, payload["holder"])
    if "legal_date" in payload:
        try:
            changes["legal_date"] = dt.date.fromisoformat(str(payload["legal_date"]))
        except ValueError as exc:
            raise RegistrationRefused(_("The corrected date must be written YYYY-MM-DD.")) from exc
    if not changes:
        raise RegistrationRefused(_("Say what to correct: “share”, “holder”, “legal_date” or “cancel”."))
    if right.kind == RightKind.OWNERSHIP and "share" in changes:
        others = sum((r.share for r in selectors.active_rights(parcel, RightKind.OWNERSHIP)
                      if r.pk != right.pk), Fraction(0))
        if others + changes["share"] != 1:
            raise RegistrationRefused(
                _("After this correction the owners' shares would add up to %(total)s; they must add up "
                  "to exactly 1. Correct the shares with a transfer instead.")
                % {"total": others + changes["share"]})
    return changes


# --- the workflow ----------------------------------------------------------------------------

def _require_clerk(clerk, office: Office) -> None:
    if not selectors.clerk_may_work_in(clerk, office):
        raise RegistrationRefused(_("You are not a clerk of office %(office)s.") % {"office": office.code})


@transaction.atomic
def registration_prepare(*, clerk, office: Office, kind: str, parcels: list[Parcel], payload: dict,
                         reason: str, legal_date: dt.date | None = None, consent_required: bool = False,
                         documents: list[tuple[str, bytes]] = ()) -> Registration:
    """A clerk prepares a registration; nothing in the register changes until a second clerk approves."""
    _require_clerk(clerk, office)
    if not (reason or "").strip():
        raise RegistrationRefused(_("Give the reason for the registration."))
    plan = registration_check(office=office, kind=kind, parcels=parcels, payload=payload)
    numbers = [p.number for p in parcels] + [p["number"] for p in plan.new_parcels]
    with _acting(clerk, "registration.prepare"):
        registration = Registration.objects.create(
            office=office, kind=kind, payload=payload, reason=reason.strip(),
            legal_date=legal_date or timezone.localdate(), parcel_numbers=" ".join(numbers),
            consent_required=consent_required and kind in selectors.TRANSFER_LIKE, prepared_by=clerk,
        )
        if parcels:
            registration.parcels.add(*parcels)
        for title, content in documents:
            document_attach(registration=registration, title=title, content=content)
    return registration


@transaction.atomic
def document_attach(*, registration: Registration, title: str, content: bytes) -> SourceDocument:
    """Stores the document under MEDIA_ROOT; its SHA-256 goes into the ledger."""
    if registration.state != RegistrationState.PREPARED:
        raise RegistrationRefused(_("Documents can only be added while the registration is prepared."))
    digest = hashlib.sha256(content).hexdigest()
    document = SourceDocument(registration=registration, title=title, sha256=digest)
    document.file.save(f"{digest[:16]}-{title[-60:]}", ContentFile(content), save=False)
    with ledger_action("registration.document"):
        document.save()
    return document


def _decidable(clerk, registration: Registration) -> None:
    _require_clerk(clerk, registration.office)
    if registration.state != RegistrationState.PREPARED:
        raise RegistrationRefused(_("This registration was already %(state)s.")
                                  % {"state": registration.get_state_display()})
    if registration.prepared_by_id == clerk.pk:
        raise RegistrationRefused(_("You prepared this registration; a second clerk of the office must "
                                    "decide it."))


@transaction.atomic
def registration_reject(*, clerk, registration: Registration, note: str = "") -> Registration:
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    _decidable(clerk, registration)
    with _acting(clerk, "registration.reject"):
        registration.state = RegistrationState.REJECTED
        registration.decided_by = clerk
        registration.decided_at = timezone.now()
        registration.decision_note = note.strip()
        registration.save()
    return registration


@transaction.atomic
def registration_approve(*, clerk, registration: Registration, note: str = "") -> Registration:
    """The second clerk's approval: checks the rules against the register as it is now, then applies."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    _decidable(clerk, registration)
    missing = selectors.owners_to_consent(registration) - set(
        registration.consents.values_list("party_id", flat=True))
    if missing:
        raise RegistrationRefused(_("%(count)s owner(s) have not yet consented to this registration.")
                                  % {"count": len(missing)})
    parcels = list(registration.parcels.all())
    plan = registration_check(office=registration.office, kind=registration.kind, parcels=parcels,
                              payload=registration.payload)
    with _acting(clerk, "registration.approve"):
        registration.state = RegistrationState.APPROVED
        registration.decided_by = clerk
        registration.decided_at = timezone.now()
        registration.decision_note = note.strip()
        registration.save()
        affected = _apply(registration, parcels, plan)
    _notify_followers(registration, affected)
    return registration


def _new_right(registration, parcel, holder, kind, share=Fraction(1), **extra) -> Right:
    return Right(registration=registration, parcel=parcel, holder=holder, kind=kind,
                 share_numerator=share.numerator, share_denominator=share.denominator,
                 legal_date=registration.legal_date, **extra)


def _end(rights, registration) -> None:
    now = timezone.now()
    for right in rights:
        right.active = False
        right.ended_on = registration.legal_date
        right.ended_at = now
        right.ended_by = registration
        right.save()


def _create_parcels(registration, office, specs, parents) -> list[Parcel]:
    created = []
    for spec in specs:
        parcel = Parcel.objects.create(office=office, parent_numbers=" ".join(p.number for p in parents),
                                       **spec)
        if parents:
            parcel.parents.add(*parents)
        created.append(parcel)
    registration.parcels.add(*created)
    return created


def _carry_over(registration, old: Parcel, new: Parcel) -> list[Right]:
    """Rights follow the land: each active right of the old parcel continues on the new one."""
    return [_new_right(registration, new, r.holder, r.kind, r.share, amount=r.amount)
            for r in selectors.active_rights(old)]


def _retire(parcels: list[Parcel], registration: Registration) -> None:
    for old in parcels:
        _end(selectors.active_rights(old), registration)
        old.status = ParcelStatus.RETIRED
        old.save()


def _apply(registration: Registration, parcels: list[Parcel], plan: Plan) -> list[Parcel]:
    """Changes the register as the approved registration says; returns the parcels concerned."""
    kind, office = registration.kind, registration.office
    new_rights = []
    if kind == K.FIRST:
        [parcel] = _create_parcels(registration, office, plan.new_parcels, [])
        new_rights = [_new_right(registration, parcel, party, RightKind.OWNERSHIP, share)
                      for party, share in plan.owners]
        parcels = [parcel]
    elif kind == K.TRANSFER:
        parcel = parcels[0]
        _end(selectors.active_rights(parcel, RightKind.OWNERSHIP), registration)
        new_rights = [_new_right(registration, parcel, party, RightKind.OWNERSHIP, share)
                      for party, share in plan.owners]
    elif kind in (K.MORTGAGE, K.LEASE, K.EASEMENT, K.CAVEAT, K.SEIZURE):
        new_rights = [_new_right(registration, parcels[0], plan.holder, RightKind(kind), amount=plan.amount)]
    elif kind in (K.DISCHARGE, K.SEIZURE_RELEASE):
        _end([plan.right], registration)
    elif kind == K.CORRECTION:
        old = plan.right
        _end([old], registration)
        if not plan.correction.get("cancel"):
            corrected = _new_right(registration, old.parcel, plan.correction.get("holder", old.holder),
                                   old.kind, plan.correction.get("share", old.share), amount=old.amount,
                                   corrects=old)
            corrected.legal_date = plan.correction.get("legal_date", old.legal_date)
            new_rights = [corrected]
    elif kind == K.SPLIT:
        created = _create_parcels(registration, office, plan.new_parcels, parcels)
        new_rights = [right for new in created for right in _carry_over(registration, parcels[0], new)]
        _retire(parcels, registration)
        parcels = parcels + created
    elif kind == K.MERGE:
        [merged] = _create_parcels(registration, office, plan.new_parcels, parcels)
        # The owners are the same on every parcel (checked); the other rights of each continue.
        new_rights = _carry_over(registration, parcels[0], merged) + [
            right for old in parcels[1:] for right in _carry_over(registration, old, merged)
            if right.kind != RightKind.OWNERSHIP]
        _retire(parcels, registration)
        parcels = parcels + [merged]
    for right in new_rights:
        right.save()
    return parcels


# --- citizens -------------------------------------------------------------------------------

@transaction.atomic
def consent_give(*, user, registration: Registration) -> list[Consent]:
    """The account holder consents, for each of their parties that owns the parcel, to a prepared one."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.state != RegistrationState.PREPARED or not registration.consent_required:
        raise RegistrationRefused(_("This registration does not wait for consent."))
    owners = selectors.owners_to_consent(registration)
    parties = [p for p in selectors.parties_of_user(user) if p.pk in owners]
    if not parties:
        raise RegistrationRefused(_("Only an owner of the parcel can consent to this registration."))
    given = set(registration.consents.values_list("party_id", flat=True))
    consents = []
    with _acting(user, "registration.consent"):
        for party in parties:
            if party.pk not in given:
                consents.append(Consent.objects.create(registration=registration, party=party))
    return consents


# --- followers ------------------------------------------------------------------------------

@transaction.atomic
def parcel_follow(*, user, parcel: Parcel) -> Follow:
    follow, _created = Follow.objects.get_or_create(user=user, parcel=parcel)
    return follow


@transaction.atomic
def parcel_unfollow(*, user, parcel: Parcel) -> None:
    Follow.objects.filter(user=user, parcel=parcel).delete()


@transaction.atomic
def notices_mark_read(*, user) -> int:
    return Notice.objects.filter(user=user, read=False).update(read=True)


def _notify_followers(registration: Registration, parcels: list[Parcel]) -> None:
    """Each follower of a concerned parcel gets a notice, and an email after the commit."""
    follows = Follow.objects.filter(parcel__in=parcels).select_related("user", "parcel")
    notices = Notice.objects.bulk_create(
        Notice(user=f.user, parcel=f.parcel, registration=registration) for f in follows)
    mails = [(n.user.email, n.parcel.number, n.parcel.public_ref) for n in notices if n.user.email]
    kind = registration.get_kind_display()
    if mails:
        transaction.on_commit(lambda: _send_mails(mails, kind))


def _send_mails(mails, kind) -> None:
    for address, number, ref in mails:
        send_mail(
            subject=_("Parcel %(number)s: new registration") % {"number": number},
            message=_("A %(kind)s was registered on parcel %(number)s. See /land/parcels/%(ref)s/")
            % {"kind": kind, "number": number, "ref": ref},
            from_email=None, recipient_list=[address], fail_silently=True,
        )
