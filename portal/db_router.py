"""Reads that need not be fresh to the millisecond go to a streaming replica (DATABASE_REPLICA_URL).

Only a request that cannot have written anything the visitor expects to see again is served from
the replica: GET or HEAD, with no session cookie and no Authorization header (the public pages, the
proof API, the checkpoint). Everything else, and any read inside a transaction, stays on the primary.
A public ledger answer the replica cannot give yet (a size or an entry it has not replayed) is asked
of the primary again (ledger.api.PublicLedgerView), so a lagging replica is never a wrong answer.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def reading_replica() -> bool:
    return _replica_reads.get() and replica_configured()


@contextmanager
def replica_reads(enabled: bool = True):
    token = _replica_reads.set(enabled)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def primary():
    return replica_reads(False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if reading_replica() and not connections["default"].in_atomic_block:
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"  # the replica follows the primary's WAL


class ReplicaReadsMiddleware:
    """Marks anonymous GET and HEAD requests as servable from the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        anonymous_read = (request.method in ("GET", "HEAD")
                          and settings.SESSION_COOKIE_NAME not in request.COOKIES
                          and "HTTP_AUTHORIZATION" not in request.META)
        with replica_reads(anonymous_read and replica_configured()):
            return self.get_response(request)
