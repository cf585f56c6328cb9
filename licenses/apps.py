from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensesConfig(AppConfig):
    name = "licenses"
    verbose_name = _("Electronic licences")

    def ready(self):
        from licenses import checks  # noqa: F401  (registers the system checks)
