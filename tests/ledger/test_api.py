"""The public ledger API and checkpoint: anyone may read; bad parameters get a clear 400."""
import base64

import pytest

from ledger import keys, services
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle, note
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed():
    for i in range(5):
        Record.objects.create(title=f"r{i}")
    services.ledger_seal()
    for i in range(3):
        Record.objects.create(title=f"s{i}")
    services.ledger_seal()


def b(value):
    return base64.b64decode(value)


def test_checkpoint_is_a_signed_c2sp_note_in_plain_text(client, sealed):
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    checkpoint = tcheckpoint.open_checkpoint(response.content.decode(), note.Verifier(keys.signer().verifier_key))
    assert checkpoint.size == 9  # eight records and the signing key's registration
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


def test_checkpoint_before_anything_is_sealed_is_404(client):
    assert client.get("/ledger/checkpoint").status_code == 404


def test_entry_inclusion_and_consistency_verify_for_an_anonymous_client(client, sealed):
    entry = client.get("/api/ledger/entries/6").json()
    assert b(entry["leaf_hash"]) == merkle.leaf_hash(b(entry["data"]))
    assert "salt" not in str(entry)
    proof = client.get("/api/ledger/proofs/inclusion", {"index": 6, "size": 9}).json()
    merkle.verify_inclusion(b(entry["leaf_hash"]), 6, 9, [b(p) for p in proof["proof"]], b(proof["root"]))
    first = client.get("/api/ledger/blocks/0").json()
    second = client.get("/api/ledger/blocks/1").json()
    consistency = client.get("/api/ledger/proofs/consistency", {"old": first["tree_size"], "new": 9}).json()
    merkle.verify_consistency(first["tree_size"], 9, b(first["tree_root"]), b(second["tree_root"]),
                              [b(p) for p in consistency["proof"]])


@pytest.mark.parametrize("url,params,message", [
    ("/api/ledger/proofs/inclusion", {"index": "x", "size": 10}, "valid integer"),
    ("/api/ledger/proofs/inclusion", {"size": 10}, "required"),
    ("/api/ledger/proofs/inclusion", {"index": 10, "size": 10}, "index must be in [0, size)"),
    ("/api/ledger/proofs/inclusion", {"index": 0, "size": 8}, "not a sealed tree size"),
    ("/api/ledger/proofs/inclusion", {"index": -1, "size": 10}, "greater than or equal to 0"),
    ("/api/ledger/proofs/consistency", {"old": 10, "new": 6}, "need 1 <= old <= new"),
    ("/api/ledger/proofs/consistency", {"old": 0, "new": 6}, "greater than or equal to 1"),
    ("/api/ledger/entries/99", {}, "no sealed entry at index 99"),
    ("/api/ledger/blocks/9", {}, "no block at height 9"),
])
def test_bad_parameters_get_400_saying_what_is_wrong(client, sealed, url, params, message):
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in str(response.json())


def test_schema_lists_the_ledger_endpoints(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert b"/api/ledger/proofs/inclusion" in response.content


def test_errors_are_in_chinese_by_default(client, sealed):
    response = client.get("/api/ledger/blocks/9")
    assert response.status_code == 400 and "高度" in response.json()["detail"]
