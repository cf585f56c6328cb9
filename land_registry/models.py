"""The title register, after ISO 19152 (LADM) kept small: offices, parcels, parties, rights.

Registrations are the transactions that change the register (maker/checker); history is never
overwritten: a right ends (active=False) or is corrected by a new right that points to it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from fractions import Fraction

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ledger.models import LedgeredModel
from portal.crypto import EncryptedFileSystemStorage, EncryptedTextField


def blind_index(value: str) -> str:
    """A keyed HMAC of an id number: lets a clerk find a party without decrypting every row."""
    from ledger.keys import pseudonym_key

    normalized = "".join(value.split()).upper()
    return hmac.new(pseudonym_key(), f"party-id:{normalized}".encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    """110101199003076543 -> 110101********6543: enough for a clerk to compare with a paper, not to copy."""
    number = (number or "").strip()
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}" if len(number) > 10 else "*" * len(number)


def mask_name(name: str) -> str:
    """张三 -> 张*: the public sees that a person holds a right, not who."""
    name = (name or "").strip()
    return f"{name[0]}*" if name else "*"


class Office(LedgeredModel):
    """A registry office (district). Clerks are granted `work_in_office` on it (django-guardian)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)

    ledger_fields = ("code", "name")
    ledger_public_fields = ("code", "name")

    class Meta:
        ordering = ["code"]
        verbose_name = _("registry office")
        verbose_name_plural = _("registry offices")
        permissions = [("work_in_office", _("Can keep the register of this office"))]

    def __str__(self):
        return f"{self.code} {self.name}"


class LandUse(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")
    INDUSTRIAL = "industrial", _("Industrial")
    AGRICULTURAL = "agricultural", _("Agricultural")
    PUBLIC = "public", _("Public facilities")


class ParcelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired (split or merged)")


class Parcel(LedgeredModel):
    """A parcel of land. Number, location, area and land use are public by law."""

    number = models.CharField(_("parcel number"), max_length=40, unique=True)
    location = models.CharField(_("location"), max_length=300)
    area_m2 = models.PositiveIntegerField(_("area (m²)"))
    land_use = models.CharField(_("land use"), max_length=20, choices=LandUse.choices)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="parcels",
                               verbose_name=_("office"))
    status = models.CharField(_("status"), max_length=10, choices=ParcelStatus.choices,
                              default=ParcelStatus.ACTIVE)
    parents = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="children",
                                     verbose_name=_("parent parcels"))
    # The parents' numbers in clear: lineage is public, while the m2m commits database ids only.
    parent_numbers = models.CharField(_("parent parcel numbers"), max_length=400, blank=True)
    created = models.DateTimeField(_("registered at"), auto_now_add=True)

    ledger_fields = ("number", "location", "area_m2", "land_use", "office", "status", "parents",
                     "parent_numbers")
    ledger_public_fields = ("number", "location", "area_m2", "land_use", "office", "status",
                            "parent_numbers")

    class Meta:
        ordering = ["number"]
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")

    def __str__(self):
        return self.number

    @property
    def is_active(self) -> bool:
        return self.status == ParcelStatus.ACTIVE

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("land_registry:parcel", args=[self.public_ref])


class PartyKind(models.TextChoices):
    PERSON = "person", _("Natural person")
    ORGANISATION = "organisation", _("Organisation")


class Party(LedgeredModel):
    """A person or organisation that holds rights. Personal details are encrypted at rest."""

    kind = models.CharField(_("kind"), max_length=20, choices=PartyKind.choices, default=PartyKind.PERSON)
    name = EncryptedTextField(_("name"))
    id_number = EncryptedTextField(_("id number"), blank=True)
    id_index = models.CharField(max_length=64, db_index=True, blank=True, editable=False)
    address = EncryptedTextField(_("address"), blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="land_parties", verbose_name=_("portal account"))
    # The office that recorded the party: its clerks see it even before it holds a right there.
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="parties",
                               verbose_name=_("recorded by office"))

    ledger_fields = ("kind", "name", "id_number", "address", "user", "office")
    ledger_public_fields = ("kind",)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self):
        return f"{self.public_name} ({self.public_ref[:8]})"

    def save(self, *args, **kwargs):
        self.id_index = blind_index(self.id_number) if self.id_number else ""
        super().save(*args, **kwargs)

    @property
    def public_name(self) -> str:
        """Organisations are named in full; a person only by the first character."""
        return self.name if self.kind == PartyKind.ORGANISATION else mask_name(self.name)


class RightKind(models.TextChoices):
    OWNERSHIP = "ownership", _("Ownership")
    MORTGAGE = "mortgage", _("Mortgage")
    LEASE = "lease", _("Lease")
    EASEMENT = "easement", _("Easement")
    SEIZURE = "seizure", _("Seizure (查封)")
    CAVEAT = "caveat", _("Caveat")


class RegistrationKind(models.TextChoices):
    FIRST = "first_registration", _("First registration")
    TRANSFER = "transfer", _("Transfer")
    MORTGAGE = "mortgage", _("Mortgage")
    DISCHARGE = "discharge", _("Discharge of mortgage")
    LEASE = "lease", _("Lease")
    EASEMENT = "easement", _("Easement")
    CAVEAT = "caveat", _("Caveat")
    SEIZURE = "seizure", _("Seizure (查封)")
    SEIZURE_RELEASE = "seizure_release", _("Release of seizure")
    CORRECTION = "correction", _("Correction")
    PARTY_CORRECTION = "party_correction", _("Correction of a party's details")
    SPLIT = "split", _("Split")
    MERGE = "merge", _("Merge")


class RegistrationState(models.TextChoices):
    PREPARED = "prepared", _("Prepared")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Registration(LedgeredModel):
    """One transaction on the register: a clerk prepares it, a second clerk decides it."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="registrations",
                               verbose_name=_("office"))
    kind = models.CharField(_("kind"), max_length=20, choices=RegistrationKind.choices)
    parcels = models.ManyToManyField(Parcel, blank=True, related_name="registrations",
                                     verbose_name=_("parcels"))
    # Public lineage of the transaction: the parcel numbers it concerns (and creates, once approved).
    parcel_numbers = models.CharField(_("parcel numbers"), max_length=400, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.TextField(_("reason"))
    legal_date = models.DateField(_("legal date"))
    # Set by the kind (transfer, mortgage), never chosen by the clerk: see selectors.CONSENT_KINDS.
    consent_required = models.BooleanField(_("owners' consent required"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=RegistrationState.choices,
                             default=RegistrationState.PREPARED)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("prepared by"))
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    ledger_fields = ("office", "kind", "parcels", "parcel_numbers", "payload", "reason", "legal_date",
                     "consent_required", "state", "prepared_by", "decided_by", "decided_at",
                     "decision_note")
    ledger_public_fields = ("office", "kind", "parcel_numbers", "legal_date", "state", "decided_at")

    class Meta:
        ordering = ["-prepared_at", "-id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self):
        return f"{self.get_kind_display()} {self.parcel_numbers} ({self.get_state_display()})"


class Right(LedgeredModel):
    """A right, restriction or responsibility (RRR) of a party on a parcel, with its share."""

    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="rights",
                               verbose_name=_("parcel"))
    holder = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="rights",
                               verbose_name=_("holder"))
    kind = models.CharField(_("kind"), max_length=20, choices=RightKind.choices)
    share_numerator = models.PositiveIntegerField(_("share numerator"), default=1)
    share_denominator = models.PositiveIntegerField(_("share denominator"), default=1)
    amount = models.PositiveBigIntegerField(_("secured amount (yuan)"), null=True, blank=True)
    # Legal dates: when the right takes and ceases to take effect in law.
    legal_date = models.DateField(_("effective date"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # System dates: when the register learnt of it.
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended in register at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="rights",
                                     verbose_name=_("registered by"))
    ended_by = models.ForeignKey(Registration, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="ended_rights", verbose_name=_("ended by"))
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections", verbose_name=_("corrects"))

    ledger_fields = ("parcel", "holder", "kind", "share_numerator", "share_denominator", "amount",
                     "legal_date", "ended_on", "active", "registration", "ended_by", "corrects")
    ledger_public_fields = ("parcel", "kind", "share_numerator", "share_denominator", "legal_date",
                            "ended_on", "active", "registration", "ended_by", "corrects")

    class Meta:
        ordering = ["legal_date", "id"]
        verbose_name = _("right")
        verbose_name_plural = _("rights")

    def __str__(self):
        return f"{self.get_kind_display()} {self.share} ({self.public_ref[:8]})"

    @property
    def share(self) -> Fraction:
        return Fraction(self.share_numerator, self.share_denominator)

    @property
    def share_display(self) -> str:
        return f"{self.share_numerator}/{self.share_denominator}"


def document_path(instance, filename):
    # A random name: titles can name people, and a digest would let a guess about the content be checked.
    return f"land_registry/{instance.registration.public_ref}/{secrets.token_hex(16)}.fernet"


class SourceDocument(LedgeredModel):
    """A deed, contract or court order behind a registration; its SHA-256 is committed in the ledger."""

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="documents",
                                     verbose_name=_("registration"))
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=document_path, storage=EncryptedFileSystemStorage())
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    ledger_fields = ("registration", "title", "sha256")
    ledger_public_fields = ("registration",)

    class Meta:
        verbose_name = _("source document")
        verbose_name_plural = _("source documents")

    def __str__(self):
        return self.title


class PartyChange(LedgeredModel):
    """The new details of a party proposed by a party_correction; applied only when a second clerk approves.

    Kept here, encrypted, rather than in the registration's details, which are stored in clear.
    """

    registration = models.OneToOneField(Registration, on_delete=models.PROTECT, related_name="party_change",
                                        verbose_name=_("registration"))
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="changes", verbose_name=_("party"))
    name = EncryptedTextField(_("new name"), blank=True)
    id_number = EncryptedTextField(_("new id number"), blank=True)
    address = EncryptedTextField(_("new address"), blank=True)
    unlink_account = models.BooleanField(_("unlink the portal account"), default=False)

    ledger_fields = ("registration", "party", "name", "id_number", "address", "unlink_account")
    ledger_public_fields = ("registration",)

    class Meta:
        verbose_name = _("party change")
        verbose_name_plural = _("party changes")


class Consent(LedgeredModel):
    """A party's answer to a prepared registration, given in the portal by its account holder: its
    consent, or its refusal (then the registration cannot be approved)."""

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="consents",
                                     verbose_name=_("registration"))
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="consents",
                              verbose_name=_("party"))
    given_at = models.DateTimeField(_("given at"), auto_now_add=True)
    refused = models.BooleanField(_("refused"), default=False)

    ledger_fields = ("registration", "party", "given_at", "refused")
    ledger_public_fields = ("registration",)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["registration", "party"], name="lr_consent_once")]


class Follow(models.Model):
    """A user watching a parcel, told of each new registered event (a monitor, not government data)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="followers")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("followed parcel")
        verbose_name_plural = _("followed parcels")
        constraints = [models.UniqueConstraint(fields=["user", "parcel"], name="lr_follow_once")]

    def __str__(self):
        return f"{self.parcel} ← {self.user_id}"


class Notice(models.Model):
    """A message to a follower about a registered event on a parcel."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="+")
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self):
        return f"{self.parcel} {self.registration}"


class ImportRun(models.Model):
    """One legacy-register file being imported (land_registry/importer.py): how far it got, what it
    made and which lines it refused. Not ledgered itself: every record it makes is."""

    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    file_name = models.CharField(_("file name"), max_length=200)
    lines_done = models.PositiveBigIntegerField(_("lines done"), default=0)
    parties = models.PositiveBigIntegerField(_("parties"), default=0)
    parcels = models.PositiveBigIntegerField(_("parcels"), default=0)
    registrations = models.PositiveBigIntegerField(_("registrations"), default=0)
    rights = models.PositiveBigIntegerField(_("rights"), default=0)
    rejected_count = models.PositiveBigIntegerField(_("lines refused"), default=0)
    rejected = models.JSONField(_("refused lines (line, reason)"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")

    def __str__(self):
        return f"{self.file_name} ({self.sha256[:12]})"


class ImportedParty(models.Model):
    """The party an import made for a legacy id of its file, so later lines and a resumed run find it."""

    # No index of its own: the unique (run, legacy_id) index serves every lookup by run, and with a
    # second one the planner could read all of a run's rows for each batch's handful of ids.
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    legacy_id = models.CharField(max_length=64)
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "legacy_id"], name="import_legacy_id_once")]

    def __str__(self):
        return self.legacy_id
