"""The site's common pages in a real browser: home and login, both languages, desktop and phone."""
import pytest

from portal.models import Role, User

pytestmark = pytest.mark.django_db(transaction=True)

HOME_TITLE = {"zh-hans": "公信政务数据共享平台", "en": "Gongxin government data portal"}
LOGGED_OUT = {"zh-hans": "退出登录", "en": "Log out"}


def test_home(visit):
    response = visit.open("/")
    assert response.status == 200
    assert HOME_TITLE[visit.language] in visit.page.title()
    assert not visit.overflows()
    visit.shot("home")


def test_login(visit):
    User.objects.create_user("citizen_wang", password="a-long-pass-2026", role=Role.CITIZEN)
    visit.open("/accounts/login/")
    visit.shot("form")
    visit.login("citizen_wang", "a-long-pass-2026")
    assert visit.page.get_by_role("button", name=LOGGED_OUT[visit.language]).is_visible()
    assert not visit.overflows()
    visit.shot("logged-in")
