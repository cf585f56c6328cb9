from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from portal import (
            checks,  # noqa: F401  (registers the system checks)
            throttling,
        )

        throttling.connect()
        self._private_files()

    def _private_files(self):
        from django.conf import settings
        from django.db.backends.signals import connection_created

        from portal import files

        files.prepare(settings)
        connection_created.connect(files.protect_sqlite, dispatch_uid="portal.files.sqlite")
