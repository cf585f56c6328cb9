"""The ledger's tables, and the base class that puts a model's every change in the ledger."""
from __future__ import annotations

import base64
import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.utils.translation import gettext_lazy as _

from ledger import recorder
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote


def new_public_ref() -> str:
    """A random public reference: 26 base32 characters, unrelated to any database id."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


class LedgerRefusal(RuntimeError):
    """A bulk path that cannot write one entry per changed record refuses, naming the safe way."""


class LedgerQuerySet(models.QuerySet):
    """Every bulk write either records one entry per changed record, or refuses loudly."""

    def update(self, **kwargs):
        names = [name for name in kwargs if name in self.model.ledger_fields]
        with transaction.atomic(using=self.db, savepoint=False):
            if not names:
                return super().update(**kwargs)
            pks = list(self.select_for_update().values_list("pk", flat=True))
            count = super().update(**kwargs)
            changed = (self.model._base_manager.using(self.db).filter(pk__in=pks)
                       .select_related(*recorder.public_relations(self.model)).iterator(2000))
            recorder.record_many(((obj, "update", names) for obj in changed), using=self.db)
            return count

    update.alters_data = True

    def bulk_create(self, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False,
                    update_fields=None, unique_fields=None):
        if ignore_conflicts or update_conflicts:
            raise LedgerRefusal(
                f"{self.model.__name__}.objects.bulk_create(ignore_conflicts/update_conflicts) cannot "
                "tell which rows it wrote, so it cannot ledger them. Use update_or_create() per "
                "record, or bulk_create() without conflict handling."
            )
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, batch_size=batch_size)
            names = list(self.model.ledger_fields)
            recorder.record_many(((obj, "create", names) for obj in created), using=self.db)
            for obj in created:
                recorder.remember_state(obj)
            return created

    bulk_create.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        names = [name for name in fields if name in self.model.ledger_fields]
        with transaction.atomic(using=self.db, savepoint=False):
            count = super().bulk_update(objs, fields, batch_size=batch_size)
            changes = [(obj, "update", changed) for obj in objs if (changed := recorder.changed_fields(obj, names))]
            recorder.record_many(changes, using=self.db)
            for obj in objs:
                recorder.remember_state(obj)
            return count

    bulk_update.alters_data = True


    def bulk_link(self, name: str, pairs) -> None:
        """Adds the links `(record, target)` of many-to-many field `name` in one insert, and records
        one entry per record whose links changed (what `record.name.add(target)` does one by one)."""
        field = self.model._meta.get_field(name)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        pairs = list(pairs)
        with transaction.atomic(using=self.db, savepoint=False):
            models.QuerySet(through, using=self.db).bulk_create(
                [through(**{source: record, target: other}) for record, other in pairs])
            recorder.record_updates(self.model, name, {record.pk for record, _other in pairs}, self.db)

    bulk_link.alters_data = True


class LedgerManager(models.Manager.from_queryset(LedgerQuerySet)):
    pass


class LedgeredModel(models.Model):
    """Base of every model whose changes are government data.

    `ledger_fields` are committed to (salted per-field digests) in every entry;
    `ledger_public_fields` (a subset, public by law) also appear in clear.
    """

    public_ref = models.CharField(
        _("public reference"), max_length=32, unique=True, default=new_public_ref, editable=False
    )

    ledger_fields: tuple[str, ...] = ()
    ledger_public_fields: tuple[str, ...] = ()

    objects = LedgerManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False), recorder.riding(self, using):
            super().save(*args, **kwargs)

    save.alters_data = True

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        recorder.remember_state(obj)
        return obj

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        recorder.remember_state(self)



class Entry(models.Model):
    """One leaf of the log: canonical JSON bytes. The row is written once and never rewritten:
    where it sits in the tree is a Leaf row, written when a block seals it."""

    id = models.BigAutoField(primary_key=True)
    data = models.BinaryField()
    leaf_hash = models.BinaryField()
    # Private: the per-field salts derive from it; never published, so digests cannot be guessed.
    salt_seed = models.BinaryField()
    kind = models.CharField(max_length=100)
    ref = models.CharField(max_length=32)
    created = models.DateTimeField()

    class Meta:
        db_table = recorder.ENTRY_TABLE
        # As few indexes as the reads need: each one costs every ledgered write. A plain index on
        # ref, not db_index, because PostgreSQL would add a second, LIKE-pattern index for a CharField.
        indexes = [models.Index(fields=["ref"], name="ledger_entry_ref")]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self):
        where = self.leaf_index if self.leaf_index is not None else f"unsealed #{self.pk}"
        return f"{self.kind} {self.ref} ({where})"

    @property
    def leaf_index(self) -> int | None:
        """The entry's index in the tree, None while unsealed (select_related("leaf") reads it
        with the entry)."""
        try:
            return self.leaf.leaf_index
        except Leaf.DoesNotExist:
            return None


class Leaf(models.Model):
    """Where a sealed entry sits in the tree, written once by the block that seals it. Kept apart
    from the entry rows so that sealing appends small rows instead of rewriting the entries (which
    would leave a dead copy of each behind on PostgreSQL until vacuumed)."""

    leaf_index = models.BigIntegerField(primary_key=True)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="leaf")

    class Meta:
        db_table = "ledger_leaf"
        verbose_name = _("ledger leaf")

    def __str__(self):
        return f"leaf {self.leaf_index}"


class TreeNode(models.Model):
    """A complete (perfect) subtree hash, level >= 1; leaves are the entries' leaf hashes."""

    # (level << 56) | index: one integer key, so a proof's nodes come in one `IN` query.
    id = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField()

    class Meta:
        db_table = "ledger_treenode"

    def __str__(self):
        return f"node level {self.id >> 56} index {self.id & ((1 << 56) - 1)}"

    @staticmethod
    def key(level: int, index: int) -> int:
        return (level << 56) | index


class LedgerState(models.Model):
    """The single row the sealer locks: the current tree head and chain tip."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    tree_size = models.BigIntegerField(default=0)
    root = models.BinaryField(default=b"")
    height = models.BigIntegerField(default=-1)
    block_hash = models.BinaryField(default=bytes(32))
    # Every entry with an id up to this one is sealed (or was never committed): the sealer looks
    # for unsealed entries above it only, so finding them costs the same at any size of the log.
    sealed_id = models.BigIntegerField(default=0)

    class Meta:
        db_table = "ledger_state"

    def __str__(self):
        return f"tree size {self.tree_size}, height {self.height}"


class Block(models.Model):
    height = models.BigIntegerField(primary_key=True)
    first_index = models.BigIntegerField()
    count = models.IntegerField()
    batch_root = models.BinaryField()
    prev_hash = models.BinaryField()
    tree_size = models.BigIntegerField(unique=True)
    tree_root = models.BinaryField()
    time = models.CharField(max_length=40)
    key_hash = models.CharField(max_length=8)
    signature = models.BinaryField()
    header = models.BinaryField()

    class Meta:
        db_table = "ledger_block"
        verbose_name = _("block")
        verbose_name_plural = _("blocks")

    def __str__(self):
        return f"block {self.height} (tree size {self.tree_size})"


class Checkpoint(models.Model):
    """The C2SP signed checkpoint (note text) for the tree head at `tree_size`."""

    tree_size = models.BigIntegerField(primary_key=True)
    note = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ledger_checkpoint"
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self):
        return f"checkpoint {self.tree_size}"


class LedgerKey(LedgeredModel):
    """A verifier key this portal has signed with; rotated keys stay so old blocks verify."""

    verifier_key = models.CharField(max_length=300, unique=True)
    key_hash = models.CharField(max_length=8, unique=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    ledger_fields = ("verifier_key", "key_hash", "active")
    ledger_public_fields = ("verifier_key", "key_hash", "active")

    class Meta:
        db_table = "ledger_key"
        verbose_name = _("ledger key")
        verbose_name_plural = _("ledger keys")

    def __str__(self):
        return self.verifier_key


def validate_origin(value: str) -> None:
    if not value or any(c < " " or c == "\x7f" for c in value):
        raise ValidationError(_("An origin is one line of printable text, such as example.org/city-b."))


def validate_log_key(value: str) -> None:
    try:
        tnote.Verifier(value)
    except tnote.NoteError as exc:
        raise ValidationError(
            _("Not an Ed25519 log verifier key (name+hash+base64, as init_keys prints it): %(why)s"),
            params={"why": exc},
        ) from None


def validate_witness_key(value: str) -> None:
    try:
        tcheckpoint.CosignatureVerifier(value)
    except tnote.NoteError as exc:
        raise ValidationError(
            _("Not a cosignature/v1 witness verifier key (name+hash+base64, as init_keys prints it): %(why)s"),
            params={"why": exc},
        ) from None


def validate_peer_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query \
            or parts.fragment:
        raise ValidationError(
            _("A peer URL is the portal's base address, such as https://city-b.example.org (no login, "
              "query or fragment).")
        )


class Peer(LedgeredModel):
    """Another log this portal witnesses, and whose witness cosigns this portal's checkpoints."""

    origin = models.CharField(_("origin"), max_length=255, unique=True, validators=[validate_origin])
    url = models.URLField(_("URL"), max_length=300, validators=[validate_peer_url])
    log_key = models.CharField(_("log verifier key"), max_length=300, validators=[validate_log_key])
    witness_key = models.CharField(
        _("witness verifier key"), max_length=300, blank=True, validators=[validate_witness_key]
    )
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    ledger_fields = ("origin", "url", "log_key", "witness_key", "active")
    ledger_public_fields = ledger_fields

    class Meta:
        db_table = "ledger_peer"
        ordering = ["origin"]
        verbose_name = _("peer")
        verbose_name_plural = _("peers")

    def __str__(self):
        return self.origin


class PeerAnchor(models.Model):
    """Anchoring state per peer: what it last cosigned for us and when to try again.

    Kept apart from Peer so that every attempt does not write a ledger entry.
    """

    peer = models.OneToOneField(Peer, on_delete=models.CASCADE, related_name="anchor", primary_key=True)
    cosigned_size = models.BigIntegerField(_("last cosigned size"), default=0)
    failures = models.IntegerField(_("failures in a row"), default=0)
    next_attempt = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_success = models.DateTimeField(_("last success"), null=True, blank=True)

    class Meta:
        db_table = "ledger_peer_anchor"
        verbose_name = _("peer anchoring")
        verbose_name_plural = _("peer anchoring")

    def __str__(self):
        return f"{self.peer_id}: {self.cosigned_size}"


class WitnessedCheckpoint(models.Model):
    """As witness: the newest checkpoint this portal cosigned for a peer's log (one row per origin)."""

    origin = models.CharField(_("origin"), max_length=255, unique=True)
    size = models.BigIntegerField(_("tree size"))
    root = models.BinaryField(_("root hash"))
    note = models.TextField(_("signed checkpoint"))
    cosignature = models.TextField(_("cosignature"))
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "ledger_witnessed_checkpoint"
        verbose_name = _("witnessed checkpoint")
        verbose_name_plural = _("witnessed checkpoints")

    def __str__(self):
        return f"{self.origin} {self.size}"


class Cosignature(models.Model):
    """A peer witness's cosignature/v1 line over one of this portal's checkpoints (verified)."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="cosignatures")
    tree_size = models.BigIntegerField(_("tree size"))
    line = models.TextField(_("cosignature line"))
    timestamp = models.BigIntegerField(_("cosignature time"))
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "ledger_cosignature"
        constraints = [models.UniqueConstraint(fields=["peer", "tree_size"], name="ledger_cosignature_once")]
        indexes = [models.Index(fields=["tree_size"], name="ledger_cosignature_size")]
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")

    def __str__(self):
        return f"{self.peer_id} @ {self.tree_size}"


class Alarm(models.Model):
    """Evidence that a log or witness misbehaved: a fork, a rollback, a root we never signed."""

    kind = models.CharField(_("kind"), max_length=40)
    origin = models.CharField(_("origin"), max_length=255, blank=True)
    message = models.TextField(_("message"))
    evidence = models.TextField(_("evidence"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    acknowledged = models.BooleanField(_("acknowledged"), default=False)

    class Meta:
        db_table = "ledger_alarm"
        ordering = ["-created", "-id"]
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")

    def __str__(self):
        return f"{self.kind} {self.origin}"


class RestoreAcknowledgement(LedgeredModel):
    """An operator's acknowledgement that the database's ledger is behind (or other than) the tree
    this portal had signed, e.g. after restoring a backup: the lost head stays in the ledger."""

    reason = models.TextField(_("reason"), max_length=2000)
    signed_size = models.BigIntegerField(_("tree size signed before"))
    signed_root = models.CharField(_("root signed before"), max_length=64)
    database_size = models.BigIntegerField(_("tree size in the database"))
    database_root = models.CharField(_("root in the database"), max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    ledger_fields = ("reason", "signed_size", "signed_root", "database_size", "database_root")
    ledger_public_fields = ("signed_size", "signed_root", "database_size", "database_root")

    class Meta:
        db_table = "ledger_restore_acknowledgement"
        verbose_name = _("restore acknowledgement")
        verbose_name_plural = _("restore acknowledgements")

    def __str__(self):
        return f"restore from tree size {self.signed_size} to {self.database_size}"


class MonitoredCheckpoint(models.Model):
    """As monitor: the newest checkpoint of a peer's log that this portal verified (one row per peer).

    Each new checkpoint the peer serves must be provably consistent with this one.
    """

    peer = models.OneToOneField(Peer, on_delete=models.CASCADE, related_name="monitored", primary_key=True)
    size = models.BigIntegerField(_("tree size"))
    root = models.BinaryField(_("root hash"))
    note = models.TextField(_("signed checkpoint"))
    checked = models.DateTimeField(_("last checked"), auto_now=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        db_table = "ledger_monitored_checkpoint"
        verbose_name = _("monitored checkpoint")
        verbose_name_plural = _("monitored checkpoints")

    def __str__(self):
        return f"{self.peer_id} {self.size}"


class LedgerCount(models.Model):
    """Sealed entries per day (in the portal's zone), actor's office or department, and kind:
    added to by each sealing run (ledger.counts), read by the transparency dashboard's charts."""

    day = models.DateField()
    office = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=100)
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "ledger_count"
        constraints = [models.UniqueConstraint(fields=["day", "office", "kind"], name="ledger_count_once")]

    def __str__(self):
        return f"{self.day} {self.office} {self.kind}: {self.count}"


class MirroredLog(models.Model):
    """As mirror: how much of a peer's log this portal holds, verified, as tiles (one row per peer).

    The tiles are files under LEDGER_MIRROR_DIR/<sha256 hex of the origin>/, in the tlog-tiles
    layout; `size`, `root` and `note` are the peer's checkpoint they were verified against.
    """

    peer = models.OneToOneField(Peer, on_delete=models.CASCADE, related_name="mirror", primary_key=True)
    size = models.BigIntegerField(_("tree size"), default=0)
    root = models.BinaryField(_("root hash"), default=b"")
    note = models.TextField(_("signed checkpoint"), blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        db_table = "ledger_mirrored_log"
        verbose_name = _("mirrored log")
        verbose_name_plural = _("mirrored logs")

    def __str__(self):
        return f"{self.peer_id} {self.size}"
