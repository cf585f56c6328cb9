"""Models of other apps whose changes are ledgered too (e.g. auth.Group: who may do what).

They cannot inherit LedgeredModel, so they get its declarations here: committed and public
fields, and a public reference derived from the primary key with the pseudonym key (stable, and
no database id in the ledger). Their save, delete and many-to-many paths are recorded like any
ledgered model's, and their managers are given LedgerQuerySet's bulk paths.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

REGISTERED: list[type] = []


def _derived_ref(self) -> str:
    from ledger.keys import pseudonym_key

    label = f"{self._meta.label_lower}:{self.pk}".encode()
    return base64.b32encode(hmac.new(pseudonym_key(), label, hashlib.sha256).digest()[:16]).decode().rstrip("=").lower()


def ledger_external(model: type, *, fields: tuple[str, ...], public: tuple[str, ...] = ()) -> None:
    if model in REGISTERED:
        return
    model.ledger_fields = fields
    model.ledger_public_fields = public
    model.public_ref = property(_derived_ref)
    for manager in model._meta.managers:
        _ledger_manager(manager)
    REGISTERED.append(model)


def _ledger_manager(manager) -> None:
    """Puts LedgerQuerySet's update, bulk_create and bulk_update in front of a manager's queryset.

    On the manager's own class where it has one (GroupManager): related managers, such as
    user.groups, derive from that class. Not a subclass: migrations compare managers by class.
    """
    from django.db import models

    from ledger.models import LedgerQuerySet

    own = manager._queryset_class
    if issubclass(own, LedgerQuerySet):
        return
    queryset = type(f"Ledger{own.__name__}", (LedgerQuerySet, own), {})
    holder = manager if type(manager) is models.Manager else type(manager)
    holder._queryset_class = queryset
