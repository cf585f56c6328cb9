"""A citizen links their parties to their own account at /land/claim/ with their ID number and name:
the answer never tells whether anyone else's number is on the register, and guessing is rate-limited."""
import json
import re

import pytest
from django.urls import reverse

from land_registry import services
from land_registry.models import Party, PartyKind
from ledger.actor import pseudonym
from ledger.models import Entry
from portal.models import Role, User

pytestmark = pytest.mark.django_db
CLAIM = reverse("land_registry:claim")
NUMBER = "110101200001011232"  # a valid number (GB 11643) of a party no account holds yet


@pytest.fixture
def zhao(world):
    return services.party_create(office=world.x, kind=PartyKind.PERSON, name="赵敏", id_number=NUMBER)


@pytest.fixture
def citizen(client):
    user = User.objects.create_user("citizenc", password="pw", role=Role.CITIZEN)
    client.force_login(user)
    return user


def answer(response) -> str:
    """The page without its per-request CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_citizen_claims_their_party_and_the_answer_is_the_same_for_anyone_elses_number(client, world, zhao,
                                                                                           citizen):
    unknown = client.post(CLAIM, {"id_number": "11010119900301911X", "name": "赵敏"})
    taken = client.post(CLAIM, {"id_number": "110101199003076544", "name": "张伟"})  # citizen A's, linked
    wrong_name = client.post(CLAIM, {"id_number": NUMBER, "name": "赵"})
    assert unknown.status_code == taken.status_code == wrong_name.status_code == 200
    assert answer(unknown) == answer(taken) == answer(wrong_name)
    assert not Party.objects.filter(user=citizen).exists()
    world.zhang.refresh_from_db()
    assert world.zhang.user == world.citizen_a
    claimed = client.post(CLAIM, {"id_number": NUMBER.replace("1232", "1 232"), "name": " 赵敏 "})
    assert answer(claimed) == answer(unknown)
    zhao.refresh_from_db()
    assert zhao.user == citizen
    entry = json.loads(bytes(Entry.objects.filter(ref=zhao.public_ref).order_by("-id").first().data))
    assert entry["action"] == "party.claim" and entry["actor"]["id"] == pseudonym(citizen.pk)
    assert entry["actor"]["role"] == "citizen" and entry["changed"] == ["user"]


def test_one_account_stands_for_one_person(client, world, zhao, citizen):
    client.post(CLAIM, {"id_number": NUMBER, "name": "赵敏"})
    other = services.party_create(office=world.y, kind=PartyKind.PERSON, name="钱七", id_number="11010119900301911X")
    client.post(CLAIM, {"id_number": "11010119900301911X", "name": "钱七"})
    other.refresh_from_db()
    assert other.user is None
    # The same person recorded by another office is linked by the same claim.
    again = services.party_create(office=world.y, kind=PartyKind.PERSON, name="赵敏", id_number=NUMBER)
    client.post(CLAIM, {"id_number": NUMBER, "name": "赵敏"})
    again.refresh_from_db()
    assert again.user == citizen


def test_malformed_claims_are_form_errors_and_guessing_is_rate_limited(client, world, zhao, citizen):
    for data, message in [({"id_number": "110101200001011234", "name": "赵敏"}, "check character"),
                          ({"id_number": "1" * 40 + "X", "name": "赵敏"}, "at most 40"),
                          ({"id_number": NUMBER + "\x00", "name": "赵敏"}, "NUL character"),
                          ({"id_number": NUMBER, "name": ""}, "required")]:
        response = client.post(CLAIM, data)
        assert response.status_code == 400 and message in response.content.decode(), data
    for _ in range(services.CLAIM_ATTEMPTS):
        assert client.post(CLAIM, {"id_number": "11010119900301911X", "name": "赵敏"}).status_code == 200
    refused = client.post(CLAIM, {"id_number": NUMBER, "name": "赵敏"})
    assert refused.status_code == 429 and "Too many claims" in refused.content.decode()
    zhao.refresh_from_db()
    assert zhao.user is None  # not even the right answer gets through once the limit is reached


def test_only_a_citizen_logged_in_claims(client, world, zhao):
    assert client.get(CLAIM).status_code == 302  # to the login
    assert client.post(CLAIM, {"id_number": NUMBER, "name": "赵敏"}).status_code == 302
    department = User.objects.create_user("dept", password="pw", role=Role.DEPARTMENT)
    client.force_login(department)
    assert client.post(CLAIM, {"id_number": NUMBER, "name": "赵敏"}).status_code == 403
    zhao.refresh_from_db()
    assert zhao.user is None


def test_the_claim_page_speaks_chinese_by_default_and_english_on_request(client, citizen):
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE")
    html = client.get(CLAIM).content.decode()
    assert "将我的不动产关联到本账户" in html and "公民身份号码" in html and "认领" in html
    html = client.post(CLAIM, {"id_number": "110101200001011234", "name": "赵敏"}).content.decode()
    assert "校验码" in html
    html = client.post(CLAIM, {"id_number": NUMBER, "name": "赵敏"}).content.decode()
    assert "您的认领已记录" in html
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(CLAIM).content.decode()
    assert "Link my parcels to my account" in html and "National ID number" in html
    assert "将我的不动产" not in html
