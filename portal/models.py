"""Accounts and grants. Who may edit what is ledgered like the data itself."""
from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, Permission, UserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.managers import GroupObjectPermissionManager, UserObjectPermissionManager
from guardian.models import GroupObjectPermissionAbstract, UserObjectPermissionAbstract

from ledger.models import LedgeredModel, LedgerQuerySet
from portal.crypto import EncryptedTextField


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    CLERK = "clerk", _("Clerk")
    DEPARTMENT = "department", _("Department user")
    ADMIN = "admin", _("Administrator")


class PortalUserManager(UserManager.from_queryset(LedgerQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(LedgeredModel, AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    # The office or department code the user acts for; appears in the ledger's actor.
    office = models.CharField(_("office"), max_length=64, blank=True)
    # People's names are personal data: encrypted at rest with the data keys (rotate_data_keys).
    first_name = EncryptedTextField(_("first name"), max_length=150, blank=True)
    last_name = EncryptedTextField(_("last name"), max_length=150, blank=True)

    # Personal fields are committed as salted digests only; grants are what auditors follow.
    ledger_fields = (
        "username", "role", "office", "is_active", "is_staff", "is_superuser",
        "groups", "user_permissions",
    )
    ledger_public_fields = ("role", "office", "is_active", "is_staff", "is_superuser")

    objects = PortalUserManager()

    def display_name(self) -> str:
        """The name as a page greets its owner: family name first, as on a Chinese ID card."""
        return f"{self.last_name or ''}{self.first_name or ''}".strip() or self.username

    def role_display(self) -> str:
        """The role in words, with the office or department the user acts for."""
        from ledger.labels import office_name

        role = self.get_role_display()
        return f"{role} · {office_name(self.office)}" if self.office else role

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


class ObjectPermissionManager(UserObjectPermissionManager.from_queryset(LedgerQuerySet)):
    pass


class GroupPermissionManager(GroupObjectPermissionManager.from_queryset(LedgerQuerySet)):
    pass


class UserObjectPermission(LedgeredModel, UserObjectPermissionAbstract):
    """A django-guardian object permission of a user, ledgered as a grant."""

    # Own reverse names: guardian's unused default tables keep theirs.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="object_permissions")
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE,
                                   related_name="user_object_permissions")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE,
                                     related_name="user_object_permissions")

    ledger_fields = ("user", "permission", "content_type", "object_pk")
    ledger_public_fields = ("permission",)

    objects = ObjectPermissionManager()

    class Meta(UserObjectPermissionAbstract.Meta):
        abstract = False
        indexes = [models.Index(fields=["user", "content_type", "object_pk"])]
        verbose_name = _("user object permission")
        verbose_name_plural = _("user object permissions")


class GroupObjectPermission(LedgeredModel, GroupObjectPermissionAbstract):
    """A django-guardian object permission of a group, ledgered as a grant."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="object_permissions")
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE,
                                   related_name="group_object_permissions")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE,
                                     related_name="group_object_permissions")
    ledger_fields = ("group", "permission", "content_type", "object_pk")
    ledger_public_fields = ("permission",)

    objects = GroupPermissionManager()

    class Meta(GroupObjectPermissionAbstract.Meta):
        abstract = False
        indexes = [models.Index(fields=["group", "content_type", "object_pk"])]
        verbose_name = _("group object permission")
        verbose_name_plural = _("group object permissions")


class RateCounter(models.Model):
    """A request counter of one key and window, for rate limits when no Redis is configured."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")

    def __str__(self):
        return f"{self.key}: {self.count}"
