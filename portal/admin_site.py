"""The admin site: staff users reach it only with a second factor (a TOTP device, django-otp)."""
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from portal.forms import AdminLoginForm


class PortalAdminSite(OTPAdminSite):
    """django-otp's admin site under the usual name, so that `admin:` URLs stay as they are."""

    login_form = AdminLoginForm
    site_header = _("Gongxin administration")
    site_title = _("Gongxin administration")

    def __init__(self, name="admin"):
        super().__init__(name)
