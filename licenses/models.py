"""Licence types, licences, shares, department authorisations and the usage log.

Every model here is ledgered. A licence commits, besides its own fields, a map of salted
digests of its "claims" (the fields a holder may disclose one by one): a share reveals the
digest map with its ledger salt and then only the chosen claims with their own salts, in the
style of SD-JWT's nested digests.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ledger.models import LedgeredModel
from ledger.recorder import field_salt
from ledger.tlog.commitment import field_digest
from portal.crypto import EncryptedTextField

SHARE_MAX_DAYS = 90
REMINDER_DAYS = 30
PUBLIC_LINK = "public link"

# Claims every licence has, whatever its type; the type adds its own in LicenceType.fields.
STANDARD_CLAIMS = {
    "holder_name": (_("Holder name"), True),
    "national_id": (_("National ID number"), True),
    "address": (_("Address"), True),
    "number": (_("Licence number"), False),
    "valid_from": (_("Valid from"), False),
    "valid_until": (_("Valid until"), False),
}
# Standard claims a type may declare personal: a Chinese driving licence's number is a national ID number.
TYPE_MAY_MAKE_PERSONAL = ("number",)
# A share always discloses validity, so a verifier can tell current from stale.
ALWAYS_DISCLOSED = ("valid_from", "valid_until")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Claim:
    name: str
    label: str
    personal: bool


def validate_field_schema(value) -> None:
    """A licence type's fields: a list of {"name", "label", "personal"} with unique, new names (and
    optionally "label_en", the label in English, and "kind" and "choices", the input a clerk gets),
    and optionally {"name": "number", "personal": true} for a number that identifies the holder."""
    if not isinstance(value, list):
        raise ValidationError(_("The fields must be a JSON list of objects."))
    seen = set()
    for item in value:
        if not isinstance(item, dict) or set(item) - {"name", "label", "label_en", "personal", "kind", "choices"}:
            raise ValidationError(_('Each field must be an object with "name", "label" and "personal" '
                                    '(and optionally "label_en", "kind" and "choices").'))
        name = item.get("name")
        if name in TYPE_MAY_MAKE_PERSONAL and name not in seen and isinstance(item.get("personal"), bool) \
                and set(item) == {"name", "personal"}:
            seen.add(name)
            continue
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise ValidationError(
                _("Field name %(name)r must be lower-case letters, digits and _ (at most 40)."),
                params={"name": name},
            )
        if name in STANDARD_CLAIMS or name in seen:
            raise ValidationError(_("Field name %(name)r is used twice."), params={"name": name})
        if not isinstance(item.get("label"), str) or not item["label"].strip():
            raise ValidationError(_("Field %(name)r needs a label."), params={"name": name})
        if not isinstance(item.get("label_en", ""), str):
            raise ValidationError(_("The English label of field %(name)r must be text."), params={"name": name})
        if not isinstance(item.get("personal", False), bool):
            raise ValidationError(_('"personal" of field %(name)r must be true or false.'),
                                  params={"name": name})
        _validate_field_kind(item)
        seen.add(name)


FIELD_KINDS = ("text", "date", "choice")


def _validate_field_kind(item: dict) -> None:
    """A field's input: one line of text (the default), a date, or one of its "choices"."""
    kind, choices = item.get("kind", "text"), item.get("choices")
    if kind not in FIELD_KINDS:
        raise ValidationError(_('"kind" of field %(name)r must be "text", "date" or "choice".'),
                              params={"name": item["name"]})
    if (kind == "choice") != (choices is not None) or (choices is not None and not (
            isinstance(choices, list) and 0 < len(choices) <= 50
            and all(isinstance(c, str) and c.strip() and len(c) <= 100 for c in choices))):
        raise ValidationError(_('Field %(name)r: a "choice" field lists 1 to 50 "choices" (texts of at most '
                                '100 characters); other kinds have none.'), params={"name": item["name"]})


def field_kind(item: dict) -> str:
    return item.get("kind", "text")


class Department(LedgeredModel):
    """An issuing department; its code is the `office` of its clerks and department users."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)

    ledger_fields = ("code", "name")
    ledger_public_fields = ("code", "name")

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        permissions = [("manage_licences", _("Can issue and manage the licences of this department"))]

    def __str__(self):
        return f"{self.name} ({self.code})"


class LicenceType(LedgeredModel):
    """A kind of licence, as data: its issuing department and the fields its licences carry."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Translatable data: shown instead of the name when the page is in English.
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="licence_types", verbose_name=_("department")
    )
    fields = models.JSONField(
        _("fields"), default=list, blank=True, validators=[validate_field_schema],
        help_text=_('A list of {"name": "class", "label": "准驾车型", "label_en": "Class", "personal": false}; '
                    '{"name": "number", "personal": true} makes the licence number personal.'),
    )

    ledger_fields = ("code", "name", "name_en", "department", "fields")
    ledger_public_fields = ("code", "name", "name_en", "department", "fields")

    class Meta:
        ordering = ["code"]
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")
        permissions = [("manage_licences_of_type", _("Can issue and manage licences of this type"))]

    def __str__(self):
        return self.local_name

    @property
    def local_name(self) -> str:
        """The name in the page's language: the English name in English when the type has one."""
        return self.name_en if self.name_en and _english() else self.name

    def own_fields(self) -> list[dict]:
        """The fields the type adds (its entries for standard claims only set their personal flag)."""
        return [item for item in self.fields if item.get("name") not in STANDARD_CLAIMS]

    @property
    def number_personal(self) -> bool:
        return any(item.get("name") == "number" and item.get("personal") for item in self.fields)

    def claims(self) -> list[Claim]:
        standard = [Claim(name, str(label), personal or (name == "number" and self.number_personal))
                    for name, (label, personal) in STANDARD_CLAIMS.items()]
        english = _english()
        own = [Claim(item["name"], item.get("label_en") if english and item.get("label_en") else item["label"],
                     bool(item.get("personal"))) for item in self.own_fields()]
        return standard + own


def _english() -> bool:
    return (get_language() or "").startswith("en")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


def mask(value: str) -> str:
    """A personal value as pages show it until the holder asks: its ends only."""
    if len(value) <= 2:
        return "•" * len(value)
    keep = 2 if len(value) > 6 else 1
    return value[:keep] + "•" * (len(value) - 2 * keep) + value[-keep:]


def _plain_claim(value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


class Licence(LedgeredModel):
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licences", verbose_name=_("holder")
    )
    licence_type = models.ForeignKey(
        LicenceType, on_delete=models.PROTECT, related_name="licences", verbose_name=_("licence type")
    )
    # Encrypted for every type (some types' numbers are national ID numbers); found by its blind index.
    number = EncryptedTextField(_("licence number"), max_length=64)
    number_index = models.CharField(max_length=64, editable=False, default="")
    # Personal data: encrypted at rest, committed in the ledger as salted digests only.
    holder_name = EncryptedTextField(_("holder name"))
    national_id = EncryptedTextField(_("national ID number"))
    # Empty values are NULL: EncryptedTextField reads "" back as None, and the commitment must not change.
    address = EncryptedTextField(_("address"), blank=True, null=True)
    personal_data = EncryptedTextField(_("personal fields of the type"), blank=True, null=True)
    data = models.JSONField(_("fields of the type"), default=dict, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, choices=LicenceStatus.choices,
                              default=LicenceStatus.VALID)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    # {claim: salted digest}; the salts derive from the private seed, renewed when a claim changes.
    claim_digests = models.JSONField(_("claim digests"), default=dict, editable=False)
    claim_seed = models.BinaryField(editable=False, default=b"")
    # Keyed blind index of the national ID number, so departments can find a licence by it.
    national_id_index = models.CharField(max_length=64, editable=False, db_index=True, default="")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now, editable=False)

    ledger_fields = (
        "holder", "licence_type", "number", "holder_name", "national_id", "address", "personal_data",
        "data", "valid_from", "valid_until", "status", "status_reason", "claim_digests",
    )
    ledger_public_fields = ("licence_type", "status")

    class Meta:
        ordering = ["valid_until", "id"]
        constraints = [
            models.UniqueConstraint(fields=["licence_type", "number_index"], name="licence_number_unique_per_type"),
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("valid_from")),
                                   name="licence_validity_ordered"),
        ]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")

    def __str__(self):
        return f"{self.licence_type} {self.public_ref}"

    @property
    def department(self) -> Department:
        return self.licence_type.department

    def masked_number(self) -> str:
        """The number as lists show it: masked where the type makes it personal."""
        return mask(self.number) if self.licence_type.number_personal else self.number

    def personal_values(self) -> dict:
        return json.loads(self.personal_data) if self.personal_data else {}

    def claim_values(self) -> dict[str, str]:
        """Every disclosable claim as text: the standard ones, then the type's own."""
        values = {name: _plain_claim(getattr(self, name)) for name in STANDARD_CLAIMS}
        personal = self.personal_values()
        for item in self.licence_type.own_fields():
            source = personal if item.get("personal") else self.data
            values[item["name"]] = _plain_claim(source.get(item["name"]))
        return values

    def claim_salt(self, name: str) -> str:
        return field_salt(bytes(self.claim_seed), name)

    def refresh_claim_digests(self) -> bool:
        """Recomputes the digest map; a new seed whenever a claim changed. True when it changed."""
        values = self.claim_values()
        seed = bytes(self.claim_seed or b"")
        if seed:
            digests = {name: field_digest(field_salt(seed, name), name, v) for name, v in values.items()}
            if digests == self.claim_digests:
                return False
        seed = os.urandom(16)
        self.claim_seed = seed
        self.claim_digests = {name: field_digest(field_salt(seed, name), name, v) for name, v in values.items()}
        return True

    def save(self, *args, **kwargs):
        from licenses.blind_index import blind_index, number_index

        self.address = self.address or None
        self.personal_data = self.personal_data or None
        changed = self.refresh_claim_digests()
        self.national_id_index = blind_index("national_id", self.national_id or "")
        self.number_index = number_index(self.number or "")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and changed:
            kwargs["update_fields"] = {*update_fields, "claim_digests", "claim_seed", "national_id_index",
                                       "number_index"}
        super().save(*args, **kwargs)

    save.alters_data = True

    def expires_within(self, days: int, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == LicenceStatus.VALID and self.valid_until <= today + dt.timedelta(days=days)


class Share(LedgeredModel):
    """A link by which the holder discloses chosen claims of one licence, until it ends."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="shares",
                                verbose_name=_("licence"))
    fields = models.JSONField(_("disclosed fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    expires_at = models.DateTimeField(_("expires at"))
    max_views = models.PositiveIntegerField(_("view limit"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # The link's token is kept encrypted (to show the link again) and found by its keyed hash.
    token = EncryptedTextField(editable=False)
    token_index = models.CharField(max_length=64, unique=True, editable=False)

    ledger_fields = ("licence", "fields", "purpose", "expires_at", "max_views", "revoked_at")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("share")
        verbose_name_plural = _("shares")

    def __str__(self):
        return f"share {self.public_ref}"

    def state(self, now: dt.datetime | None = None) -> str:
        """active, revoked, expired or used_up (over its view limit)."""
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        if self.max_views is not None and self.view_count >= self.max_views:
            return "used_up"
        return "active"

    def state_label(self) -> str:
        return str(SHARE_STATES[self.state()])


SHARE_STATES = {
    "active": _("active"),
    "revoked": _("revoked"),
    "expired": _("expired"),
    "used_up": _("view limit reached"),
}


class AuthorisationStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the holder")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    ENDED = "ended", _("Ended by the holder")


class Authorisation(LedgeredModel):
    """授权用证: a department asks to use a licence for a purpose; the holder approves or refuses."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="authorisations",
                                   verbose_name=_("department"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    # Empty when nobody holds such a licence: the request is kept (and ledgered) all the same, so
    # that neither the answer nor the ledger tells the department whether the person holds one.
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="authorisations",
                                null=True, blank=True, verbose_name=_("licence"))
    fields = models.JSONField(_("requested fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=16, choices=AuthorisationStatus.choices,
                              default=AuthorisationStatus.PENDING)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    ledger_fields = ("department", "requested_by", "licence", "fields", "purpose", "ends_at", "status",
                     "decided_at")
    ledger_public_fields = ("department", "status")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("authorisation")
        verbose_name_plural = _("authorisations")

    def __str__(self):
        return f"authorisation {self.public_ref}"

    def in_force(self, now: dt.datetime | None = None) -> bool:
        return (self.licence_id is not None and self.status == AuthorisationStatus.APPROVED
                and (now or timezone.now()) < self.ends_at)


class UsageRecord(LedgeredModel):
    """用证记录: one view of a share or one department read, without personal data."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="usage",
                                verbose_name=_("licence"))
    share = models.ForeignKey(Share, on_delete=models.PROTECT, null=True, blank=True, related_name="usage")
    authorisation = models.ForeignKey(Authorisation, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="usage")
    accessor = models.CharField(_("who"), max_length=64)  # a department code, or PUBLIC_LINK
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    at = models.DateTimeField(_("when"), default=timezone.now)

    ledger_fields = ("licence", "share", "authorisation", "accessor", "fields", "purpose", "at")
    ledger_public_fields = ("accessor", "fields")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")

    def __str__(self):
        return f"{self.accessor} {self.at:%Y-%m-%d %H:%M}"

    def accessor_display(self) -> str:
        """Who used the licence, in words: a department's name, or "public link"."""
        if self.accessor == PUBLIC_LINK:
            return str(_("public link"))
        return Department.objects.filter(code=self.accessor).values_list("name", flat=True).first() \
            or self.accessor
