"""Writes to the register. Every rule of the registry is enforced here, not in forms or views.

A registration is prepared by one clerk and approved or rejected by a second clerk of the same
office; only approval changes the register. Each step is ledgered with the clerk as actor.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

from django.core.cache import cache
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
    PartyChange,
    PartyKind,
    Registration,
    RegistrationKind,
    RegistrationState,
    Right,
    RightKind,
    SourceDocument,
    blind_index,
)
from ledger.actor import acting_as, actor_for_user, ledger_action
from portal import idnumber

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


NAME_MAX, ADDRESS_MAX, REASON_MAX, TITLE_MAX = 100, 300, 2000, 200


def _text(value, label, max_length: int, *, required=False) -> str:
    """A single-line text value within its column, with no NUL byte (PostgreSQL refuses those)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RegistrationRefused(_("%(field)s must be text.") % {"field": label})
    value = value.strip()
    if "\x00" in value:
        raise RegistrationRefused(_("%(field)s contains a NUL character.") % {"field": label})
    if len(value) > max_length:
        raise RegistrationRefused(_("%(field)s is %(length)s characters long; at most %(max)s are allowed.")
                                  % {"field": label, "length": len(value), "max": max_length})
    if required and not value:
        raise RegistrationRefused(_("%(field)s is required.") % {"field": label})
    return value


def party_details(*, office: Office, kind: str, name, id_number="", address="", party: Party | None = None) -> dict:
    """Checks a party's details as a clerk typed them; returns them cleaned. A person's national ID number
    must pass the GB 11643 check, and one office records one party per ID number."""
    if kind not in PartyKind.values:
        raise RegistrationRefused(_("Unknown kind of party “%(kind)s”.") % {"kind": kind})
    details = {"name": _text(name, _("The name"), NAME_MAX, required=True),
               "id_number": idnumber.normalize(_text(id_number, _("The ID number"), 40)),
               "address": _text(address, _("The address"), ADDRESS_MAX)}
    number = details["id_number"]
    if number and kind == PartyKind.PERSON:
        problem = idnumber.problem(number)
        if problem:
            raise RegistrationRefused(problem)
    if number:
        same = Party.objects.filter(office=office, id_index=blind_index(number))
        if party is not None:
            same = same.exclude(pk=party.pk)
        if same.exists():
            raise RegistrationRefused(_("Office %(office)s already records a party with this ID number "
                                        "(%(ref)s); name that party instead.")
                                      % {"office": office.code, "ref": same.first().public_ref})
    return details


@transaction.atomic
def party_create(*, office: Office, kind: str, name: str, id_number: str = "", address: str = "",
                 clerk=None) -> Party:
    """Records a party. It holds nothing until a registration names it, so one clerk may do it; its
    portal account is linked only by the citizen's own claim (party_claim)."""
    if clerk is not None:
        _require_clerk(clerk, office)
    details = party_details(office=office, kind=kind, name=name, id_number=id_number, address=address)
    with (_acting(clerk, "party.create") if clerk is not None else ledger_action("party.create")):
        return Party.objects.create(office=office, kind=kind, **details)


CLAIM_ATTEMPTS, CLAIM_WINDOW = 5, 24 * 3600


class ClaimThrottled(RegistrationRefused):
    """Too many claims from one account."""


def _count_claim(user) -> None:
    key = f"land-claim:{user.pk}"
    cache.add(key, 0, CLAIM_WINDOW)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, CLAIM_WINDOW)
        attempts = 1
    if attempts > CLAIM_ATTEMPTS:
        raise ClaimThrottled(_("Too many claims from your account today; try again tomorrow or ask at a "
                               "registry office."))


@transaction.atomic
def party_claim(*, user, id_number: str, name: str) -> int:
    """A citizen links to their own account the parties recorded under their ID number and name.

    Returns how many were linked; callers must not tell the citizen (the answer would reveal whether
    other people's ID numbers are on the register). Parties already linked to an account stay as they are.
    """
    if not user.is_authenticated or user.is_staff or getattr(user, "role", "") != "citizen":
        raise RegistrationRefused(_("Only a citizen's own account can claim parties."))
    _count_claim(user)
    number = idnumber.normalize(id_number)
    if idnumber.problem(number):
        return 0
    index = blind_index(number)
    own = set(Party.objects.filter(user=user).exclude(id_index="").values_list("id_index", flat=True))
    if own - {index}:
        return 0  # one account stands for one person
    name = " ".join(str(name or "").split())
    matches = [party for party in Party.objects.select_for_update().filter(id_index=index, user__isnull=True)
               if " ".join(party.name.split()) == name]
    with _acting(user, "party.claim"):
        for party in matches:
            party.user = user
            party.save()
    return len(matches)


# --- checking a registration ---------------------------------------------------------------

MAX_AREA = 2_147_483_647  # m², the column's limit (2,147 km²)
MAX_AMOUNT = 10**14  # yuan
MAX_SHARE_TERM = 2_147_483_647  # numerator and denominator columns
MAX_ITEMS = 50  # owners, parts, merged parcels
MAX_DEPTH = 5
EARLIEST = dt.date(1900, 1, 1)
PARCEL_NUMBER = re.compile(r"^[\w./-]{1,40}$")

# The keys each kind's details may hold; anything else is a mistake the clerk should see.
PAYLOAD_KEYS = {
    K.FIRST: {"parcel", "owners"}, K.TRANSFER: {"owners"}, K.MORTGAGE: {"holder", "amount"},
    K.LEASE: {"holder"}, K.EASEMENT: {"holder"}, K.CAVEAT: {"holder"}, K.SEIZURE: {"holder"},
    K.DISCHARGE: {"right"}, K.SEIZURE_RELEASE: {"right"},
    K.CORRECTION: {"right", "share", "holder", "legal_date", "cancel"},
    K.SPLIT: {"parts"}, K.MERGE: {"parcel"},
    K.PARTY_CORRECTION: {"party", "name", "id_number", "address", "unlink_account"},
}
PARTY_FIELDS = ("name", "id_number", "address")


@dataclass
class Plan:
    """What an approval will do, resolved from the payload."""

    owners: list[tuple[Party, Fraction]] = field(default_factory=list)
    holder: Party | None = None
    amount: int | None = None
    right: Right | None = None
    new_parcels: list[dict] = field(default_factory=list)
    correction: dict = field(default_factory=dict)
    party: Party | None = None
    party_change: dict = field(default_factory=dict)


def _check_json(value, depth=0) -> None:
    """The details' shape before their meaning: no deep nesting, no NUL, no number past 64 bits."""
    if depth > MAX_DEPTH:
        raise RegistrationRefused(_("The details are nested too deeply."))
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth + 1)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise RegistrationRefused(_("A list in the details has %(count)s items; at most %(max)s are "
                                        "allowed.") % {"count": len(value), "max": MAX_ITEMS})
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, str):
        if "\x00" in value:
            raise RegistrationRefused(_("The details contain a NUL character."))
        if len(value) > 1000:
            raise RegistrationRefused(_("A text in the details is longer than 1000 characters."))
    elif isinstance(value, float) or (isinstance(value, int) and not -(2**63) <= value < 2**63):
        raise RegistrationRefused(_("The number %(value)s in the details is not a whole number within "
                                    "64 bits.") % {"value": str(value)[:30]})


def _keys(data: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise RegistrationRefused(_("Unknown key(s) %(keys)s in %(where)s; allowed: %(allowed)s.")
                                  % {"keys": ", ".join(unknown), "where": where,
                                     "allowed": ", ".join(sorted(allowed))})


def _whole(value, label, maximum) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= maximum:
        raise RegistrationRefused(_("%(field)s must be a whole number above 0 and at most %(max)s.")
                                  % {"field": label, "max": maximum})
    return value


def _party(office: Office, ref) -> Party:
    """A party the office's clerks may name: recorded there, or holding a right there.
    Another office's party gets the same answer as no party at all."""
    party = selectors.parties_of_office(office).filter(public_ref=str(ref or "")[:64]).first()
    if party is None:
        raise RegistrationRefused(
            _("No party with reference “%(ref)s” in the register of office %(office)s; record the party "
              "first.") % {"ref": str(ref)[:64], "office": office.code})
    return party


def _share(text) -> Fraction:
    if text is None:
        text = "1"
    if not isinstance(text, str | int) or isinstance(text, bool) or len(str(text)) > 40:
        raise RegistrationRefused(_("Share “%(share)s” is not a fraction like 1/2.") % {"share": str(text)[:40]})
    try:
        share = Fraction(str(text))
    except (ValueError, ZeroDivisionError) as exc:
        raise RegistrationRefused(
            _("Share “%(share)s” is not a fraction like 1/2.") % {"share": text}) from exc
    if not 0 < share <= 1:
        raise RegistrationRefused(_("Share %(share)s must be more than 0 and at most 1.") % {"share": text})
    if share.denominator > MAX_SHARE_TERM:
        raise RegistrationRefused(_("Share %(share)s is too fine; write it with a denominator of at most "
                                    "%(max)s.") % {"share": text, "max": MAX_SHARE_TERM})
    return share


def _owners(office: Office, payload: dict) -> list[tuple[Party, Fraction]]:
    items = payload.get("owners") or []
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise RegistrationRefused(_("Name the owners: “owners”: [{“party”: reference, “share”: “1/2”}]."))
    for item in items:
        _keys(item, {"party", "share"}, _("an owner"))
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
    _keys(data, {"number", "location", "area_m2", "land_use"}, _("a new parcel"))
    number = _text(data.get("number"), _("The parcel number"), 40, required=True)
    if not PARCEL_NUMBER.match(number):
        raise RegistrationRefused(_("Parcel number “%(number)s” may hold letters, digits, “-”, “.” and “/” "
                                    "only, no spaces.") % {"number": number})
    location = _text(data.get("location"), _("The location"), 300, required=True)
    if Parcel.objects.filter(number=number).exists():
        raise RegistrationRefused(_("Parcel number %(number)s is already registered.") % {"number": number})
    land_use = data.get("land_use") or LandUse.RESIDENTIAL
    if land_use not in LandUse.values:
        raise RegistrationRefused(_("Unknown land use “%(use)s”.") % {"use": str(land_use)[:40]})
    result = {"number": number, "location": location, "land_use": land_use}
    if need_area:
        result["area_m2"] = _whole(data.get("area_m2"), _("The area of parcel %(number)s") % {"number": number},
                                   MAX_AREA)
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
    ref = str(payload.get("right") or "")[:64]
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


def _check_date(legal_date: dt.date | None) -> None:
    if legal_date is not None and not EARLIEST <= legal_date <= timezone.localdate():
        raise RegistrationRefused(_("The legal date %(date)s must be between %(first)s and today.")
                                  % {"date": legal_date, "first": EARLIEST})


def _ends_after(rights, legal_date: dt.date | None) -> None:
    """A right cannot end before it began: the registration's date is not older than what it ends."""
    for right in rights:
        if legal_date is not None and legal_date < right.legal_date:
            raise RegistrationRefused(
                _("The legal date %(date)s is before %(begun)s, when the %(right)s it ends took effect.")
                % {"date": legal_date, "begun": right.legal_date, "right": right.get_kind_display()})


def registration_check(*, office: Office, kind: str, parcels: list[Parcel], payload: dict,
                       legal_date: dt.date | None = None) -> Plan:
    """Checks a registration against the register as it is now; raises RegistrationRefused.

    Everything approval would need is checked here, so that what is accepted when prepared can be applied.
    """
    if kind not in RegistrationKind.values:
        raise RegistrationRefused(_("Unknown kind of registration “%(kind)s”.") % {"kind": str(kind)[:40]})
    if not isinstance(payload, dict):
        raise RegistrationRefused(_("The details must be a JSON object, like {\"holder\": reference}."))
    _check_json(payload)
    _keys(payload, PAYLOAD_KEYS[kind], _("the details of a %(kind)s") % {"kind": RegistrationKind(kind).label})
    _check_date(legal_date)
    if len(parcels) > MAX_ITEMS:
        raise RegistrationRefused(_("At most %(max)s parcels can be named.") % {"max": MAX_ITEMS})
    for parcel in parcels:
        if parcel.office_id != office.pk:
            raise RegistrationRefused(
                _("Parcel %(number)s belongs to another office.") % {"number": parcel.number})
    plan = Plan()
    if kind in (K.FIRST, K.PARTY_CORRECTION) and parcels:
        raise RegistrationRefused(_("A %(kind)s names no existing parcel; do not select parcels.")
                                  % {"kind": RegistrationKind(kind).label})
    if kind == K.FIRST:
        plan.new_parcels = [_new_parcel(payload.get("parcel"))]
        plan.owners = _owners(office, payload)
        return plan
    if kind == K.PARTY_CORRECTION:
        return _check_party_correction(office, payload, plan)
    if kind == K.MERGE:
        return _check_merge(office, parcels, payload, plan, legal_date)
    parcel = _one_parcel(kind, parcels)
    if kind == K.TRANSFER:
        _require_active(parcel, _("transferred"))
        _require_not_seized(parcel)
        owned = selectors.active_rights(parcel, RightKind.OWNERSHIP)
        if not owned.exists():
            raise RegistrationRefused(_("Parcel %(number)s has no registered owner; register it first.")
                                      % {"number": parcel.number})
        _ends_after(owned, legal_date)
        plan.owners = _owners(office, payload)
    elif kind in (K.MORTGAGE, K.LEASE, K.EASEMENT, K.CAVEAT, K.SEIZURE):
        _require_active(parcel, _("encumbered"))
        if kind == K.MORTGAGE:
            _require_not_seized(parcel)
            plan.amount = _whole(payload.get("amount"), _("The secured amount of a mortgage (yuan)"), MAX_AMOUNT)
        plan.holder = _party(office, payload.get("holder"))
    elif kind == K.DISCHARGE:
        plan.right = _active_right(parcel, payload, RightKind.MORTGAGE, _(
            "There is no active mortgage “%(ref)s” on parcel %(number)s, so there is nothing to discharge."))
        _ends_after([plan.right], legal_date)
    elif kind == K.SEIZURE_RELEASE:
        plan.right = _active_right(parcel, payload, RightKind.SEIZURE, _(
            "There is no active seizure “%(ref)s” on parcel %(number)s, so there is nothing to release."))
        _ends_after([plan.right], legal_date)
    elif kind == K.CORRECTION:
        plan.right = _active_right(parcel, payload, None, _(
            "There is no active right “%(ref)s” on parcel %(number)s to correct."))
        plan.correction = _check_correction(office, parcel, plan.right, payload, legal_date)
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


def _check_merge(office, parcels, payload, plan, legal_date) -> Plan:
    if len(parcels) < 2:
        raise RegistrationRefused(_("A merge needs at least two parcels."))
    for parcel in parcels:
        _require_active(parcel, _("merged"))
        _require_not_seized(parcel)
        _ends_after(selectors.active_rights(parcel), legal_date)
    if len({frozenset(_ownership(parcel)) for parcel in parcels}) != 1:
        raise RegistrationRefused(_("Only parcels with the same owners in the same shares can be merged; "
                                    "register a transfer first."))
    if len(" ".join(parcel.number for parcel in parcels)) > 400:
        raise RegistrationRefused(_("Too many parcels to merge at once; merge them in steps."))
    new = _new_parcel(payload.get("parcel"), need_area=False)
    new["area_m2"] = sum(parcel.area_m2 for parcel in parcels)
    if new["area_m2"] > MAX_AREA:
        raise RegistrationRefused(_("The merged parcel would have %(area)s m², more than the %(max)s m² a "
                                    "parcel can have.") % {"area": new["area_m2"], "max": MAX_AREA})
    plan.new_parcels = [new]
    return plan


def _check_correction(office, parcel, right, payload, legal_date) -> dict:
    changes = {}
    if payload.get("cancel"):
        return {"cancel": True}
    if "share" in payload:
        changes["share"] = _share(payload["share"])
    if "holder" in payload:
        changes["holder"] = _party(office, payload["holder"])
    if "legal_date" in payload:
        try:
            changes["legal_date"] = dt.date.fromisoformat(str(payload["legal_date"])[:10])
        except ValueError as exc:
            raise RegistrationRefused(_("The corrected date must be written YYYY-MM-DD.")) from exc
        latest = legal_date or timezone.localdate()
        if not EARLIEST <= changes["legal_date"] <= latest:
            raise RegistrationRefused(_("The corrected date %(date)s must be between %(first)s and the "
                                        "registration's legal date %(latest)s.")
                                      % {"date": changes["legal_date"], "first": EARLIEST, "latest": latest})
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


def _check_party_correction(office, payload, plan) -> Plan:
    """Only the office that recorded the party corrects it; the new details pass the same checks as new ones."""
    party = _party(office, payload.get("party"))
    if party.office_id != office.pk:
        raise RegistrationRefused(_("Party %(ref)s was recorded by another office; that office corrects it.")
                                  % {"ref": party.public_ref})
    given = {name: payload[name] for name in PARTY_FIELDS if name in payload}
    unlink = payload.get("unlink_account", False)
    if not isinstance(unlink, bool):
        raise RegistrationRefused(_("“unlink_account” must be true or false."))
    if not given and not unlink:
        raise RegistrationRefused(_("Say what to correct: “name”, “id_number”, “address” or “unlink_account”."))
    details = party_details(office=office, kind=party.kind, name=given.get("name", party.name),
                            id_number=given.get("id_number", party.id_number),
                            address=given.get("address", party.address), party=party)
    plan.party = party
    plan.party_change = {name: details[name] for name in given}
    if unlink and party.user_id is None:
        raise RegistrationRefused(_("Party %(ref)s is not linked to a portal account.") % {"ref": party.public_ref})
    # A new ID number undoes the citizen's claim, which was proven with the old one.
    plan.party_change["unlink_account"] = unlink or ("id_number" in given and party.user_id is not None
                                                     and details["id_number"] != party.id_number)
    return plan


# --- the workflow ----------------------------------------------------------------------------

def _require_clerk(clerk, office: Office) -> None:
    if not selectors.clerk_may_work_in(clerk, office):
        raise RegistrationRefused(_("You are not a clerk of office %(office)s.") % {"office": office.code})


MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def _documents(documents) -> list[tuple[str, bytes]]:
    checked = []
    for title, content in documents:
        title = _text(title, _("The document title"), TITLE_MAX, required=True)
        if len(content) > MAX_DOCUMENT_BYTES:
            raise RegistrationRefused(_("Document “%(title)s” is larger than %(max)s MB.")
                                      % {"title": title, "max": MAX_DOCUMENT_BYTES // 2**20})
        checked.append((title, content))
    return checked


@transaction.atomic
def registration_prepare(*, clerk, office: Office, kind: str, parcels: list[Parcel], payload: dict,
                         reason: str, legal_date: dt.date | None = None,
                         documents: list[tuple[str, bytes]] = ()) -> Registration:
    """A clerk prepares a registration; nothing in the register changes until a second clerk approves.

    Whether the owners must consent follows from the kind (selectors.CONSENT_KINDS), not from the clerk.
    """
    _require_clerk(clerk, office)
    reason = _text(reason, _("The reason"), REASON_MAX, required=True)
    legal_date = legal_date or timezone.localdate()
    plan = registration_check(office=office, kind=kind, parcels=parcels, payload=payload, legal_date=legal_date)
    documents = _documents(documents)
    numbers = " ".join([p.number for p in parcels] + [p["number"] for p in plan.new_parcels])
    if len(numbers) > 400:
        raise RegistrationRefused(_("The registration names too many parcels; register it in parts."))
    if kind == K.PARTY_CORRECTION:
        # The new details go encrypted into a PartyChange; the details in clear keep only what changes.
        payload = {"party": plan.party.public_ref, "changes": sorted(
            name for name, value in plan.party_change.items() if name in PARTY_FIELDS or value)}
    with _acting(clerk, "registration.prepare"):
        registration = Registration.objects.create(
            office=office, kind=kind, payload=payload, reason=reason, legal_date=legal_date,
            parcel_numbers=numbers, consent_required=_needs_consent(kind, plan), prepared_by=clerk,
        )
        if parcels:
            registration.parcels.add(*parcels)
        if kind == K.PARTY_CORRECTION:
            PartyChange.objects.create(registration=registration, party=plan.party,
                                       **{name: plan.party_change.get(name, "") for name in PARTY_FIELDS},
                                       unlink_account=plan.party_change["unlink_account"])
        for title, content in documents:
            document_attach(registration=registration, title=title, content=content)
    return registration


def _needs_consent(kind: str, plan: Plan) -> bool:
    """Transfers and mortgages; and a correction that would move ownership (holder, share, cancel), which
    would otherwise be a transfer without the owners."""
    if kind in selectors.CONSENT_KINDS:
        return True
    return kind == K.CORRECTION and plan.right.kind == RightKind.OWNERSHIP and bool(
        {"holder", "share", "cancel"} & set(plan.correction))


def _details_to_check(registration: Registration) -> dict:
    """The details as the clerk gave them: a party correction's new values come back from their encrypted row."""
    if registration.kind != K.PARTY_CORRECTION:
        return registration.payload
    change = registration.party_change
    details = {"party": change.party.public_ref, "unlink_account": change.unlink_account}
    details.update({name: getattr(change, name) for name in registration.payload.get("changes", [])
                    if name in PARTY_FIELDS})
    return details


@transaction.atomic
def document_attach(*, registration: Registration, title: str, content: bytes) -> SourceDocument:
    """Stores the document encrypted under MEDIA_ROOT; its SHA-256 goes into the ledger."""
    if registration.state != RegistrationState.PREPARED:
        raise RegistrationRefused(_("Documents can only be added while the registration is prepared."))
    [(title, content)] = _documents([(title, content)])
    document = SourceDocument(registration=registration, title=title, sha256=hashlib.sha256(content).hexdigest())
    document.file.save("document", ContentFile(content), save=False)
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
    if registration.consents.filter(refused=True).exists():
        raise RegistrationRefused(_("An owner refused this registration; it cannot be approved. Reject it."))
    missing = selectors.owners_to_consent(registration) - set(
        registration.consents.values_list("party_id", flat=True))
    if missing:
        raise RegistrationRefused(_("%(count)s owner(s) have not yet consented to this registration.")
                                  % {"count": len(missing)})
    parcels = list(registration.parcels.all())
    plan = registration_check(office=registration.office, kind=registration.kind, parcels=parcels,
                              payload=_details_to_check(registration), legal_date=registration.legal_date)
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
    elif kind == K.PARTY_CORRECTION:
        party = plan.party
        for name, value in plan.party_change.items():
            if name in PARTY_FIELDS:
                setattr(party, name, value)
        if plan.party_change.get("unlink_account"):
            party.user = None
        party.save()
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
    return _consent_answer(user, registration, refused=False)


@transaction.atomic
def consent_refuse(*, user, registration: Registration) -> list[Consent]:
    """The account holder refuses, for each of their owning parties: the registration cannot be approved."""
    return _consent_answer(user, registration, refused=True)


def _consent_answer(user, registration: Registration, *, refused: bool) -> list[Consent]:
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.state != RegistrationState.PREPARED or not selectors.needs_consent(registration):
        raise RegistrationRefused(_("This registration does not wait for consent."))
    owners = selectors.owners_to_consent(registration)
    parties = [p for p in selectors.parties_of_user(user) if p.pk in owners]
    if not parties:
        raise RegistrationRefused(_("Only an owner of the parcel can consent to this registration."))
    answered = set(registration.consents.values_list("party_id", flat=True))
    if all(party.pk in answered for party in parties):
        raise RegistrationRefused(_("You have already answered this registration."))
    consents = []
    with _acting(user, "registration.refuse" if refused else "registration.consent"):
        for party in parties:
            if party.pk not in answered:
                consents.append(Consent.objects.create(registration=registration, party=party, refused=refused))
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
