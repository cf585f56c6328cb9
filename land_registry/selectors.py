"""Reads of the register: what a clerk, a citizen and the public may see."""
from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet
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
    """Parcels by number (or its start) or part of the location; without their office (the search page
    does not show it: the API reads it with select_related)."""
    query = (query or "").strip()
    parcels = Parcel.objects.all()
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


# A direction of the family tree in the parents table: (the column of a parcel, the column of its relative).
FAMILY_LINKS = {"parents": ("from_parcel_id", "to_parcel_id"), "children": ("to_parcel_id", "from_parcel_id")}


def lineage(parcel: Parcel) -> dict:
    """The parcel's family tree: ancestors and descendants as nested {parcel, parents|children}, read
    one generation of both per query, then the relatives' parcels in one more query (if it has any)."""
    through = Parcel.parents.through
    links = {direction: {} for direction in FAMILY_LINKS}
    generation = {direction: {parcel.pk} for direction in FAMILY_LINKS}
    seen = {direction: {parcel.pk} for direction in FAMILY_LINKS}
    while any(generation.values()):
        wanted = Q()
        for direction, (mine, _theirs) in FAMILY_LINKS.items():
            if generation[direction]:
                wanted |= Q(**{f"{mine}__in": generation[direction]})
        rows = list(through.objects.filter(wanted).values("from_parcel_id", "to_parcel_id"))
        for direction, (mine, theirs) in FAMILY_LINKS.items():
            found = [(row[mine], row[theirs]) for row in rows if row[mine] in generation[direction]]
            for pk, other in found:
                links[direction].setdefault(pk, []).append(other)
            generation[direction] = {other for _pk, other in found} - seen[direction]
            seen[direction] |= generation[direction]
    relatives = seen["parents"] | seen["children"]
    relatives.discard(parcel.pk)
    parcels = Parcel.objects.in_bulk(relatives) if relatives else {}

    def tree(direction, pk, path):
        return [{"parcel": parcels[other], direction: tree(direction, other, path | {other})}
                for other in sorted(links[direction].get(pk, []), key=lambda other: parcels[other].number)
                if other not in path]

    return {"ancestors": tree("parents", parcel.pk, {parcel.pk}),
            "descendants": tree("children", parcel.pk, {parcel.pk})}


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


def parcel_rights(parcel: Parcel, *related: str) -> list[Right]:
    """Every right ever registered on the parcel, in the register's order, with its holder (and the
    `related` fields) read in the same query: the holder's kind and name, not their ID number or
    address, which the parcel's pages do not show (and so are not decrypted)."""
    return list(parcel.rights.select_related("holder", *related).defer("holder__id_number", "holder__address"))


def parcel_timeline(parcel: Parcel, rights: list[Right] | None = None) -> list[TimelineEvent]:
    """Approved registrations on the parcel, oldest first, each with the rights it registered and
    ended there, its ledger entry and proof. `rights`: the parcel's rights as parcel_rights() reads
    them, if the caller has them already (by default read here with their registration and the right
    each corrects)."""
    if rights is None:
        rights = parcel_rights(parcel, "registration", "corrects")
    registered, ended = {}, {}
    for right in rights:
        registered.setdefault(right.registration_id, []).append(right)
        if right.ended_by_id is not None:
            ended.setdefault(right.ended_by_id, []).append(right)
    tree_size = ledger_selectors.tree_head().size
    registrations = list(parcel.registrations.filter(state=RegistrationState.APPROVED).order_by("decided_at", "id"))
    approvals = approval_entries(registrations)
    return [TimelineEvent(registration=registration,
                          rights=registered.get(registration.pk, []),
                          ended=ended.get(registration.pk, []),
                          ledger=ledger_link(approvals.get(registration.public_ref), tree_size))
            for registration in registrations]


def parcel_history(parcel: Parcel) -> QuerySet[Right]:
    """Every right ever registered on the parcel, ended and corrected ones included."""
    return parcel.rights.select_related("holder", "registration", "ended_by", "corrects").order_by(
        "registered_at", "id")


def notices_for(user) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).select_related("parcel", "registration")


# The kinds that wait for every current owner's consent, given from the owner's own login.
CONSENT_KINDS = (RegistrationKind.TRANSFER, RegistrationKind.MORTGAGE)
