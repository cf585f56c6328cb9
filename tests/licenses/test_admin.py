"""Clerks in the Django admin see and act on the licences of their granted departments only."""
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.actor import pseudonym
from ledger.models import Entry
from licenses.blind_index import number_index
from licenses.models import Licence, LicenceStatus

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:licenses_licence_changelist")
ADD = reverse("admin:licenses_licence_add")


def change_url(licence):
    return reverse("admin:licenses_licence_change", args=[licence.pk])


def action(client, name, licences, **extra):
    data = {"action": name, "_selected_action": [lic.pk for lic in licences], "index": 0, **extra}
    return client.post(CHANGELIST, data, follow=True)


@pytest.fixture
def licences(alice_driving, alice_marriage):
    return alice_driving, alice_marriage


def test_changelist_lists_only_the_granted_departments_licences(client, clerk_transport, clerk_civil, licences):
    driving, marriage = licences
    client.force_login(clerk_transport)
    page = client.get(CHANGELIST).content.decode()
    assert driving.public_ref in page and marriage.public_ref not in page
    client.force_login(clerk_civil)
    page = client.get(CHANGELIST).content.decode()
    assert marriage.public_ref in page and driving.public_ref not in page


def test_change_page_of_another_departments_licence_is_not_shown(client, clerk_transport, licences):
    driving, marriage = licences
    client.force_login(clerk_transport)
    own = client.get(change_url(driving))
    assert own.status_code == 200 and driving.number in own.content.decode()
    other = client.get(change_url(marriage))
    assert other.status_code == 302 and "M-77" not in other.content.decode()
    assert client.get(other.url).status_code == 200


def test_action_on_another_departments_licence_changes_nothing(client, clerk_transport, licences):
    driving, marriage = licences
    client.force_login(clerk_transport)
    response = action(client, "revoke", [marriage], reason="not mine")
    assert response.status_code == 200
    marriage.refresh_from_db()
    assert marriage.status == LicenceStatus.VALID
    assert Entry.objects.filter(ref=marriage.public_ref).count() == 1


def test_clerk_actions_go_through_services_with_reason_and_clerk_as_actor(client, clerk_transport, licences):
    driving, _ = licences
    client.force_login(clerk_transport)
    response = action(client, "suspend", [driving], reason="")
    assert "Give a reason" in response.content.decode()
    response = action(client, "suspend", [driving], reason="unpaid fines")
    assert "Suspended 1 licence" in response.content.decode()
    driving.refresh_from_db()
    assert driving.status == LicenceStatus.SUSPENDED and driving.status_reason == "unpaid fines"
    entry = json.loads(bytes(Entry.objects.filter(ref=driving.public_ref).order_by("-id").first().data))
    assert entry["action"] == "licence.suspend"
    assert entry["actor"] == {"id": pseudonym(clerk_transport.pk), "office": "transport", "role": "clerk"}
    action(client, "reinstate", [driving], reason="paid")
    new_end = driving.valid_until.replace(year=driving.valid_until.year + 1)
    response = action(client, "renew", [driving], reason="renewal", valid_until=new_end.isoformat())
    assert "Renewed 1 licence" in response.content.decode()
    action(client, "revoke", [driving], reason="court order")
    driving.refresh_from_db()
    assert driving.status == LicenceStatus.REVOKED and driving.valid_until == new_end


def issue_data(driving, alice, **extra):
    today = timezone.localdate()
    return {"holder": alice.pk, "licence_type": driving.pk, "number": "D-9", "holder_name": "王丽华",
            "national_id": "110101199003076544", "address": "", f"t{driving.pk}_vehicle_class": "B",
            f"t{driving.pk}_birth_date": "1990-01-01", "valid_from": today.isoformat(),
            "valid_until": today.replace(year=today.year + 6).isoformat(), "reason": "application 9", **extra}


def test_clerk_issues_only_types_of_granted_departments(client, clerk_transport, driving, marriage, alice):
    client.force_login(clerk_transport)
    form = client.get(ADD).content.decode()
    assert "Driving licence" in form and "Marriage certificate" not in form
    assert f'name="t{driving.pk}_vehicle_class"' in form and f"t{marriage.pk}_spouse_name" not in form
    assert 'name="values"' not in form  # no JSON box
    data = issue_data(driving, alice)
    refused = client.post(ADD, {**data, "licence_type": marriage.pk, f"t{marriage.pk}_spouse_name": "x"})
    assert refused.status_code == 200 and not Licence.objects.filter(number_index=number_index("D-9")).exists()
    assert "Select a valid choice" in refused.content.decode()
    bad_id = client.post(ADD, {**data, "national_id": "110101199003076543"})
    assert "check character" in bad_id.content.decode()  # GB 11643, before anything is written
    response = client.post(ADD, data)
    assert response.status_code == 302
    licence = Licence.objects.get(number_index=number_index("D-9"))
    assert licence.holder == alice and licence.data == {"vehicle_class": "B"}
    assert licence.personal_values() == {"birth_date": "1990-01-01"}
    entry = json.loads(bytes(Entry.objects.get(ref=licence.public_ref).data))
    assert entry["action"] == "licence.issue" and entry["actor"]["role"] == "clerk"


def test_people_without_a_grant_see_no_licences(client, alice, bank, licences):
    clerk_without_grant = type(alice).objects.create(username="nogrant", role="clerk", office="x", is_staff=True)
    for user in (clerk_without_grant, bank, alice):
        client.force_login(user)
        response = client.get(CHANGELIST)
        assert response.status_code in (302, 403)
        assert licences[0].public_ref not in response.content.decode()
    client.logout()
    assert client.get(CHANGELIST).status_code == 302


def test_clerk_grant_per_licence_type(client, driving, marriage, licences):
    from guardian.shortcuts import assign_perm

    from tests.licenses.conftest import make_user

    clerk = make_user("clerk-type", "clerk", "civil")
    assign_perm("licenses.manage_licences_of_type", clerk, marriage)
    client.force_login(clerk)
    page = client.get(CHANGELIST).content.decode()
    assert licences[1].public_ref in page and licences[0].public_ref not in page
