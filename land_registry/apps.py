from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LandRegistryConfig(AppConfig):
    name = "land_registry"
    verbose_name = _("Land registry")
