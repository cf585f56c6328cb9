"""A parcel's page, the parcel search and the proof API read what they show in a number of
queries that does not grow with the parcel's history."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.services import ledger_seal_all


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def transfer_back_and_forth(world, times: int) -> None:
    for n in range(times):
        new_owner = world.li if n % 2 == 0 else world.zhang
        world.register("transfer", [world.parcel], {"owners": [{"party": new_owner.public_ref}]})
        world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 1000 + n})


@pytest.mark.parametrize("path", ["parcel", "timeline", "search", "proof"])
def test_reads_do_not_grow_with_the_history(world, client, path):
    def url():
        size = ledger_seal_all()[-1].tree_size
        return {"parcel": f"/land/parcels/{world.parcel.public_ref}/",
                "timeline": f"/api/land/parcels/{world.parcel.public_ref}/timeline",
                "search": "/land/?q=X01",
                "proof": f"/api/ledger/proofs/inclusion?index={size // 2}&size={size}"}[path]

    transfer_back_and_forth(world, 1)
    short = queries(client, url())
    transfer_back_and_forth(world, 5)
    assert queries(client, url()) == short
