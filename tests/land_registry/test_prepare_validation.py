"""What a registration's approval would choke on is refused when it is prepared, in the admin's own form, with
a message naming the problem and nothing written; and what is accepted can be approved, at the columns' limits."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from land_registry import selectors, services
from land_registry.models import Party, PartyChange, Registration, Right, SourceDocument
from tests.land_registry.typed import typed_fields

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:land_registry_{name}", args=args)


@pytest.fixture
def maker(client, world):
    client.force_login(world.maker)
    return client


def post(client, world, kind, payload, on=None, **extra):
    data = {"office": world.x.pk, "kind": kind, "parcels": [p.pk for p in (world.parcel,) if on is None],
            **typed_fields(kind, payload), "legal_date": "2024-03-01", "reason": "依申请", "document_title_1": "合同",
            "document_1": SimpleUploadedFile("c.pdf", b"%PDF contract")}
    return client.post(url("registration_add"), {**data, **extra})


def form_errors(response) -> str:
    """The form's errors; or, for what no form should ever see (NUL, numbers past 64 bits), the
    portal's 400 page from MalformedRequestMiddleware."""
    if response.status_code == 400:
        return response.content.decode()
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def first(number="X01-0100", location="和平里", area=100, owners=None, world=None):
    return {"parcel": {"number": number, "location": location, "area_m2": area},
            "owners": owners or [{"party": world.zhang.public_ref}]}


def cases(world):
    bank, zhang, li = world.bank.public_ref, world.zhang.public_ref, world.li.public_ref
    return [
        ("mortgage", {"holder": bank, "amount": 2**64}, "past 64 bits"),  # the portal's 400, before the form
        ("mortgage", {"holder": bank, "amount": 10**15}, "less than or equal to 100000000000000"),
        ("mortgage", {"holder": bank, "amount": 1.5}, "Enter a whole number"),
        ("mortgage", {"holder": bank}, "needs “Secured amount (yuan)”"),
        ("mortgage", {"holder": "x" * 30, "amount": 5}, "Select a valid choice"),
        ("mortgage", {"holder": bank, "amount": "5\x00"}, "NUL character"),
        ("caveat", {"holder": world.wang.public_ref}, "Select a valid choice"),  # another office's party
        ("transfer", {"owners": []}, "Name at least one owner"),
        ("transfer", {"owners": [{"party": zhang, "share": "1/99999999999999999999"}]}, "is not a share"),
        ("transfer", {"owners": [{"party": zhang, "share": "99999999999/99999999999"},
                                 {"party": li, "share": "0"}]}, "is not a share"),
        ("transfer", {"owners": [{"party": zhang, "share": "1/2"}, {"party": li, "share": "1/3"}]},
         "add up to 5/6; they must add up to exactly 1"),
        ("transfer", {"owners": [{"party": zhang, "share": "1/4294967296"},
                                 {"party": li, "share": "4294967295/4294967296"}]}, "is not a share"),
        ("transfer", {"owners": [{"party": zhang, "share": "½"}]}, "is not a share"),
        ("transfer", {"owners": [{"party": zhang, "share": "1/" + "3" * 39}]}, "at most 40 characters"),
        ("transfer", {"owners": [{"party": zhang, "share": "1/2"}, {"party": zhang, "share": "1/2"}]},
         "named twice"),
        ("first_registration", first(world=world, area=2**31), "less than or equal to 2147483647"),
        ("first_registration", first(world=world, number="X" * 41), "at most 40"),
        ("first_registration", first(world=world, number="X01 0100"), "no spaces"),
        ("first_registration", first(world=world, location="长" * 301), "at most 300"),
        ("first_registration", first(world=world, location=None), "needs “Location”"),
        ("split", {"parts": [{"number": "X01-0001-1", "location": "a", "area_m2": 10}]}, "at least two"),
        ("split", {"parts": [{"number": f"X01-0001-{n}", "location": "a", "area_m2": 10} for n in (1, 2)]},
         "add up to 20 m²"),
        ("correction", {"right": "x" * 1000}, "Select a valid choice"),
        ("correction", {"right": world.parcel_y.rights.get().public_ref, "cancel": True}, "Select a valid choice"),
        ("party_correction", {"party": zhang, "id_number": "110101199003076543"}, "check character"),
        ("party_correction", {"party": zhang, "id_number": "110101199002306544"}, "not a date"),
        ("party_correction", {"party": zhang, "name": "张" * 101}, "at most 100"),
        ("party_correction", {"party": zhang}, "Say what to correct"),
    ]


def test_bad_details_are_form_errors_naming_the_problem_with_nothing_written(maker, world, settings):
    media = settings.MEDIA_ROOT
    for kind, payload, message in cases(world):
        on = [] if kind in ("first_registration", "party_correction") else None
        errors = form_errors(post(maker, world, kind, payload, on))
        assert message in errors, (kind, payload if len(str(payload)) < 100 else kind, errors)
    assert not Registration.objects.filter(state="prepared").exists()
    assert not SourceDocument.objects.exists() and not PartyChange.objects.exists()
    assert not (media / "land_registry").exists() or not any((media / "land_registry").rglob("*.fernet"))


def test_bad_fields_are_form_errors(maker, world):
    too_big = str(2**64)
    for extra, message in [
        ({"reason": "a\x00b"}, "NUL character"),
        ({"reason": "理由" * 1001}, "at most 2000"),
        ({"legal_date": "2999-01-01"}, "between 1900-01-01 and today"),
        ({"legal_date": "2019-12-31"}, "before 2020-01-01"),  # the owner's title began on 2020-01-01
        ({"legal_date": "99999-01-01"}, "valid date"),
        ({"parcels": [too_big]}, "past 64 bits"),
        ({"office": too_big}, "past 64 bits"),
        ({"parcels": ["-1"]}, "not one of the available choices"),
        ({"parcels": [world.parcel_y.pk]}, "not one of the available choices"),  # another office's parcel
        ({"document_title_1": "题" * 201}, "at most 200"),
    ]:
        response = post(maker, world, "transfer", {"owners": [{"party": world.li.public_ref}]}, **extra)
        assert message in form_errors(response), (extra if len(str(extra)) < 100 else message)
    assert not Registration.objects.filter(state="prepared").exists()
    correction = {"right": world.parcel.rights.get().public_ref, "legal_date": "2025-01-01"}
    assert "between 1900-01-01 and the registration's legal date" in form_errors(
        post(maker, world, "correction", correction))


def test_a_persons_id_number_is_checked_when_the_party_is_recorded(maker, world):
    base = {"kind": "person", "name": "赵敏", "address": "", "office": world.x.pk}
    for number, message in [("110101200001011234", "check character"), ("11010120000101123", "18 characters"),
                            ("110101200013011232", "not a date"), ("110101199003076544", "already records")]:
        response = maker.post(url("party_add"), {**base, "id_number": number})
        assert response.status_code == 200 and message in response.content.decode(), number
    assert maker.post(url("party_add"), {**base, "name": "名" * 101, "id_number": ""}).status_code == 200
    assert maker.post(url("party_add"), {**base, "name": "a\x00", "id_number": ""}).status_code == 400
    count = Party.objects.count()
    assert maker.post(url("party_add"), {**base, "id_number": "11010120000101123 2"}).status_code == 302
    assert Party.objects.count() == count + 1 and Party.objects.latest("pk").id_number == "110101200001011232"
    organisation = maker.post(url("party_add"), {**base, "kind": "organisation", "name": "某公司",
                                                 "id_number": "91110000100000000A"})
    assert organisation.status_code == 302  # a credit code is not a person's number


def test_what_is_accepted_at_the_limits_is_approved(client, world):
    """The largest amount and the finest share the checks allow are written by approval on every database."""
    world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": services.MAX_AMOUNT})
    assert selectors.active_rights(world.parcel, "mortgage").get().amount == services.MAX_AMOUNT
    fine = services.MAX_SHARE_TERM
    world.register("transfer", [world.parcel], {"owners": [
        {"party": world.zhang.public_ref, "share": f"1/{fine}"},
        {"party": world.li.public_ref, "share": f"{fine - 1}/{fine}"}]})
    assert Right.objects.get(active=True, holder=world.zhang, kind="ownership").share_denominator == fine
    world.register("first_registration", [], {"parcel": {"number": "X" * 40, "location": "长" * 300,
                                                         "area_m2": services.MAX_AREA},
                                              "owners": [{"party": world.li.public_ref}]})
    assert world.x.parcels.get(number="X" * 40).area_m2 == services.MAX_AREA


def test_numbers_past_64_bits_in_admin_urls_and_actions_are_no_server_error(client, world):
    big = str(2**64)
    client.force_login(world.checker)
    # Past 64 bits in the address or a form field: the portal's 400 before any view (MalformedRequestMiddleware).
    for path in (url("registration_change", big), url("party_change", big), url("parcel_change", big),
                 f"/admin/land_registry/registration/{big}/documents/{big}/"):
        assert client.get(path).status_code == 400
    assert client.get(url("registration_change", str(2**62))).status_code == 302  # the admin's "no such object"
    for selected in ([big], ["1\x00"]):
        response = client.post(url("registration_changelist"), {"action": "approve", "_selected_action": selected})
        assert response.status_code == 400
    for selected in (["-1"], ["１"]):
        response = client.post(url("registration_changelist"), {"action": "approve", "_selected_action": selected},
                               follow=True)
        assert response.status_code == 200 and "select the rows again" in response.content.decode()
    assert client.get(url("registration_changelist"), {"office__id__exact": big}).status_code == 400
