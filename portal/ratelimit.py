"""Atomic hit counters for rate limits: Redis INCR when Redis is the cache, a database row otherwise."""
from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone


def _redis_cache() -> bool:
    return type(cache).__name__ == "RedisCache"


def count_hit(key: str, seconds: int) -> int:
    """Counts one hit of `key` in its current window of `seconds`; returns the hits so far in it."""
    if _redis_cache():
        cache.add(key, 0, seconds)  # SET NX with expiry, then INCR: both atomic in Redis
        try:
            return cache.incr(key)
        except ValueError:  # the window ended between the two
            cache.add(key, 0, seconds)
            return cache.incr(key)
    return _count_in_database(key, seconds)


@transaction.atomic
def _count_in_database(key: str, seconds: int) -> int:
    from portal.models import RateCounter

    now = timezone.now()
    # The UPDATE holds the row lock until commit, so concurrent hits queue and each sees its own count.
    if not RateCounter.objects.filter(key=key, expires_at__gt=now).update(count=F("count") + 1):
        RateCounter.objects.filter(key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=key, count=1, expires_at=now + dt.timedelta(seconds=seconds))
            return 1
        except IntegrityError:  # another hit created the window first
            RateCounter.objects.filter(key=key).update(count=F("count") + 1)
    return RateCounter.objects.get(key=key).count
