"""Clerks' everyday work in the admin, in a real browser (both languages, desktop and phone width):
issuing a licence with the typed form, and a transfer prepared by one clerk and approved by another."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from guardian.shortcuts import assign_perm

from land_registry.models import Registration
from licenses.models import Department, Licence, LicenceType
from portal.models import Role, User
from tests.land_registry.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

ISSUED = {"zh-hans": "成功", "en": "successfully"}
CHECK_DIGIT = {"zh-hans": "校验", "en": "check character"}
SUM_RIGHT = {"zh-hans": "份额合计： 1", "en": "Sum of the shares: 1"}
AFTER = {"zh-hans": "批准后", "en": "After approval"}


def sign_in(visit, user) -> None:
    """The clerk's session, as after the admin's login with password and one-time code (tests/conftest.py
    marks the test client's login verified); the login form itself is tested in tests/portal."""
    client = Client()
    client.force_login(user)
    visit.context.clear_cookies()
    visit.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                "url": visit.base_url}])


def pick(visit, field: str, term: str, choice: str) -> None:
    """Types into the search of an autocomplete field (select2) and picks the choice shown."""
    page = visit.page
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=choice).first.click()


def test_a_clerk_issues_a_licence_with_the_typed_form(visit):
    transport = Department.objects.create(code="transport", name="交通运输局")
    permit = LicenceType.objects.create(code="permit", name="道路运输证", department=transport, fields=[
        {"name": "grade", "label": "等级", "personal": False, "kind": "choice", "choices": ["一级", "二级"]},
        {"name": "granted_on", "label": "核发日期", "personal": False, "kind": "date"},
        {"name": "note", "label": "备注", "personal": True}])
    LicenceType.objects.create(code="other", name="其他证", department=transport, fields=[
        {"name": "colour", "label": "颜色", "personal": False}])
    clerk = User.objects.create_user("clerk_zhao", password="x-long-pass-2026", role=Role.CLERK, is_staff=True,
                                     office="transport")
    assign_perm("licenses.manage_licences", clerk, transport)
    citizen = User.objects.create_user("wang_citizen", password="x-long-pass-2026", role=Role.CITIZEN)
    sign_in(visit, clerk)
    assert visit.open("/admin/licenses/licence/add/").status == 200
    page = visit.page
    page.select_option("#id_licence_type", str(permit.pk))
    assert page.locator(f"fieldset.licence-type-{permit.pk}").is_visible()
    assert not page.locator(f"fieldset.licence-type-fields:not(.licence-type-{permit.pk})").first.is_visible()
    pick(visit, "holder", "wang", "wang_citizen")
    today = timezone.localdate()
    page.fill("#id_number", "YS-2026-001")
    page.fill("#id_holder_name", "王芳")
    page.fill("#id_national_id", "110102197701010031")  # a mistyped check character
    page.fill("#id_valid_from", today.isoformat())
    page.fill("#id_valid_until", (today + dt.timedelta(days=365)).isoformat())
    page.select_option(f"#id_t{permit.pk}_grade", "二级")
    page.fill(f"#id_t{permit.pk}_granted_on", "2026-01-05")
    page.fill(f"#id_t{permit.pk}_note", "无")
    visit.shot("issue-form")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    assert CHECK_DIGIT[visit.language] in page.locator(".field-national_id .errorlist").inner_text()
    assert not Licence.objects.exists()
    visit.shot("issue-error")
    page.fill("#id_national_id", "11010219770101003X")
    page.fill(f"#id_t{permit.pk}_note", "无")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    assert ISSUED[visit.language] in page.locator(".messagelist").inner_text()
    licence = Licence.objects.get()
    assert licence.holder == citizen and licence.data == {"grade": "二级", "granted_on": "2026-01-05"}
    visit.shot("issued")


def test_a_clerk_prepares_a_transfer_and_a_second_clerk_approves_it(visit):
    world = World()
    sign_in(visit, world.maker)
    assert visit.open("/admin/land_registry/registration/add/").status == 200
    page = visit.page
    page.select_option("#id_office", str(world.x.pk))
    page.select_option("#id_kind", "transfer")
    assert page.locator("fieldset.for-transfer").first.is_visible()
    assert not page.locator("fieldset.for-mortgage:not(.for-transfer)").first.is_visible()
    assert not page.locator(".field-owner_3").is_visible()
    page.locator("button.admin-extra-more").first.click()  # another owner: a third row appears
    assert page.locator(".field-owner_3").is_visible() and not page.locator(".field-owner_4").is_visible()
    pick(visit, "parcels", "X01-0001", "X01-0001")
    pick(visit, "owner_1", world.zhang.public_ref[:8], world.zhang.public_ref)
    page.fill("#id_owner_share_1", "1/3")
    pick(visit, "owner_2", "110101198512120027", world.li.public_ref)  # found by the exact ID number
    page.fill("#id_owner_share_2", "1/2")
    assert "right" not in page.locator(".admin-extra-sum").get_attribute("class")
    page.fill("#id_owner_share_2", "2/3")
    assert SUM_RIGHT[visit.language] in page.locator(".admin-extra-sum").inner_text()
    page.fill("#id_reason", "买卖")
    page.fill("#id_document_title_1", "买卖合同")
    page.set_input_files("#id_document_1", files=[{"name": "contract.pdf", "mimeType": "application/pdf",
                                                   "buffer": b"%PDF-1.4 contract"}])
    visit.shot("prepare-form")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    registration = Registration.objects.get(kind="transfer")
    assert registration.state == "prepared" and registration.documents.count() == 1
    world.consent(registration)  # the owner's consent, from their own login (tested with the citizen pages)
    sign_in(visit, world.checker)
    visit.open("/admin/")
    assert "X01-0001" in page.locator("#your-work").inner_text()
    visit.shot("checker-home")
    visit.open(f"/admin/land_registry/registration/{registration.pk}/change/")
    with page.expect_navigation():
        page.locator(f"a[href$='/{registration.pk}/decide/']").click()
    assert AFTER[visit.language] in page.content() and "2/3" in page.content()
    visit.shot("decide")
    page.check("#id_confirm")
    with page.expect_navigation():
        page.locator("input[name=_approve]").click()
    registration.refresh_from_db()
    assert registration.state == "approved" and registration.decided_by == world.checker
    visit.shot("approved")
