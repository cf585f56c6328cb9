"""Demo register: two offices with two clerks each, 300 parcels with histories, citizens who hold some.

Historical titles are imported in bulk (every bulk path writes its ledger entries); the recent
events go through the services, prepared by one clerk and approved by the other.
"""
from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from land_registry import selectors, services
from land_registry.models import (
    LandUse,
    Office,
    Parcel,
    Party,
    PartyKind,
    Registration,
    RegistrationKind,
    RegistrationState,
    Right,
    RightKind,
    blind_index,
)
from ledger.actor import acting_as, actor_for_user, ledger_action
from portal import idnumber
from portal.demo import DEMO_PASSWORD, ensure_user
from portal.models import Role

OFFICES = [("DC01", "东城区不动产登记中心", "东城区", ["和平里北街", "安定门内大街", "东四十条", "交道口南大街"]),
           ("XC01", "西城区不动产登记中心", "西城区", ["金融街", "西单北大街", "德胜门外大街", "月坛南街"])]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英"]
BANKS = ["中国工商银行北京分行", "中国建设银行北京分行", "北京银行"]
PARCELS_PER_OFFICE = 150


# The demo citizens' own identities: each owns parcels in both districts and claims them with these.
CITIZENS = [("citizen_zhang", "张建国", "11010119750315201"), ("citizen_li", "李秀英", "11010219820908302")]


def load(stdout) -> list[tuple[str, str, str]]:
    logins = [(f"{code.lower()}_clerk{n}", DEMO_PASSWORD, "clerk") for code, *_ in OFFICES for n in (1, 2)]
    logins += [(username, DEMO_PASSWORD, "citizen") for username, _name, _number in CITIZENS]
    if Office.objects.filter(code=OFFICES[0][0]).exists():
        return logins
    rng = random.Random(19152)
    citizens = [ensure_user(username, role=Role.CITIZEN) for username, _name, _number in CITIZENS]
    offices = []
    for code, name, district, streets in OFFICES:
        office = Office.objects.create(code=code, name=name)
        clerks = [ensure_user(f"{code.lower()}_clerk{n}", role=Role.CLERK, office=code) for n in (1, 2)]
        for clerk in clerks:
            services.office_grant(office=office, user=clerk)
        offices.append((office, clerks, _parties(rng, office, district), district, streets))
    for user, (_username, name, number) in zip(citizens, CITIZENS, strict=True):
        # As a citizen would at /land/claim/: their parties in every office are linked to their account.
        services.party_claim(user=user, id_number=idnumber.with_check_character(number), name=name)
    for index, (office, clerks, parties, district, streets) in enumerate(offices):
        _history(rng, office, clerks, parties, district, streets)
        _recent(office, clerks, parties, citizens, pending=index == 0)
        stdout.write(f"  {office.code}: {office.parcels.count()} parcels, "
                     f"{office.registrations.count()} registrations")
    return logins


def _person(rng, office, district, name=None, number=None) -> Party:
    name = name or rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
    number = number or f"1101{rng.randrange(1, 9):02d}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    id_number = idnumber.with_check_character(number)
    return Party(office=office, kind=PartyKind.PERSON, name=name, id_number=id_number, id_index=blind_index(id_number),
                 address=f"北京市{district}{rng.randrange(1, 200)}号")


def _parties(rng, office, district) -> dict:
    people = [_person(rng, office, district, name, number) for _username, name, number in CITIZENS]
    people += [_person(rng, office, district) for _ in range(80)]
    banks = [Party(office=office, kind=PartyKind.ORGANISATION, name=name) for name in BANKS]
    court = Party(office=office, kind=PartyKind.ORGANISATION, name=f"北京市{district}人民法院")
    with ledger_action("party.import"):
        created = Party.objects.bulk_create([*people, *banks, court])
    return {"people": created[:len(people)], "citizens": created[:len(CITIZENS)],
            "banks": created[len(people):-1], "court": created[-1]}


def _history(rng, office, clerks, parties, district, streets) -> None:
    """Historical titles, as imported from the paper register: first registrations, transfers, mortgages."""
    now = timezone.now()
    parcels = [Parcel(office=office, number=f"{office.code}-{n:05d}", location=f"{district}{rng.choice(streets)} "
                      f"{rng.randrange(1, 300)} 号", area_m2=rng.randrange(60, 3000),
                      land_use=rng.choice(LandUse.values)) for n in range(1, PARCELS_PER_OFFICE + 1)]
    with acting_as(actor_for_user(clerks[1])), ledger_action("registration.import"):
        parcels = Parcel.objects.bulk_create(parcels)
        plans = []  # (parcel, kind, legal date, holder, amount)
        owners = {}
        for i, parcel in enumerate(parcels):
            date = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(3650))
            held = i < 2 * len(parties["citizens"])  # each demo citizen owns two parcels
            owner = parties["citizens"][i % 2] if held else rng.choice(parties["people"])
            plans.append((parcel, RegistrationKind.FIRST, date, owner, None))
            if rng.random() < 0.35 and not held:
                date += dt.timedelta(days=rng.randrange(200, 3000))
                plans.append((parcel, RegistrationKind.TRANSFER, date, rng.choice(parties["people"]), None))
            if rng.random() < 0.3:
                date += dt.timedelta(days=rng.randrange(30, 900))
                amount = rng.randrange(20, 500) * 10_000
                plans.append((parcel, RegistrationKind.MORTGAGE, date, rng.choice(parties["banks"]), amount))
        registrations = Registration.objects.bulk_create(
            Registration(office=office, kind=kind, parcel_numbers=parcel.number, reason="历史档案导入",
                         legal_date=date, state=RegistrationState.APPROVED, prepared_by=clerks[0],
                         decided_by=clerks[1], decided_at=now)
            for parcel, kind, date, _holder, _amount in plans)
        rights = []
        for registration, (parcel, kind, date, holder, amount) in zip(registrations, plans, strict=True):
            registration.parcels.add(parcel)
            if kind == RegistrationKind.TRANSFER:
                previous = owners[parcel.pk]
                previous.active, previous.ended_on, previous.ended_at = False, date, now
                previous.ended_by = registration
            right = Right(parcel=parcel, holder=holder, registration=registration, legal_date=date,
                          kind=RightKind.MORTGAGE if kind == RegistrationKind.MORTGAGE else RightKind.OWNERSHIP,
                          amount=amount)
            if right.kind == RightKind.OWNERSHIP:
                owners[parcel.pk] = right
            rights.append(right)
        Right.objects.bulk_create(rights)


def _recent(office, clerks, parties, citizens, *, pending: bool) -> None:
    """Recent events through the maker/checker workflow: a transfer and a mortgage with the owner's
    consent, a seizure, a split, a caveat still prepared (and, if pending, a transfer awaiting consent)."""
    maker, checker = clerks
    parcels = list(office.parcels.order_by("number")[10:20])
    people = parties["people"]
    zhang, li = citizens

    def register(kind, parcel_list, payload, reason, approve=True, consenting=None, **kwargs):
        registration = services.registration_prepare(clerk=maker, office=office, kind=kind, parcels=parcel_list,
                                                     payload=payload, reason=reason, **kwargs)
        if consenting is not None:
            services.consent_give(user=consenting, registration=registration)
        if approve:
            services.registration_approve(clerk=checker, registration=registration)
        return registration

    li_parcels = list(selectors.parcels_of_citizen(li).filter(office=office).order_by("number"))
    register("transfer", [li_parcels[0]], {"owners": [{"party": people[5].public_ref, "share": "1/2"},
                                                      {"party": people[6].public_ref, "share": "1/2"}]},
             "买卖合同", consenting=li,
             documents=[("房屋买卖合同.pdf", b"%PDF-1.4 demo sale contract " + office.code.encode())])
    register("mortgage", [li_parcels[1]], {"holder": parties["banks"][0].public_ref, "amount": 1_200_000},
             "个人住房贷款", consenting=li)
    register("seizure", [parcels[2]], {"holder": parties["court"].public_ref}, "（2025）京0101执123号 查封裁定",
             documents=[("协助执行通知书.pdf", b"%PDF-1.4 demo court order " + office.code.encode())])
    parent = parcels[3]
    half = parent.area_m2 // 2
    register("split", [parent], {"parts": [
        {"number": f"{parent.number}-1", "location": f"{parent.location}（东）", "area_m2": half,
         "land_use": parent.land_use},
        {"number": f"{parent.number}-2", "location": f"{parent.location}（西）", "area_m2": parent.area_m2 - half,
         "land_use": parent.land_use}]}, "分割登记")
    register("caveat", [parcels[4]], {"holder": people[7].public_ref}, "预告登记", approve=False)
    if pending:
        # A transfer of a citizen's parcel that waits for the owner's consent in the portal.
        own = selectors.parcels_of_citizen(zhang).filter(office=office).first()
        register("transfer", [own], {"owners": [{"party": people[8].public_ref}]}, "买卖合同", approve=False)
