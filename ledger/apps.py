from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Audit ledger")

    def ready(self):
        from ledger import (
            checks,  # noqa: F401  (registers the system checks)
            recorder,
        )
        from ledger.models import LedgeredModel

        for model in ledgered_models():
            opts = model._meta
            # Related-object access and saves use the base manager: make it the ledgered one.
            opts.__dict__.pop("base_manager", None)
            opts.base_manager_name = opts.default_manager.name
            recorder.connect(model)
        assert LedgeredModel  # imported for ledgered_models()


def ledgered_models():
    from ledger.models import LedgeredModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, LedgeredModel) and not model._meta.proxy
    ]
