from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Audit ledger")

    def ready(self):
        from django.contrib.auth.models import Group

        from ledger import (
            checks,  # noqa: F401  (registers the system checks)
            recorder,
        )
        from ledger.external import ledger_external
        from ledger.models import LedgeredModel

        # Groups carry permissions: granting one to a group is a grant like any other.
        ledger_external(Group, fields=("name", "permissions"), public=("name",))
        for model in ledgered_models():
            opts = model._meta
            if issubclass(model, LedgeredModel):
                # Related-object access and saves use the base manager: make it the ledgered one.
                opts.__dict__.pop("base_manager", None)
                opts.base_manager_name = opts.default_manager.name
            recorder.connect(model)


def ledgered_models():
    """Every model whose changes are ledgered: LedgeredModel subclasses and registered others."""
    from ledger.external import REGISTERED
    from ledger.models import LedgeredModel

    own = [model for model in apps.get_models() if issubclass(model, LedgeredModel) and not model._meta.proxy]
    return own + [model for model in REGISTERED if model not in own]
