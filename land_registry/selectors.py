"""Reads of the register: what a clerk, a citizen and the public may see."""
from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from guardian.shortcuts import get_objects_for_user

from land_registry.models import (
    Notice,
    Office,
    Parcel,
    Party,
    Registration,
    RegistrationKind,
    RegistrationState,
    Right,
    RightKind,
)
from ledger import selectors as ledger_selectors
from ledger.models import Entry

OFFICE_PERMISSION = "land_registry.work_in_office"


def clerk_offices(user) -> QuerySet[Office]:
    """The offices whose register the user may keep (all of them for a superuser)."""
    if not user.is_authenticated or not user.is_active:
        return Office.objects.none()
    return get_objects_for_user(user, OFFICE_PERMISSION, klass=Office, accept_global_perms=False)


def clerk_may_work_in(user, office: Office) -> bool:
    return clerk_offices(user).filter(pk=office.pk).exists()


def parcels_for_clerk(user) -> QuerySet[Parcel]:
    return Parcel.objects.filter(office__in=clerk_offices(user))


def registrations_for_clerk(user) -> QuerySet[Registration]:
    return Registration.objects.filter(office__in=clerk_offices(user))


def parties_for_clerk(user) -> QuerySet[Party]:
    """Parties recorded by the clerk's offices or holding (or having held) a right there; no one else's."""
    offices = clerk_offices(user)
    return Party.objects.filter(Q(office__in=offices) | Q(rights__parcel__office__in=offices)).distinct()


def parties_of_office(office: Office) -> QuerySet[Party]:
    """The parties a registration of the office may name."""
    return Party.objects.filter(Q(office=office) | Q(rights__parcel__office=office)).distinct()


def active_rights(parcel: Parcel, kind: str | None = None) -> QuerySet[Right]:
    rights = parcel.rights.filter(active=True).select_related("holder")
    return rights.filter(kind=kind) if kind else rights


def active_seizure(parcel: Parcel) -> Right | None:
    return active_rights(parcel, RightKind.SEIZURE).first()


def parcel_search(query: str, *, limit: int = 50) -> QuerySet[Parcel]:
    query = (query or "").strip()
    parcels = Parcel.objects.select_related("office")
    if not query:
        return parcels.none()
    return parcels.filter(Q(number__iexact=query) | Q(number__istartswith=query)
                          | Q(location__icontains=query))[:limit]


def parties_of_user(user) -> QuerySet[Party]:
    if not user.is_authenticated:
        return Party.objects.none()
    return Party.objects.filter(user=user)


def parcels_of_citizen(user) -> QuerySet[Parcel]:
    """Parcels where the user holds, or held, a right."""
    return Parcel.objects.filter(rights__holder__in=parties_of_user(user)).distinct().select_related("office")


def consents_awaited(user) -> list[tuple[Registration, Party]]:
    """Prepared registrations on the user's parcels that wait for this user's consent."""
    waiting = []
    parties = list(parties_of_user(user))
    if not parties:
        return waiting
    registrations = Registration.objects.filter(
        Q(consent_required=True) | Q(kind__in=CONSENT_KINDS), state=RegistrationState.PREPARED,
        parcels__rights__holder__in=parties, parcels__rights__active=True,
        parcels__rights__kind=RightKind.OWNERSHIP,
    ).distinct().prefetch_related("parcels", "consents")
    for registration in registrations:
        owners = owners_to_consent(registration)
        given = {consent.party_id for consent in registration.consents.all()}
        for party in parties:
            if party.pk in owners and party.pk not in given:
                waiting.append((registration, party))
    return waiting


@dataclass
class ConsentSummary:
    """What an owner is asked to consent to, as the consent page shows it."""

    registration: Registration
    parcels: list[Parcel]
    own_rights: list[Right]  # the owner's current ownership rights on the parcels
    new_owners: list[tuple[Party | None, str]]  # a transfer's new owners and their shares
    holder: Party | None  # a mortgage's holder (the lender)
    amount: int | None
    documents: list


def consent_awaited_of(user, ref: str) -> Registration | None:
    """The prepared registration `ref` if it waits for this user's answer."""
    return next((registration for registration, _party in consents_awaited(user)
                 if registration.public_ref == ref), None)


def consent_summary(user, registration: Registration) -> ConsentSummary:
    payload = registration.payload if isinstance(registration.payload, dict) else {}
    parcels = list(registration.parcels.all())
    own = parties_of_user(user)
    rights = list(Right.objects.filter(parcel__in=parcels, holder__in=own, active=True,
                                       kind=RightKind.OWNERSHIP).select_related("parcel", "holder"))
    owners = [item for item in payload.get("owners") or [] if isinstance(item, dict)]
    named = {party.public_ref: party for party in Party.objects.filter(
        public_ref__in=[str(item.get("party")) for item in owners] + [str(payload.get("holder"))])}
    amount = payload.get("amount")
    return ConsentSummary(
        registration=registration, parcels=parcels, own_rights=rights,
        new_owners=[(named.get(str(item.get("party"))), str(item.get("share") or "1")) for item in owners],
        holder=named.get(str(payload.get("holder"))),
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        documents=list(registration.documents.all()),
    )


def account_linked_at(party: Party):
    """When the party's account was last linked by a claim (from the ledger), or None: a checker wary of a
    claim made just before a consent can see it."""
    for entry in ledger_selectors.entries_for_ref(party.public_ref).order_by("-id"):
        data = json.loads(bytes(entry.data))
        if data.get("action") == "party.claim" and "user" in data.get("changed", []):
            return entry.created
    return None


def needs_consent(registration: Registration) -> bool:
    """By the kind; the stored flag also covers registrations prepared when a clerk could still choose."""
    return registration.consent_required or registration.kind in CONSENT_KINDS


def owners_to_consent(registration: Registration) -> set[int]:
    """The parties (ids) whose consent the registration needs: the current owners of its parcels."""
    if not needs_consent(registration):
        return set()
    return set(Right.objects.filter(parcel__in=registration.parcels.all(), active=True,
                                    kind=RightKind.OWNERSHIP).values_list("holder_id", flat=True))


def _family(parcel: Parcel, direction: str) -> list[dict]:
    """The parcel's ancestors (`parents`) or descendants (`children`) as nested {parcel, direction},
    read one generation per query."""
    through = Parcel.parents.through
    mine, theirs = ("from_parcel_id", "to_parcel_id") if direction == "parents" else ("to_parcel_id",
                                                                                       "from_parcel_id")
    links, seen, generation = {}, {parcel.pk}, [parcel.pk]
    while generation:
        rows = list(through.objects.filter(**{f"{mine}__in": generation}).values_list(mine, theirs))
        for pk, other in rows:
            links.setdefault(pk, []).append(other)
        generation = list({other for _pk, other in rows} - seen)
        seen.update(generation)
    parcels = Parcel.objects.in_bulk(seen)

    def tree(pk, path):
        return [{"parcel": parcels[other], direction: tree(other, path | {other})}
                for other in sorted(links.get(pk, []), key=lambda other: parcels[other].number) if other not in path]

    return tree(parcel.pk, {parcel.pk})


def lineage(parcel: Parcel) -> dict:
    """The parcel's family tree: ancestors and descendants as nested {parcel, parents|children}."""
    return {"ancestors": _family(parcel, "parents"), "descendants": _family(parcel, "children")}


@dataclass(frozen=True)
class LedgerLink:
    index: int | None
    entry_url: str
    proof_url: str
    page_url: str = ""  # the entry's public page, which verifies it in the visitor's browser


def ledger_link(entry: Entry | None, tree_size: int) -> LedgerLink | None:
    if entry is None:
        return None
    if entry.leaf_index is None or entry.leaf_index >= tree_size:
        return LedgerLink(None, "", "")
    index = entry.leaf_index
    return LedgerLink(index, f"/api/ledger/entries/{index}",
                      f"/api/ledger/proofs/inclusion?index={index}&size={tree_size}",
                      reverse("transparency:entry", args=[index]))


def approval_entries(registrations) -> dict[str, Entry]:
    """The ledger entry that recorded each registration's approval, by public ref, in one query."""
    found = {}
    refs = {registration.public_ref for registration in registrations}
    for entry in Entry.objects.filter(ref__in=refs).select_related("leaf").order_by("id"):
        if entry.ref not in found and json.loads(bytes(entry.data)).get("public", {}).get(
                "state") == RegistrationState.APPROVED:
            found[entry.ref] = entry
    return found


def newest_entry(obj) -> Entry | None:
    return ledger_selectors.entries_for_ref(obj.public_ref).order_by("-id").first()


@dataclass(frozen=True)
class TimelineEvent:
    registration: Registration
    rights: list
    ended: list
    ledger: LedgerLink | None


def parcel_timeline(parcel: Parcel) -> list[TimelineEvent]:
    """Approved registrations on the parcel, oldest first, each with its ledger entry and proof."""
    tree_size = ledger_selectors.tree_head().size
    events = []
    with_holder = Right.objects.filter(parcel=parcel).select_related("holder", "registration", "corrects")
    registrations = list(parcel.registrations.filter(state=RegistrationState.APPROVED)
                         .order_by("decided_at", "id").prefetch_related(Prefetch("rights", with_holder),
                                                                        Prefetch("ended_rights", with_holder)))
    approvals = approval_entries(registrations)
    for registration in registrations:
        events.append(TimelineEvent(
            registration=registration,
            rights=list(registration.rights.all()),
            ended=list(registration.ended_rights.all()),
            ledger=ledger_link(approvals.get(registration.public_ref), tree_size),
        ))
    return events


def parcel_history(parcel: Parcel) -> QuerySet[Right]:
    """Every right ever registered on the parcel, ended and corrected ones included."""
    return parcel.rights.select_related("holder", "registration", "ended_by", "corrects").order_by(
        "registered_at", "id")


def notices_for(user) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).select_related("parcel", "registration")


# The kinds that wait for every current owner's consent, given from the owner's own login.
CONSENT_KINDS = (RegistrationKind.TRANSFER, RegistrationKind.MORTGAGE)
