from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from portal import checks  # noqa: F401  (registers the system checks)

        self._private_files()

    def _private_files(self):
        from django.conf import settings
        from django.db.backends.signals import connection_created

        from portal import files

        files.prepare(settings)
        connection_created.connect(files.protect_sqlite, dispatch_uid="portal.files.sqlite")


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the portal's two-factor admin site as `admin.site`."""

    default = False  # named in INSTALLED_APPS; "portal" itself stays PortalConfig
    default_site = "portal.admin_site.PortalAdminSite"
