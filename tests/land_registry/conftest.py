"""Fixtures of the land registry: two offices with two clerks each, parties and registered parcels."""
import datetime as dt

import pytest
from django.utils import translation

from land_registry import selectors, services
from land_registry.models import Office, Party, PartyKind
from portal.models import Role, User


class World:
    """Office X (two clerks) and office Y (one clerk), citizens A and B, a parcel registered in each."""

    def __init__(self):
        self.x = Office.objects.create(code="X01", name="东城区不动产登记中心")
        self.y = Office.objects.create(code="Y01", name="西城区不动产登记中心")
        self.maker = self.clerk("maker", self.x)
        self.checker = self.clerk("checker", self.x)
        self.clerk_y = self.clerk("clerky", self.y)
        self.checker_y = self.clerk("checkery", self.y)
        self.citizen_a = User.objects.create_user("citizena", password="pw", role=Role.CITIZEN,
                                                  email="a@example.org")
        self.citizen_b = User.objects.create_user("citizenb", password="pw", role=Role.CITIZEN)
        self.zhang = services.party_create(office=self.x, kind=PartyKind.PERSON, name="张伟",
                                           id_number="110101199003076544", address="北京市东城区和平里1号")
        self.li = services.party_create(office=self.x, kind=PartyKind.PERSON, name="李娜",
                                        id_number="110101198512120027", address="北京市东城区安定门5号")
        self.bank = services.party_create(office=self.x, kind=PartyKind.ORGANISATION, name="中国建设银行东城支行")
        self.court = services.party_create(office=self.x, kind=PartyKind.ORGANISATION, name="东城区人民法院")
        self.wang = services.party_create(office=self.y, kind=PartyKind.PERSON, name="王芳",
                                          id_number="11010219770101003X", address="北京市西城区金融街8号")
        # Each citizen links their own party by claiming it with its ID number and name.
        services.party_claim(user=self.citizen_a, id_number="110101199003076544", name="张伟")
        services.party_claim(user=self.citizen_b, id_number="110101198512120027", name="李娜")
        self.zhang.refresh_from_db()
        self.li.refresh_from_db()
        self.parcel = self.first(self.x, "X01-0001", "东城区和平里北街 3 号", 500, [(self.zhang, "1")])
        self.parcel_y = self.first(self.y, "Y01-0001", "西城区金融街 8 号", 800, [(self.wang, "1")],
                                   maker=self.clerk_y, checker=self.checker_y)

    def clerk(self, username, office):
        user = User.objects.create_user(username, password="pw", role=Role.CLERK, office=office.code,
                                        is_staff=True)
        services.office_grant(office=office, user=user)
        return user

    def first(self, office, number, location, area, owners, maker=None, checker=None):
        registration = services.registration_prepare(
            clerk=maker or self.maker, office=office, kind="first_registration", parcels=[],
            payload={"parcel": {"number": number, "location": location, "area_m2": area,
                                "land_use": "residential"},
                     "owners": [{"party": p.public_ref, "share": s} for p, s in owners]},
            reason="首次登记", legal_date=dt.date(2020, 1, 1))
        services.registration_approve(clerk=checker or self.checker, registration=registration)
        return registration.parcels.get()

    def register(self, kind, parcels, payload, **kwargs):
        """Prepared by the maker, approved by the checker, in office X."""
        registration = services.registration_prepare(
            clerk=self.maker, office=self.x, kind=kind, parcels=parcels, payload=payload,
            reason=kwargs.pop("reason", "依申请登记"), **kwargs)
        self.consent(registration)
        return services.registration_approve(clerk=self.checker, registration=registration)

    @staticmethod
    def consent(registration):
        """Every owner whose consent the kind needs gives it from their own login."""
        owners = Party.objects.filter(pk__in=selectors.owners_to_consent(registration), user__isnull=False)
        for user in {party.user for party in owners}:
            services.consent_give(user=user, registration=registration)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded source documents go to a temporary MEDIA_ROOT, not the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english(client):
    """Messages are asserted in English, the source language; one test checks the Chinese pages."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    return World()




