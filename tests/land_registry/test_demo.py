"""The demo data loads quickly, is idempotent, and its bulk history is in the ledger."""
import io
import time

import pytest

from land_registry import demo, selectors
from land_registry.models import Parcel, Registration, Right
from ledger.models import Entry

pytestmark = pytest.mark.django_db


def test_demo_loads_fast_idempotently_and_ledgered():
    started = time.monotonic()
    logins = demo.load(io.StringIO())
    assert time.monotonic() - started < 15
    assert {role for _, _, role in logins} == {"clerk", "citizen"}
    assert Parcel.objects.count() == 2 * demo.PARCELS_PER_OFFICE + 4  # two splits of one parcel each
    assert Right.objects.filter(kind="seizure", active=True).count() == 2
    assert Parcel.objects.filter(status="retired").count() == 2
    assert Registration.objects.filter(state="prepared").count() == 3
    from portal.models import User

    zhang = User.objects.get(username="citizen_zhang")
    assert selectors.parcels_of_citizen(zhang).count() >= 2
    assert len(selectors.consents_awaited(zhang)) == 1
    for model in (Parcel, Registration, Right):
        refs = set(model.objects.values_list("public_ref", flat=True))
        assert refs <= set(Entry.objects.values_list("ref", flat=True))
    count = Parcel.objects.count()
    demo.load(io.StringIO())
    assert Parcel.objects.count() == count
