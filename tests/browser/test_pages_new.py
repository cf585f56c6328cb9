"""Pages added for integrity (issue 10) in a real browser: a citizen's claim of their parties, and the
portal's own error page, in both languages at desktop and phone width."""
import pytest

from portal.models import Role, User
from tests.land_registry.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMED = {"zh-hans": "您的认领已记录", "en": "Your claim is recorded"}
NOT_FOUND = {"zh-hans": "未找到", "en": "Not found"}


def test_claim_links_a_citizens_party_and_shows_the_parcel(visit):
    world = World()
    User.objects.create_user("wang_citizen", password="a-long-pass-2026", role=Role.CITIZEN)
    visit.login("wang_citizen", "a-long-pass-2026")
    assert visit.open("/land/claim/").status == 200
    visit.page.fill("input[name=id_number]", "110102197701010030")  # wrong check character
    visit.page.fill("input[name=name]", "王芳")
    with visit.page.expect_navigation():
        visit.page.click("main form button[type=submit]")
    assert visit.page.locator(".errorlist").count() == 1
    visit.errors.clear()  # the form with errors is answered 400, which the browser logs; nothing else may fail
    visit.page.fill("input[name=id_number]", "11010219770101003X")
    visit.page.fill("input[name=name]", "王芳")
    with visit.page.expect_navigation():
        visit.page.click("main form button[type=submit]")
    assert CLAIMED[visit.language] in visit.page.content()
    assert not visit.overflows()
    visit.shot("claimed")
    visit.open("/land/mine/")
    assert world.parcel_y.number in visit.page.content()
    visit.shot("mine")


def test_error_page_in_the_visitors_language(visit):
    response = visit.open("/land/parcels/no-such-parcel-anywhere/")
    assert response.status == 404
    assert NOT_FOUND[visit.language] in visit.page.title()
    assert not visit.overflows()
    visit.shot("404")
    visit.errors.clear()  # the browser logs the 404 itself as a failed resource; nothing else may fail
