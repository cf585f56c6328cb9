"""Issuing a licence in the admin with the typed form: an input per field of the type, the holder
found by search among citizens, every mistake an error on its field in words, never a server error."""
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licenses.blind_index import number_index
from licenses.models import Licence, LicenceType
from tests.licenses.conftest import make_user

pytestmark = pytest.mark.django_db

ADD = reverse("admin:licenses_licence_add")
AUTOCOMPLETE = reverse("admin:autocomplete")
HOLDER_SEARCH = {"app_label": "licenses", "model_name": "licence", "field_name": "holder"}


@pytest.fixture
def typed(transport):
    """A type whose fields are a choice, a date and text."""
    return LicenceType.objects.create(code="typed", name="Typed permit", department=transport, fields=[
        {"name": "grade", "label": "Grade", "personal": False, "kind": "choice", "choices": ["A", "B"]},
        {"name": "granted_on", "label": "Granted on", "personal": False, "kind": "date"},
        {"name": "note", "label": "Note", "personal": True},
    ])


def typed_data(typed, alice, **extra):
    today = timezone.localdate()
    return {"holder": alice.pk, "licence_type": typed.pk, "number": "T-2026-000417", "holder_name": "王丽华",
            "national_id": "110101199003076544", "address": "", f"t{typed.pk}_grade": "A",
            f"t{typed.pk}_granted_on": "2020-02-29", f"t{typed.pk}_note": "无", "valid_from": today.isoformat(),
            "valid_until": today.replace(year=today.year + 1).isoformat(), "reason": "application 1", **extra}


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "errornote" in page
    return page


def test_the_form_has_an_input_per_field_by_kind(client, clerk_transport, typed):
    client.force_login(clerk_transport)
    page = client.get(ADD).content.decode()
    assert f'<select name="t{typed.pk}_grade"' in page and '<option value="B">B</option>' in page
    assert f'type="date" name="t{typed.pk}_granted_on"' in page
    assert f'type="text" name="t{typed.pk}_note"' in page
    assert 'type="text" name="holder_name"' in page and 'type="text" name="national_id"' in page
    assert "Fields of a Typed permit" in page and "admin-extra/licence-issue.js" in page
    assert 'data-autocomplete-light-url' not in page and "admin-autocomplete" in page  # the holder is searched


def test_typed_values_are_issued_through_the_service(client, clerk_transport, typed, alice):
    client.force_login(clerk_transport)
    response = client.post(ADD, typed_data(typed, alice))
    assert response.status_code == 302
    licence = Licence.objects.get(number_index=number_index("T-2026-000417"))
    assert licence.data == {"grade": "A", "granted_on": "2020-02-29"}
    assert licence.personal_values() == {"note": "无"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("valid_until", "2000-01-01", "is before “Valid from”"),
    ("valid_from", "2026-02-30", "Enter a valid date"),
    ("grade", "C", "Select a valid choice"),
    ("granted_on", "2021-02-29", "Enter a valid date"),
    ("grade", "", "Fill in “Grade”"),
    ("note", "", "Fill in “Note”"),
    ("note", "x" * 201, "at most 200 characters"),
    ("national_id", "110101199003076543", "check character of this national ID number is wrong"),
    ("national_id", "11010119900307654", "18 characters"),
    ("holder_name", "名" * 101, "at most 100 characters"),
    ("number", "N" * 65, "at most 64 characters"),
    ("holder", str(2**63 - 1), "Select a valid choice"),
    ("licence_type", "1" * 19, "Select a valid choice"),
    ("holder", "-1", "Select a valid choice"),
])
def test_bad_input_is_an_error_on_its_field(client, clerk_transport, typed, alice, field, value, message):
    client.force_login(clerk_transport)
    name = f"t{typed.pk}_{field}" if field in ("grade", "granted_on", "note") else field
    page = errors_of(client.post(ADD, typed_data(typed, alice, **{name: value})))
    assert message in page
    assert "licence_validity_ordered" not in page and "Constraint" not in page
    start = page.index(f"field-{name}")  # the error is shown in the row of its field
    assert "errorlist" in page[start:start + 1500] and message in page[start:start + 3000]
    assert not Licence.objects.filter(number_index=number_index("T-2026-000417")).exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("note", "a\x00b", "NUL character"), ("holder_name", "王\x00", "NUL character"),
    ("holder", str(2**70), "past 64 bits"), ("licence_type", "-" + str(2**70), "past 64 bits")])
def test_nul_and_huge_numbers_are_refused_before_the_form(client, clerk_transport, typed, alice, field, value,
                                                          message):
    """The site refuses these in any form field with a 400 saying so (portal/middleware.py)."""
    client.force_login(clerk_transport)
    name = f"t{typed.pk}_{field}" if field == "note" else field
    response = client.post(ADD, typed_data(typed, alice, **{name: value}))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Licence.objects.exists()


def test_the_holder_must_be_a_citizen(client, clerk_transport, clerk_civil, typed):
    client.force_login(clerk_transport)
    page = errors_of(client.post(ADD, typed_data(typed, clerk_civil)))
    assert "Select a valid choice" in page


def test_the_holder_search_finds_citizens_only_for_licence_clerks(client, clerk_transport, clerk_civil, alice,
                                                                  bob, bank, typed, marriage):
    client.force_login(clerk_transport)
    found = client.get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": "ali"}).json()
    assert [item["id"] for item in found["results"]] == [str(alice.pk)]
    everyone = client.get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": ""}).json()
    ids = {item["id"] for item in everyone["results"]}
    assert ids == {str(alice.pk), str(bob.pk)}  # no clerk, no department user
    assert client.get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": "a\x00"}).status_code == 400
    assert client.get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": "x" * 900}).json()["results"] == []
    # The user list itself stays closed to clerks.
    assert client.get(reverse("admin:portal_user_changelist")).status_code == 403
    client.force_login(clerk_civil)
    assert client.get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": "bob"}).json()["results"][0]["id"] == str(bob.pk)


def test_people_who_issue_no_licences_cannot_search_holders(alice, bank):
    no_grant = make_user("clerk-nogrant", "clerk", "nowhere")
    for user in (no_grant, alice, bank):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        response = client.get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": "ali"})
        assert response.status_code in (302, 403)
        assert "alice" not in response.content.decode()
    assert Client().get(AUTOCOMPLETE, {**HOLDER_SEARCH, "term": "ali"}).status_code == 302


def test_a_clerk_cannot_choose_another_departments_type(client, clerk_civil, typed, marriage, alice):
    client.force_login(clerk_civil)
    assert f"t{typed.pk}_grade" not in client.get(ADD).content.decode()
    page = errors_of(client.post(ADD, typed_data(typed, alice)))
    assert "Select a valid choice" in page
    assert not Licence.objects.exists()


def test_a_type_definition_with_a_bad_kind_is_refused(transport):
    from django.core.exceptions import ValidationError

    from licenses.models import validate_field_schema

    for fields in ([{"name": "a", "label": "A", "kind": "number"}],
                   [{"name": "a", "label": "A", "kind": "choice"}],
                   [{"name": "a", "label": "A", "kind": "choice", "choices": []}],
                   [{"name": "a", "label": "A", "kind": "text", "choices": ["x"]}]):
        with pytest.raises(ValidationError):
            validate_field_schema(fields)
    validate_field_schema([{"name": "a", "label": "A", "kind": "choice", "choices": ["x"]}])
