"""Factories of the licences tests: departments, types, people of every role, licences."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation
from guardian.shortcuts import assign_perm

from licenses import services
from licenses.models import Department, LicenceType
from portal.models import Role, User

# Personal values the privacy tests look for in every ledger entry.
ALICE_NAME, ALICE_ID, ALICE_ADDRESS = "王丽华", "110101199003076544", "北京市东城区景山前街4号"
BOB_NAME, BOB_ID, BOB_ADDRESS = "李建国", "310104198512120015", "上海市徐汇区漕溪北路88号"
SPOUSE_NAME = "张伟明"


@pytest.fixture(autouse=True)
def english():
    """Tests read English messages; test_pages checks the Chinese default separately."""
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def make_user(username, role=Role.CITIZEN, office="", **extra):
    user = User(username=username, role=role, office=office, is_staff=role == Role.CLERK, **extra)
    user.set_password("pw-" + username)
    user.save()
    return user


@pytest.fixture
def transport():
    return Department.objects.create(code="transport", name="Transport Bureau")


@pytest.fixture
def civil():
    return Department.objects.create(code="civil", name="Civil Affairs Bureau")


@pytest.fixture
def driving(transport):
    return LicenceType.objects.create(code="driving", name="Driving licence", department=transport, fields=[
        {"name": "vehicle_class", "label": "Vehicle class", "personal": False},
        {"name": "birth_date", "label": "Date of birth", "personal": True},
    ])


@pytest.fixture
def marriage(civil):
    return LicenceType.objects.create(code="marriage", name="Marriage certificate", department=civil, fields=[
        {"name": "spouse_name", "label": "Spouse", "personal": True},
        {"name": "registered_on", "label": "Registered on", "personal": False},
    ])


@pytest.fixture
def alice():
    return make_user("alice", first_name="丽华", last_name="王", email="alice@example.cn")


@pytest.fixture
def bob():
    return make_user("bob")


@pytest.fixture
def clerk_transport(transport):
    user = make_user("clerk-t", Role.CLERK, "transport")
    assign_perm("licenses.manage_licences", user, transport)
    return user


@pytest.fixture
def clerk_civil(civil):
    user = make_user("clerk-c", Role.CLERK, "civil")
    assign_perm("licenses.manage_licences", user, civil)
    return user


@pytest.fixture
def bank(civil):
    """A department user of the civil affairs bureau (asks to use licences)."""
    return make_user("dept-civil", Role.DEPARTMENT, "civil")


@pytest.fixture
def bank_transport(transport):
    return make_user("dept-transport", Role.DEPARTMENT, "transport")


def issue_driving(driving, holder, *, number="D-0001", name=ALICE_NAME, national_id=ALICE_ID,
                  address=ALICE_ADDRESS, until=None):
    today = timezone.localdate()
    return services.licence_issue(
        licence_type=driving, holder=holder, number=number, holder_name=name, national_id=national_id,
        address=address, values={"vehicle_class": "C1", "birth_date": "1990-03-07"},
        valid_from=today - dt.timedelta(days=400), valid_until=until or today + dt.timedelta(days=2000),
        reason="application 42",
    )


@pytest.fixture
def alice_driving(driving, alice):
    return issue_driving(driving, alice)


@pytest.fixture
def alice_marriage(marriage, alice):
    today = timezone.localdate()
    return services.licence_issue(
        licence_type=marriage, holder=alice, number="M-77", holder_name=ALICE_NAME, national_id=ALICE_ID,
        address=ALICE_ADDRESS, values={"spouse_name": SPOUSE_NAME, "registered_on": "2015-05-20"},
        valid_from=today - dt.timedelta(days=3000), valid_until=today + dt.timedelta(days=20000),
    )


@pytest.fixture
def bob_driving(driving, bob):
    return issue_driving(driving, bob, number="D-0002", name=BOB_NAME, national_id=BOB_ID, address=BOB_ADDRESS)


def in_days(days):
    return timezone.now() + dt.timedelta(days=days)
