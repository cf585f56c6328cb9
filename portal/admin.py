from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from portal.models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Role in the portal"), {"fields": ("role", "office")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Role in the portal"), {"fields": ("role", "office")}),
    )
    list_display = ("username", "role", "office", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "email")  # names are encrypted at rest: no substring search on them

    @staticmethod
    def autocomplete_label(user) -> str:
        """How a user is offered in a search-as-you-type (a licence's holder): username and masked name."""
        name = f"{user.last_name or ''}{user.first_name or ''}"
        return f"{user.username} ({name[:1]}{'*' * (len(name) - 1)})" if name else user.username
