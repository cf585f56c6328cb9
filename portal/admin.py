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
