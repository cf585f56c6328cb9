"""The fuzzers' world: licences and parcels, and the users of every role who act on them."""
import io

import pytest
from django.db import transaction
from django.test import Client

from licenses import demo as licences_demo
from portal.models import Role, User
from tests.land_registry.conftest import World

CSRF_TOKEN = "fuzzcsrftokenfuzzcsrftokenfuzz12"  # 32 characters: a browser's cookie secret, also sent as header


@pytest.fixture
def fuzz_world(db, settings, tmp_path):
    """The licences demo (citizens, licence clerks, a department user) and a small land register."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with transaction.atomic():
        licences_demo.load(io.StringIO())
    land = World()
    admin = User.objects.create_superuser("fuzz-admin", password="pw", role=Role.ADMIN)
    return {
        "anonymous": None,
        "citizen": User.objects.get(username="wangfang"),
        "clerk": User.objects.get(username="clerk-transport"),
        "department": User.objects.get(username="dept-housing"),
        "land_clerk": land.maker,
        "land_citizen": land.citizen_a,
        "superuser": admin,
    }


def session_cookies(user) -> dict:
    """The cookies a browser holds after logging in as user (only the CSRF cookie for anonymous)."""
    cookies = {"csrftoken": CSRF_TOKEN}
    if user is not None:
        client = Client()
        client.force_login(user)
        cookies["sessionid"] = client.cookies["sessionid"].value
    return cookies
