"""The registry's rules and workflow, through the services, with the ledger entries they write."""
import hashlib
import json

import pytest
from django.core import mail

from land_registry import selectors, services
from land_registry.models import Consent, Notice, Parcel, Registration, Right, SourceDocument
from land_registry.services import RegistrationRefused
from ledger.actor import pseudonym
from ledger.disclosure import check_bundle, disclosures_for, proof_bundle
from ledger.keys import signer
from ledger.models import Entry
from ledger.services import ledger_seal

pytestmark = pytest.mark.django_db


def entries(obj):
    return [json.loads(bytes(e.data)) for e in Entry.objects.filter(ref=obj.public_ref).order_by("id")]


def owners(parcel):
    return sorted((r.holder.name, r.share_display) for r in selectors.active_rights(parcel, "ownership"))


def prepare(world, kind, parcels, payload, clerk=None, **kwargs):
    return services.registration_prepare(clerk=clerk or world.maker, office=world.x, kind=kind,
                                         parcels=parcels, payload=payload, reason="依申请", **kwargs)


def test_first_registration_changes_nothing_until_a_second_clerk_approves(world):
    registration = prepare(world, "first_registration", [], {
        "parcel": {"number": "X01-0100", "location": "和平里 9 号", "area_m2": 120, "land_use": "commercial"},
        "owners": [{"party": world.zhang.public_ref, "share": "1/2"},
                   {"party": world.li.public_ref, "share": "1/2"}]})
    assert not Parcel.objects.filter(number="X01-0100").exists()
    services.registration_approve(clerk=world.checker, registration=registration)
    parcel = Parcel.objects.get(number="X01-0100")
    assert owners(parcel) == [("张伟", "1/2"), ("李娜", "1/2")]
    assert registration.parcels.get() == parcel and registration.parcel_numbers == "X01-0100"


def test_nobody_approves_their_own_and_only_clerks_of_the_office_decide(world):
    registration = prepare(world, "mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 1})
    with pytest.raises(RegistrationRefused, match="second clerk"):
        services.registration_approve(clerk=world.maker, registration=registration)
    with pytest.raises(RegistrationRefused, match="not a clerk of office X01"):
        services.registration_approve(clerk=world.clerk_y, registration=registration)
    with pytest.raises(RegistrationRefused, match="not a clerk of office X01"):
        services.registration_reject(clerk=world.citizen_a, registration=registration)
    with pytest.raises(RegistrationRefused, match="not a clerk of office Y01"):
        services.registration_prepare(clerk=world.maker, office=world.y, kind="mortgage",
                                      parcels=[world.parcel_y], payload={}, reason="x")
    services.registration_reject(clerk=world.checker, registration=registration, note="材料不全")
    with pytest.raises(RegistrationRefused, match="already"):
        services.registration_approve(clerk=world.checker, registration=registration)
    assert not selectors.active_rights(world.parcel, "mortgage").exists()


def test_no_transfer_while_seized_and_approval_rechecks_the_register(world):
    transfer = prepare(world, "transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]})
    seizure = world.register("seizure", [world.parcel], {"holder": world.court.public_ref})
    services.consent_give(user=world.citizen_a, registration=transfer)
    with pytest.raises(RegistrationRefused, match="seized"):
        services.registration_approve(clerk=world.checker, registration=transfer)
    with pytest.raises(RegistrationRefused, match="release of the seizure"):
        prepare(world, "transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]})
    seized = seizure.rights.get()
    world.register("seizure_release", [world.parcel], {"right": seized.public_ref})
    services.registration_approve(clerk=world.checker, registration=transfer)
    assert owners(world.parcel) == [("李娜", "1/1")]
    old = Right.objects.get(parcel=world.parcel, holder=world.zhang)
    assert not old.active and old.ended_by == transfer and old.ended_at is not None


def test_no_discharge_of_a_mortgage_that_does_not_exist(world):
    with pytest.raises(RegistrationRefused, match="no active mortgage .* nothing to discharge"):
        prepare(world, "discharge", [world.parcel], {"right": "nosuchright"})
    mortgage = world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref,
                                                           "amount": 1_000_000}).rights.get()
    assert mortgage.amount == 1_000_000
    world.register("discharge", [world.parcel], {"right": mortgage.public_ref})
    mortgage.refresh_from_db()
    assert not mortgage.active
    with pytest.raises(RegistrationRefused, match="nothing to discharge"):
        prepare(world, "discharge", [world.parcel], {"right": mortgage.public_ref})


@pytest.mark.parametrize("shares, message", [
    (["1/2", "1/3"], "add up to 5/6"), (["2/3", "2/3"], "add up to 4/3"), (["x", "1"], "not a fraction"),
])
def test_owner_shares_must_add_up_to_one(world, shares, message):
    payload = {"owners": [{"party": world.zhang.public_ref, "share": shares[0]},
                          {"party": world.li.public_ref, "share": shares[1]}]}
    with pytest.raises(RegistrationRefused, match=message):
        prepare(world, "transfer", [world.parcel], payload)


def test_split_retires_the_parcel_and_the_parts_remember_their_parent(world):
    mortgage = world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 5})
    with pytest.raises(RegistrationRefused, match="add up to 400 m²"):
        prepare(world, "split", [world.parcel], {"parts": [
            {"number": "X01-0001-1", "location": "北", "area_m2": 200},
            {"number": "X01-0001-2", "location": "南", "area_m2": 200}]})
    split = world.register("split", [world.parcel], {"parts": [
        {"number": "X01-0001-1", "location": "北", "area_m2": 300},
        {"number": "X01-0001-2", "location": "南", "area_m2": 200}]})
    world.parcel.refresh_from_db()
    assert world.parcel.status == "retired"
    assert not selectors.active_rights(world.parcel).exists()
    parts = Parcel.objects.filter(parents=world.parcel).order_by("number")
    assert [p.number for p in parts] == ["X01-0001-1", "X01-0001-2"]
    for part in parts:
        assert part.parent_numbers == "X01-0001"
        assert owners(part) == [("张伟", "1/1")]
        assert selectors.active_rights(part, "mortgage").get().amount == mortgage.rights.get().amount
    assert set(split.parcels.values_list("number", flat=True)) == {"X01-0001", "X01-0001-1", "X01-0001-2"}
    assert selectors.lineage(parts[0])["ancestors"][0]["parcel"] == world.parcel
    with pytest.raises(RegistrationRefused, match="retired .* cannot be transferred"):
        prepare(world, "transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]})
    with pytest.raises(RegistrationRefused, match="already registered"):
        prepare(world, "split", [parts[0]], {"parts": [
            {"number": "X01-0001-2", "location": "a", "area_m2": 100},
            {"number": "X01-0001-9", "location": "b", "area_m2": 200}]})


def test_merge_needs_the_same_owners_and_sums_the_areas(world):
    other = world.first(world.x, "X01-0002", "和平里北街 5 号", 300, [(world.li, "1")])
    with pytest.raises(RegistrationRefused, match="same owners"):
        prepare(world, "merge", [world.parcel, other], {"parcel": {"number": "X01-0003", "location": "合"}})
    world.register("transfer", [other], {"owners": [{"party": world.zhang.public_ref}]})
    world.register("merge", [world.parcel, other], {"parcel": {"number": "X01-0003", "location": "合"}})
    merged = Parcel.objects.get(number="X01-0003")
    assert merged.area_m2 == 800 and merged.parent_numbers == "X01-0001 X01-0002"
    assert set(merged.parents.all()) == {world.parcel, other}
    assert owners(merged) == [("张伟", "1/1")]
    assert Parcel.objects.filter(status="retired").count() == 2


def test_correction_is_a_new_fact_pointing_to_what_it_corrects(world):
    world.register("transfer", [world.parcel], {"owners": [
        {"party": world.zhang.public_ref, "share": "1/2"}, {"party": world.li.public_ref, "share": "1/2"}]})
    wrong = Right.objects.get(parcel=world.parcel, holder=world.li, active=True)
    with pytest.raises(RegistrationRefused, match="add up to 3/4"):
        prepare(world, "correction", [world.parcel], {"right": wrong.public_ref, "share": "1/4"})
    world.register("correction", [world.parcel], {"right": wrong.public_ref, "legal_date": "2021-05-06"})
    corrected = Right.objects.get(corrects=wrong)
    wrong.refresh_from_db()
    assert not wrong.active and corrected.active and str(corrected.legal_date) == "2021-05-06"
    assert list(selectors.parcel_history(world.parcel)).count(wrong) == 1


def test_every_step_is_a_ledger_entry_with_the_clerk_as_actor(world):
    registration = prepare(world, "lease", [world.parcel], {"holder": world.li.public_ref},
                           documents=[("租赁合同.pdf", b"%PDF lease contract")])
    services.registration_approve(clerk=world.checker, registration=registration)
    rejected = prepare(world, "caveat", [world.parcel], {"holder": world.li.public_ref})
    services.registration_reject(clerk=world.checker, registration=rejected)
    steps = entries(registration)
    assert [s["action"] for s in steps] == ["registration.prepare", "registration.prepare",
                                            "registration.approve"]
    assert steps[0]["actor"] == {"id": pseudonym(world.maker.pk), "office": "X01", "role": "clerk"}
    assert steps[-1]["actor"]["id"] == pseudonym(world.checker.pk)
    assert steps[-1]["public"]["state"] == "approved" and steps[-1]["public"]["kind"] == "lease"
    assert [s["public"]["state"] for s in entries(rejected)][-1] == "rejected"
    assert entries(rejected)[-1]["action"] == "registration.reject"
    lease = registration.rights.get()
    assert entries(lease)[0]["action"] == "registration.approve"
    assert entries(lease)[0]["public"]["registration"] == registration.public_ref
    # The document's SHA-256 is committed; anyone given the disclosure can check it against the log.
    document = SourceDocument.objects.get(registration=registration)
    assert document.sha256 == hashlib.sha256(b"%PDF lease contract").hexdigest()
    assert document.file.read() == b"%PDF lease contract"
    ledger_seal()
    entry, disclosed = disclosures_for(document, ["sha256"])
    checked = check_bundle(proof_bundle(entry), disclosed, signer().verifier_key)
    assert checked.fields == {"sha256": document.sha256}


def test_consent_of_the_owners_is_awaited_when_required(world):
    registration = prepare(world, "transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]})
    assert selectors.consents_awaited(world.citizen_a) == [(registration, world.zhang)]
    assert selectors.consents_awaited(world.citizen_b) == []
    with pytest.raises(RegistrationRefused, match="not yet consented"):
        services.registration_approve(clerk=world.checker, registration=registration)
    with pytest.raises(RegistrationRefused, match="Only an owner"):
        services.consent_give(user=world.citizen_b, registration=registration)
    services.consent_give(user=world.citizen_a, registration=registration)
    assert Consent.objects.get().party == world.zhang
    assert entries(Consent.objects.get())[0]["actor"]["role"] == "citizen"
    services.registration_approve(clerk=world.checker, registration=registration)
    assert owners(world.parcel) == [("李娜", "1/1")]


def test_followers_are_notified_of_each_registered_event(world, django_capture_on_commit_callbacks):
    services.parcel_follow(user=world.citizen_a, parcel=world.parcel)
    services.parcel_follow(user=world.citizen_b, parcel=world.parcel)
    registration = prepare(world, "caveat", [world.parcel], {"holder": world.li.public_ref})
    assert not Notice.objects.exists()  # a prepared registration is not yet an event
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_approve(clerk=world.checker, registration=registration)
    assert {n.user for n in Notice.objects.all()} == {world.citizen_a, world.citizen_b}
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert "X01-0001" in mail.outbox[0].subject


def test_bad_payloads_are_refused_with_a_message(world):
    cases = [
        ("mortgage", [world.parcel], {"holder": world.bank.public_ref}, "secured amount"),
        ("mortgage", [world.parcel], {"holder": "nobody", "amount": 3}, "No party"),
        ("transfer", [world.parcel, world.parcel], {}, "exactly one parcel"),
        ("transfer", [world.parcel_y], {}, "another office"),
        ("first_registration", [], {"parcel": {"number": "X01-0001", "location": "a", "area_m2": 1},
                                    "owners": [{"party": world.zhang.public_ref}]}, "already registered"),
        ("first_registration", [], {"parcel": {"number": "N", "location": "a", "area_m2": 1.5}}, "whole number"),
        ("seizure_release", [world.parcel], {"right": "x"}, "nothing to release"),
        ("correction", [world.parcel], {"right": world.parcel.rights.get().public_ref}, "Say what to correct"),
        ("nonsense", [], {}, "Unknown kind"),
    ]
    for kind, parcels, payload, message in cases:
        with pytest.raises(RegistrationRefused, match=message):
            prepare(world, kind, parcels, payload)
    assert Registration.objects.filter(state="prepared").count() == 0


def test_no_personal_data_in_the_ledger(world):
    """Every entry written by these flows is scanned for the personal values the world created."""
    registration = prepare(world, "transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]},
                           documents=[("合同", b"contract")])
    services.consent_give(user=world.citizen_a, registration=registration)
    services.registration_approve(clerk=world.checker, registration=registration)
    world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 9})
    ledger_seal()
    personal = ["张伟", "李娜", "王芳", "110101199003076544", "110101198512120027", "11010219770101003X",
                "和平里1号", "安定门5号", "金融街8号", "citizena", "citizenb", "maker", "checker",
                "a@example.org"]
    blob = b"\n".join(bytes(e.data) for e in Entry.objects.all()).decode()
    assert Entry.objects.count() > 30
    for value in personal:
        assert value not in blob, value
