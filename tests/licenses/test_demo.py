import io

import pytest
from django.db import transaction

from licenses import demo
from licenses.models import Licence, LicenceStatus

pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_with_licences_in_every_state():
    with transaction.atomic():
        logins = demo.load(io.StringIO())
    with transaction.atomic():
        assert demo.load(io.StringIO()) == logins
    assert {role.split(" ")[0].rstrip(",") for _user, _pw, role in logins} == {"citizen", "clerk", "department"}
    assert Licence.objects.count() == 6
    assert set(Licence.objects.values_list("status", flat=True)) == set(LicenceStatus.values)


def test_every_records_state_matches_its_newest_ledger_commitment():
    """What verify_ledger checks: reloaded from the database, each record re-derives its commitment."""
    import json

    from ledger.models import Entry
    from ledger.recorder import salt_key, state_of
    from licenses.models import Authorisation, Department, LicenceType, Share, UsageRecord

    with transaction.atomic():
        demo.load(io.StringIO())
    checked = 0
    for model in (Department, LicenceType, Licence, Share, Authorisation, UsageRecord):
        for obj in model.objects.all():
            entry = Entry.objects.filter(ref=obj.public_ref).order_by("-id").first()
            state, public = state_of(obj, salt_key(bytes(entry.salt_seed), entry.pk))
            data = json.loads(bytes(entry.data))
            assert (state, public) == (data["state"], data["public"]), (model, obj.public_ref)
            checked += 1
    assert checked > 15
