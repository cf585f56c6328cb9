"""Departments and citizens doing their jobs in a real browser (issue 11), in both languages at desktop
and phone width: a department asks, the holder allows, the department reads; a citizen shares and a
verifier opens the link; an owner consents to a mortgage. Screenshots under var/screenshots/."""
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from land_registry import services as land
from licenses import services
from licenses.models import Department, LicenceType, Share, UsageRecord
from portal.models import Role, User
from tests.browser.conftest import SCREENSHOTS
from tests.land_registry.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-pass-2026"
HOLDER_ID = "110101199003076544"
SENT = {"zh-hans": "申请已发送", "en": "Request sent"}
CREATED = {"zh-hans": "分享已创建", "en": "The share is created"}
COPIED = {"zh-hans": "已复制", "en": "Copied"}
CONSENTED = {"zh-hans": "同意已记录", "en": "Your consent to the Transfer"}
REFUSED = {"zh-hans": "拒绝已记录", "en": "Your refusal of the Mortgage"}
TYPE_NAME = {"zh-hans": "机动车驾驶证", "en": "Driving licence"}
CLASS_LABEL = {"zh-hans": "准驾车型", "en": "Vehicle class"}


def driving_licence():
    transport = Department.objects.create(code="transport", name="市公安局交通管理支队")
    kind = LicenceType.objects.create(
        code="driving", name="机动车驾驶证", name_en="Driving licence", department=transport,
        fields=[{"name": "vehicle_class", "label": "准驾车型", "label_en": "Vehicle class", "personal": False}])
    holder = User.objects.create_user("wang_citizen", password=PASSWORD, role=Role.CITIZEN,
                                      first_name="芳", last_name="王")
    today = timezone.localdate()
    licence = services.licence_issue(
        licence_type=kind, holder=holder, number="110101199003076544", holder_name="王芳", national_id=HOLDER_ID,
        address="北京市", values={"vehicle_class": "C1"}, valid_from=today - dt.timedelta(days=9),
        valid_until=today + dt.timedelta(days=900), reason="r")
    return licence


def follow(visit, selector):
    """Clicks a link or submit button and waits for the page it leads to."""
    with visit.page.expect_navigation():
        visit.page.click(selector)


def log_out(visit):
    follow(visit, "header form[action='/accounts/logout/'] button")


def header_fits(visit):
    """No sideways scrolling, and the header's links keep their words on one line."""
    assert not visit.overflows()
    for link in visit.page.locator("header.site nav a, header.site .brand").all():
        assert link.bounding_box()["height"] < 40, link.inner_text()


def test_a_department_asks_the_holder_allows_and_the_department_reads(visit):
    licence = driving_licence()
    User.objects.create_user("dept_transport", password=PASSWORD, role=Role.DEPARTMENT, office="transport")
    visit.login("dept_transport", PASSWORD)
    assert visit.page.url.endswith("/department/")
    header_fits(visit)
    follow(visit, "a[href='/department/request/driving/']")
    assert TYPE_NAME[visit.language] in visit.page.locator("h1").inner_text()
    visit.page.fill("input[name=national_id]", HOLDER_ID)
    visit.page.check("input[name=fields][value=vehicle_class]")
    visit.page.fill("input[name=purpose]", "交通案件")
    visit.shot("dept-request")
    follow(visit, "main form button[type=submit]")
    assert SENT[visit.language] in visit.page.locator(".messages").inner_text()
    header_fits(visit)
    visit.shot("dept-requests")
    log_out(visit)

    visit.login("wang_citizen", PASSWORD)
    visit.open("/licences/authorisations/")
    assert CLASS_LABEL[visit.language] in visit.page.content()
    follow(visit, "form[action$='/approve'] button")
    assert not visit.overflows()
    visit.shot("holder-approved")
    log_out(visit)

    visit.login("dept_transport", PASSWORD)
    follow(visit, "form[action$='/read'] button")
    assert re.search(r"C1", visit.page.locator("dl.fields").inner_text())
    assert not visit.overflows()
    visit.shot("dept-read")
    assert UsageRecord.objects.filter(licence=licence, accessor="transport").count() == 1


def test_a_citizen_shares_and_a_verifier_opens_the_link(visit, browser):
    licence = driving_licence()
    visit.login("wang_citizen", PASSWORD)
    header_fits(visit)
    assert "王芳" in visit.page.locator("header .who").inner_text()
    visit.open(f"/licences/{licence.public_ref}/")  # fields and the ledger history, in words
    assert CLASS_LABEL[visit.language] in visit.page.locator("dl.fields").inner_text()
    assert not re.search(r"licence\.issue|\d{2}:\d{2}:\d{2}\.\d{6}", visit.page.locator("main").inner_text())
    assert not visit.overflows()
    visit.shot("licence")
    visit.open(f"/licences/{licence.public_ref}/share")
    visit.page.check("input[name=fields][value=vehicle_class]")
    visit.page.fill("input[name=purpose]", "租车")
    follow(visit, "main form button[type=submit]")
    assert CREATED[visit.language] in visit.page.locator(".messages").inner_text()
    assert visit.page.locator(".qr svg").is_visible()
    visit.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visit.page.click("button[data-copy]")
    expect(visit.page.locator("button[data-copy]")).to_have_text(COPIED[visit.language])
    link = visit.page.input_value("#share-link")
    assert visit.page.evaluate("navigator.clipboard.readText()") == link
    assert not visit.overflows()
    visit.shot("share-created")

    verifier = browser.new_context(viewport=visit.page.viewport_size)
    try:
        page = verifier.new_page()
        page.goto(link)
        assert "C1" in page.locator("dl.fields").inner_text()
        json_link = page.locator("a[href*='/verify?ticket=']").get_attribute("href")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(SCREENSHOTS / f"{visit.name}-verifier-{visit.viewport}-{visit.language}.png"),
                        full_page=True)
        assert page.goto(visit.base_url + json_link).status == 200
    finally:
        verifier.close()
    assert Share.objects.get().view_count == 1  # the page's view; its JSON is not a second one


def _owner_reads(visit, kind, payload):
    world = World()
    world.citizen_a.set_password(PASSWORD)
    world.citizen_a.save()
    registration = land.registration_prepare(clerk=world.maker, office=world.x, kind=kind, parcels=[world.parcel],
                                             payload=payload(world), reason="依申请登记")
    land.document_attach(registration=registration, title="合同", content=b"%PDF-1.4 contract")
    visit.login("citizena", PASSWORD)
    visit.open("/land/mine/")
    follow(visit, f"a[href='/land/registrations/{registration.public_ref}/consent']")
    header_fits(visit)
    return registration


def _answer(visit, answer):
    follow(visit, f"main form:has(input[value={answer}]) button")
    assert visit.page.locator("input[name=confirm]").count() == 1
    visit.shot(f"{answer}-confirm")
    follow(visit, "main form:has(input[name=confirm]) button[type=submit]")
    assert not visit.overflows()
    visit.shot(f"{answer}-done")
    return visit.page.locator(".messages").inner_text()


def test_an_owner_consents_to_a_transfer_after_reading_it(visit):
    registration = _owner_reads(visit, "transfer", lambda w: {"owners": [{"party": w.li.public_ref, "share": "1"}]})
    content = visit.page.content()
    assert "李*" in content and "李娜" not in content and "合同" in content and "X01-0001" in content
    visit.shot("transfer-review")
    assert CONSENTED[visit.language] in _answer(visit, "consent")
    assert registration.consents.get().refused is False


def test_an_owner_refuses_a_mortgage_after_reading_it(visit):
    registration = _owner_reads(visit, "mortgage", lambda w: {"holder": w.bank.public_ref, "amount": 800000})
    content = visit.page.content()
    assert "中国建设银行东城支行" in content and "800000" in content
    visit.shot("mortgage-review")
    assert REFUSED[visit.language] in _answer(visit, "refuse")
    assert registration.consents.get().refused is True


def test_the_login_page_marks_a_wrong_password(visit):
    User.objects.create_user("wang_citizen", password=PASSWORD, role=Role.CITIZEN)
    visit.login("wang_citizen", "not-the-password")
    assert visit.page.locator(".form-errors[role=alert]").is_visible()
    assert visit.page.locator(".field.invalid input").count() == 2
    header_fits(visit)
    visit.shot("login-error")
