"""Counts for the dashboard's charts: kept at seal time, equal to the entries, read without a scan."""
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from land_registry import services as land_services
from land_registry.models import PartyKind
from ledger import counts, services
from ledger.models import Entry, LedgerCount
from ledger.verification import sealed_entry_pages

pytestmark = pytest.mark.django_db


def stored() -> Counter:
    return Counter({(c.day, c.office, c.kind): c.count for c in LedgerCount.objects.all()})


def test_sealing_counts_every_entry_by_day_office_and_kind(world):
    sealed = Entry.objects.filter(leaf__isnull=False)
    assert sum(stored().values()) == sealed.count() > 0
    by_kind = Counter()
    for (_day, _office, kind), n in stored().items():
        by_kind[kind] += n
    assert by_kind == Counter(sealed.values_list("kind", flat=True))
    offices = {office for _day, office, _kind in stored()}
    assert {"X01", "Y01"} <= offices  # the clerks' offices, from the entries' actors


def test_a_second_block_adds_to_the_counts(world):
    before = sum(stored().values())
    land_services.party_create(office=world.x, kind=PartyKind.ORGANISATION, name="东城区档案馆")
    services.ledger_seal_all()
    assert sum(stored().values()) == Entry.objects.filter(leaf__isnull=False).count() > before


def test_backfill_counts_the_same_as_sealing(world):
    at_seal = stored()
    LedgerCount.objects.all().delete()
    counts.backfill(sealed_entry_pages("e.kind, e.created, e.data"), LedgerCount)
    assert stored() == at_seal


def test_office_is_read_from_the_actor_not_from_a_field_named_office(world):
    parcel_entry = Entry.objects.filter(kind="land_registry.parcel").first()
    assert counts.office_of(bytes(parcel_entry.data)) == "X01"
    assert counts.office_of(b'{"actor":{"id":"x","office":"","role":"system"},"public":{"office":"Y"}}') == ""


def test_stats_endpoint_gives_the_last_30_days_in_words(client, world):
    stats = client.get("/api/ledger/stats", HTTP_ACCEPT_LANGUAGE="en").json()
    assert len(stats["days"]) == 30
    assert stats["total"] == Entry.objects.filter(leaf__isnull=False).count()
    labels = {s["label"] for s in stats["by_kind"]}
    assert "Parcel" in labels and not any("." in label for label in labels)
    assert "X01" in {s["label"] for s in stats["by_office"]}
    assert len(client.get("/api/ledger/stats", {"days": 7}).json()["days"]) == 7


@pytest.mark.parametrize("days", ["0", "367", "abc", "-1", "1\x00", "9" * 30, "١٢", ""])
def test_stats_refuses_bad_days_with_400(client, days):
    response = client.get("/api/ledger/stats", {"days": days})
    assert response.status_code == 400
    assert response.json()["detail"]  # says why (the NUL is refused before the view, by the middleware)


def test_dashboard_and_stats_do_not_scan_the_entry_table(client, world):
    for url in ["/transparency/", "/api/ledger/stats", "/api/transparency/latest"]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        for query in queries.captured_queries:
            sql = query["sql"]
            if '"ledger_entry"' in sql:
                assert "LIMIT" in sql and "COUNT(" not in sql.upper(), (url, sql)


def test_a_second_visitor_within_seconds_costs_no_ledger_query(client, world):
    client.get("/transparency/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/transparency/").content.decode()
    assert "data-live=\"size\"" in html
    assert not [q["sql"] for q in queries.captured_queries if "ledger_" in q["sql"]]
