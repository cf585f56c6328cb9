"""Models for tests and benchmarks only: every kind of field the recorder must handle."""
from django.db import models

from ledger.models import LedgeredModel, new_public_ref


class Office(models.Model):
    code = models.CharField(max_length=20, unique=True)

    def __str__(self):
        return self.code


class Tag(LedgeredModel):
    name = models.CharField(max_length=50)

    ledger_fields = ("name",)
    ledger_public_fields = ("name",)


class Record(LedgeredModel):
    title = models.CharField(max_length=100)
    secret = models.CharField(max_length=100, blank=True)
    amount = models.IntegerField(default=0)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="records")
    note = models.CharField(max_length=100, blank=True)  # not ledgered

    ledger_fields = ("title", "secret", "amount", "office", "tags")
    ledger_public_fields = ("title",)


class Child(LedgeredModel):
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="children")
    label = models.CharField(max_length=50)

    ledger_fields = ("record", "label")


class BenchLedgered(LedgeredModel):
    name = models.CharField(max_length=100)
    number = models.CharField(max_length=40)
    status = models.CharField(max_length=20)
    valid_from = models.DateField()
    valid_until = models.DateField()
    count = models.IntegerField(default=0)

    def __str__(self):
        return self.name

    ledger_fields = ("name", "number", "status", "valid_from", "valid_until", "count")
    ledger_public_fields = ("status",)


class BenchPlain(models.Model):
    """The same model as BenchLedgered, without the ledger: the benchmark's baseline."""

    public_ref = models.CharField(max_length=32, unique=True, default=new_public_ref, editable=False)
    name = models.CharField(max_length=100)
    number = models.CharField(max_length=40)
    status = models.CharField(max_length=20)
    valid_from = models.DateField()
    valid_until = models.DateField()
    count = models.IntegerField(default=0)

    def __str__(self):
        return self.name
