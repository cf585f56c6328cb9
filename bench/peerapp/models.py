from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Fields(models.Model):
    """The fields of tests.ledgerapp's BenchPlain and BenchLedgered, so every variant does the same work."""

    name = models.CharField(max_length=100)
    number = models.CharField(max_length=40)
    status = models.CharField(max_length=20)
    valid_from = models.DateField()
    valid_until = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name


class BenchSimpleHistory(Fields):
    history = HistoricalRecords()

    def __str__(self):
        return self.name


class BenchAuditlog(Fields):
    def __str__(self):
        return self.name


auditlog.register(BenchAuditlog)

if "pghistory" in settings.INSTALLED_APPS:
    import pghistory

    @pghistory.track()
    class BenchPgHistory(Fields):
        def __str__(self):
            return self.name
