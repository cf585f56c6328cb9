"""Presentations: the chosen claims verify against the sealed ledger; anything altered fails."""
import base64
import json

import pytest

from ledger import keys
from ledger.disclosure import DisclosureError
from ledger.services import ledger_seal
from ledger.tlog.commitment import disclosure, open_disclosure
from licenses import services
from licenses.verification import check_presentation, presentation_for

pytestmark = pytest.mark.django_db


def key():
    return keys.signer().verifier_key


def test_chosen_claims_verify_and_the_others_stay_hidden(alice_driving, driving):
    ledger_seal()
    presentation = presentation_for(alice_driving, ["number", "vehicle_class"])
    checked = check_presentation(json.loads(json.dumps(presentation)), key())  # survives JSON transport
    assert checked.fields == {"number": "D-0001", "vehicle_class": "C1"}
    assert checked.status == "valid" and checked.licence_type == driving.public_ref
    assert checked.ref == alice_driving.public_ref
    text = json.dumps(presentation, ensure_ascii=False)
    assert "110101199003076544" not in text and "王丽华" not in text and "1990-03-07" not in text


def test_a_changed_value_or_swapped_claim_fails(alice_driving):
    ledger_seal()
    presentation = presentation_for(alice_driving, ["vehicle_class", "number"])
    salt, name, _value = open_disclosure(presentation["claims"]["vehicle_class"])
    forged = json.loads(json.dumps(presentation))
    forged["claims"]["vehicle_class"] = disclosure(salt, name, "A1")
    with pytest.raises(DisclosureError, match="vehicle_class.*does not match"):
        check_presentation(forged, key())
    swapped = json.loads(json.dumps(presentation))
    swapped["claims"]["vehicle_class"] = presentation["claims"]["number"]
    with pytest.raises(DisclosureError, match="disclosure is for number"):
        check_presentation(swapped, key())


def test_a_forged_entry_or_another_licence_or_another_key_fails(alice_driving, bob_driving):
    ledger_seal()
    presentation = presentation_for(alice_driving, ["number"])
    forged = json.loads(json.dumps(presentation))
    entry = json.loads(base64.b64decode(forged["bundle"]["entry"]))
    entry["public"]["status"] = "valid-forever"
    forged["bundle"]["entry"] = base64.b64encode(json.dumps(entry).encode()).decode()
    with pytest.raises(DisclosureError, match="not in the signed tree"):
        check_presentation(forged, key())
    other = json.loads(json.dumps(presentation))
    other["ref"] = bob_driving.public_ref
    with pytest.raises(DisclosureError, match="not the current state"):
        check_presentation(other, key())
    other_key = keys.note.generate_key("someone.else/portal")[1]
    with pytest.raises(DisclosureError):
        check_presentation(presentation, other_key)


def test_unsealed_newest_entry_has_no_proof_and_revocation_shows_once_sealed(alice_driving):
    presentation = presentation_for(alice_driving, ["number"])
    assert presentation["bundle"] is None
    with pytest.raises(DisclosureError, match="not sealed"):
        check_presentation(presentation, key())
    ledger_seal()
    services.licence_revoke(licence=alice_driving, reason="court order")
    alice_driving.refresh_from_db()
    assert presentation_for(alice_driving, ["number"])["bundle"] is None
    ledger_seal()
    assert check_presentation(presentation_for(alice_driving, ["number"]), key()).status == "revoked"


def test_renewal_reseals_claims_and_the_new_dates_verify(alice_driving):
    import datetime as dt

    new_end = alice_driving.valid_until + dt.timedelta(days=10)
    services.licence_renew(licence=alice_driving, valid_until=new_end, reason="renewal")
    alice_driving.refresh_from_db()
    ledger_seal()
    checked = check_presentation(presentation_for(alice_driving, ["valid_until"]), key())
    assert checked.fields == {"valid_until": new_end.isoformat()}


def test_a_field_added_to_the_type_later_is_not_offered_until_committed(alice_driving, driving):
    driving.fields = [*driving.fields, {"name": "organ_donor", "label": "Organ donor", "personal": True}]
    driving.save()
    alice_driving.refresh_from_db()
    with pytest.raises(services.LicenceError, match="Unknown fields: organ_donor"):
        services.share_create(licence=alice_driving, fields=["organ_donor"], expires_at=_soon(), purpose="p")
    services.licence_suspend(licence=alice_driving, reason="r")  # any change re-commits every claim
    services.licence_reinstate(licence=alice_driving, reason="r")
    alice_driving.refresh_from_db()
    share, _ = services.share_create(licence=alice_driving, fields=["organ_donor"], expires_at=_soon(), purpose="p")
    ledger_seal()
    assert check_presentation(presentation_for(alice_driving, share.fields), key()).fields["organ_donor"] == ""


def _soon():
    from tests.licenses.conftest import in_days

    return in_days(1)
