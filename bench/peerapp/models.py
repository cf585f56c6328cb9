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


class BenchSimpleHistory(Fields):
    history = HistoricalRecords()


class BenchAuditlog(Fields):
    pass


auditlog.register(BenchAuditlog)

if "pghistory" in settings.INSTALLED_APPS:
    import pghistory

    @pghistory.track()
    class BenchPgHistory(Fields):
        pass
