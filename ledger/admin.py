"""The ledger in the admin: read-only, because nothing may change an entry or block."""
import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ledger.models import (
    Alarm,
    Block,
    Cosignature,
    Entry,
    LedgerKey,
    MirroredLog,
    MonitoredCheckpoint,
    Peer,
    WitnessedCheckpoint,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("leaf_index", "kind", "ref", "created")
    list_select_related = ("leaf",)
    list_filter = ("kind",)
    search_fields = ("ref",)
    fields = ("leaf_index", "kind", "ref", "created", "entry_json")
    readonly_fields = fields

    @admin.display(description=_("entry"))
    def entry_json(self, obj):
        return json.dumps(json.loads(bytes(obj.data)), ensure_ascii=False, indent=2)


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ("height", "first_index", "count", "tree_size", "time", "key_hash")
    fields = ("height", "first_index", "count", "tree_size", "time", "key_hash")
    readonly_fields = fields


@admin.register(LedgerKey)
class LedgerKeyAdmin(ReadOnlyAdmin):
    list_display = ("verifier_key", "active", "created")


def _is_portal_admin(request) -> bool:
    """Peers decide whose checkpoints this portal cosigns: administrators only, never clerks."""
    user = request.user
    return user.is_active and user.is_staff and (user.is_superuser or getattr(user, "role", "") == "admin")


@admin.register(Peer)
class PeerAdmin(admin.ModelAdmin):
    list_display = ("origin", "url", "active", "cosigned_size", "last_error")
    fields = ("origin", "url", "log_key", "witness_key", "active")
    search_fields = ("origin", "url")

    def has_module_permission(self, request):
        return _is_portal_admin(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _is_portal_admin(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return _is_portal_admin(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _is_portal_admin(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_portal_admin(request) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("anchor")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("last cosigned size"))
    def cosigned_size(self, obj):
        anchor = getattr(obj, "anchor", None)
        return anchor.cosigned_size if anchor else 0

    @admin.display(description=_("last error"))
    def last_error(self, obj):
        anchor = getattr(obj, "anchor", None)
        return anchor.last_error if anchor else ""


@admin.register(Alarm)
class AlarmAdmin(ReadOnlyAdmin):
    list_display = ("created", "kind", "origin", "message", "acknowledged")
    list_filter = ("kind", "acknowledged")
    fields = ("created", "kind", "origin", "message", "evidence", "acknowledged")
    readonly_fields = fields


@admin.register(WitnessedCheckpoint)
class WitnessedCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("origin", "size", "updated")
    fields = ("origin", "size", "note", "cosignature", "updated")
    readonly_fields = fields


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ("tree_size", "peer", "created")
    fields = ("peer", "tree_size", "line", "timestamp", "created")
    readonly_fields = fields


@admin.register(MonitoredCheckpoint)
class MonitoredCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("peer", "size", "checked", "last_error")
    fields = ("peer", "size", "note", "checked", "last_error")
    readonly_fields = fields


@admin.register(MirroredLog)
class MirroredLogAdmin(ReadOnlyAdmin):
    list_display = ("peer", "size", "updated", "last_error")
    fields = ("peer", "size", "note", "updated", "last_error")
    readonly_fields = fields
