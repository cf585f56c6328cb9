"""The ledger in the admin: read-only, because nothing may change an entry or block."""
import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ledger.models import Block, Entry, LedgerKey


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
