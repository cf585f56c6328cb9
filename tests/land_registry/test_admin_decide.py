"""The checker's page: what is approved in words and as the parcel's rights before and after, a
confirmation before approving, a reason before rejecting; never the maker's own, never another office's."""
import pytest
from django.test import Client
from django.urls import reverse

from land_registry import services
from land_registry.models import Registration

pytestmark = pytest.mark.django_db


def decide_url(registration):
    return reverse("admin:land_registry_registration_decide", args=[registration.pk])


@pytest.fixture
def transfer(world):
    registration = services.registration_prepare(
        clerk=world.maker, office=world.x, kind="transfer", parcels=[world.parcel],
        payload={"owners": [{"party": world.zhang.public_ref, "share": "1/3"},
                            {"party": world.li.public_ref, "share": "2/3"}]},
        reason="买卖", documents=[("买卖合同", b"%PDF")])
    world.consent(registration)
    return registration


def test_the_page_shows_the_change_in_words_and_before_after(client, world, transfer):
    client.force_login(world.checker)
    page = client.get(decide_url(transfer)).content.decode()
    for shown in ("Transfer", "X01-0001", "Now", "After approval", "1/3", "2/3", "ends", "new", "买卖合同",
                  "Prepared by maker", "Approve: change the register as shown", "Reject with the reason given"):
        assert shown in page, shown
    now, after = page.split("After approval", 1)
    assert "张*" in now and "李*" not in now.split("Now", 1)[1] and "李*" in after
    change = client.get(reverse("admin:land_registry_registration_change", args=[transfer.pk])).content.decode()
    assert "After approval" in change and decide_url(transfer) in change


def test_approval_needs_the_confirmation(client, world, transfer):
    client.force_login(world.checker)
    page = client.post(decide_url(transfer), {"_approve": "1"}).content.decode()
    assert "Tick the box to confirm" in page
    transfer.refresh_from_db()
    assert transfer.state == "prepared"
    response = client.post(decide_url(transfer), {"_approve": "1", "confirm": "on"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "approved" and transfer.decided_by == world.checker


def test_rejection_needs_a_reason(client, world, transfer):
    client.force_login(world.checker)
    page = client.post(decide_url(transfer), {"_reject": "1", "note": "  "}).content.decode()
    assert "Give the reason for the rejection" in page
    transfer.refresh_from_db()
    assert transfer.state == "prepared"
    assert client.post(decide_url(transfer), {"_reject": "1", "note": "x" * 2001}).status_code == 200
    assert client.post(decide_url(transfer), {"_reject": "1", "note": "合同未签字"}).status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "rejected" and transfer.decision_note == "合同未签字"


def test_the_maker_cannot_approve_their_own(client, world, transfer):
    client.force_login(world.maker)
    page = client.get(decide_url(transfer)).content.decode()
    assert "You prepared this registration" in page
    page = client.post(decide_url(transfer), {"_approve": "1", "confirm": "on"}, follow=True).content.decode()
    assert "second clerk" in page
    transfer.refresh_from_db()
    assert transfer.state == "prepared"


def test_another_office_and_citizens_cannot_open_it(client, world, transfer):
    for user in (world.clerk_y, world.checker_y, world.citizen_a):
        client.force_login(user)
        response = client.get(decide_url(transfer))
        assert response.status_code in (302, 404) and "X01-0001" not in response.content.decode()
        client.post(decide_url(transfer), {"_approve": "1", "confirm": "on"})
    client.logout()
    assert client.get(decide_url(transfer)).status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "prepared"


def test_the_list_action_asks_before_it_decides(client, world, transfer):
    client.force_login(world.checker)
    changelist = reverse("admin:land_registry_registration_changelist")
    page = client.post(changelist, {"action": "approve", "_selected_action": [transfer.pk], "index": 0})
    assert page.status_code == 200 and "Approve: change the register as shown" in page.content.decode()
    assert "Reject with the reason given" not in page.content.decode()
    transfer.refresh_from_db()
    assert transfer.state == "prepared"
    client.post(changelist, {"action": "reject", "_selected_action": [transfer.pk], "index": 0, "_reject": "1"})
    transfer.refresh_from_db()
    assert transfer.state == "prepared"  # no reason, no rejection


def test_a_problem_since_preparation_is_shown(client, world, transfer):
    world.register("seizure", [world.parcel], {"holder": world.court.public_ref})
    client.force_login(world.checker)
    page = client.get(decide_url(transfer)).content.decode()
    assert "Approval would be refused now" in page and "release of the seizure" in page


def test_the_page_in_chinese(world, transfer):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.checker)
    page = client.get(decide_url(transfer)).content.decode()
    for shown in ("批准后", "现状", "批准：按所示变更登记簿", "驳回", "终止", "份额 1/3", "权利人"):
        assert shown in page, shown
    assert Registration.objects.get(pk=transfer.pk).state == "prepared"
