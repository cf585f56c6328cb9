"""The demo data loads quickly, is idempotent, and its bulk history is in the ledger."""
import io

import pytest

from land_registry import demo, selectors
from land_registry.models import Parcel, Party, Registration, Right
from ledger.models import Entry
from portal import idnumber

pytestmark = pytest.mark.django_db


def test_demo_loads_idempotently_and_ledgered():
    logins = demo.load(io.StringIO())
    assert {role for _, _, role in logins} == {"clerk", "citizen"}
    assert Parcel.objects.count() == 2 * demo.PARCELS_PER_OFFICE + 4  # two splits of one parcel each
    assert Right.objects.filter(kind="seizure", active=True).count() == 2
    assert Parcel.objects.filter(status="retired").count() == 2
    assert Registration.objects.filter(state="prepared").count() == 3
    from portal.models import User

    zhang = User.objects.get(username="citizen_zhang")
    assert selectors.parcels_of_citizen(zhang).count() >= 2
    assert len(selectors.consents_awaited(zhang)) == 1
    # Each demo citizen claimed their party in both offices; no other party is linked to an account.
    assert set(Party.objects.filter(user=zhang).values_list("office__code", flat=True)) == {"DC01", "XC01"}
    assert Party.objects.filter(user__isnull=False).count() == 4
    assert all(idnumber.problem(p.id_number) is None for p in Party.objects.filter(kind="person"))
    # Every approved transfer or mortgage made through the workflow has the owner's consent.
    for registration in Registration.objects.filter(kind__in=["transfer", "mortgage"], state="approved") \
            .exclude(reason="历史档案导入"):
        assert registration.consent_required and registration.consents.exists()
    for model in (Parcel, Registration, Right):
        refs = set(model.objects.values_list("public_ref", flat=True))
        assert refs <= set(Entry.objects.values_list("ref", flat=True))
    count = Parcel.objects.count()
    demo.load(io.StringIO())
    assert Parcel.objects.count() == count
