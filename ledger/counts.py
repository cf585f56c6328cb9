"""Counts of sealed entries per day (Asia/Shanghai), office or department, and kind, kept up to date
when a block is sealed, so that the transparency dashboard's charts never scan the entry table."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F

# In canonical JSON the actor object's keys are sorted, and "actor" is the first key named so: the
# office is read without parsing the whole entry (json.loads is the fallback).
_OFFICE = re.compile(rb'"actor":\{"id":"[^"\\]*","office":"([^"\\]*)"')


def office_of(data: bytes) -> str:
    found = _OFFICE.search(data)
    if found:
        return found.group(1).decode()
    try:
        return str(json.loads(data).get("actor", {}).get("office", ""))[:100]
    except (ValueError, AttributeError):
        return ""


def local_day(created) -> dt.date:
    """The entry's day in the portal's zone; SQLite gives the UTC time as text."""
    if isinstance(created, str):
        created = dt.datetime.fromisoformat(created)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return created.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def tally(rows: Iterable[tuple]) -> Counter:
    """(day, office, kind) -> entries, from (kind, created, data) rows."""
    return Counter((local_day(created), office_of(bytes(data)), kind) for kind, created, data in rows)


def add(counts: Counter, *, model=None) -> None:
    """Adds to the stored counts (inside the sealing transaction, which serializes sealers)."""
    if model is None:
        from ledger.models import LedgerCount as model
    manager = model.objects
    for (day, office, kind), n in counts.items():
        if not manager.filter(day=day, office=office, kind=kind).update(count=F("count") + n):
            manager.create(day=day, office=office, kind=kind, count=n)


def backfill(pages, count_model) -> None:
    """Counts every entry already sealed, from pages of (leaf index, kind, created, data) rows (the
    migration that adds the counts runs this once)."""
    for rows in pages:
        add(tally(row[1:] for row in rows), model=count_model)
