"""What a parcel's public page reads: each right once, for the current rights and the timeline; of a
holder, only what the page shows; the family tree in both directions."""
import pytest
from django.template import engines
from django.utils import translation

from land_registry import selectors
from land_registry.models import Parcel, Registration, Right
from portal import crypto

pytestmark = pytest.mark.django_db


def test_the_parcel_page_decrypts_the_holders_names_and_nothing_else(client, world, monkeypatch):
    world.register("transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]})
    world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 7})
    decrypted = []

    def recording(token):
        decrypted.append(plain := decrypt(token))
        return plain

    decrypt = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", recording)
    assert client.get(world.parcel.get_absolute_url()).status_code == 200
    assert set(decrypted) == {"张伟", "李娜", "中国建设银行东城支行"}


def test_each_event_shows_the_rights_it_registered_and_ended_on_the_parcel(client, world):
    world.register("transfer", [world.parcel], {"owners": [{"party": world.li.public_ref}]})
    mortgage = world.register("mortgage", [world.parcel], {"holder": world.bank.public_ref, "amount": 7})
    world.register("discharge", [world.parcel], {"right": mortgage.rights.get().public_ref})
    events = client.get(f"/api/land/parcels/{world.parcel.public_ref}/timeline").json()["events"]
    assert [event["kind"] for event in events] == ["first_registration", "transfer", "mortgage", "discharge"]
    for event in events:
        registration = Registration.objects.get(public_ref=event["registration"])
        on_parcel = Right.objects.filter(parcel=world.parcel)
        assert [right["ref"] for right in event["rights_registered"]] == list(
            on_parcel.filter(registration=registration).values_list("public_ref", flat=True))
        assert [right["ref"] for right in event["rights_ended"]] == list(
            on_parcel.filter(ended_by=registration).values_list("public_ref", flat=True))
        assert all(right["registration"] for right in event["rights_registered"] + event["rights_ended"])
    assert [len(events[1]["rights_registered"]), len(events[1]["rights_ended"])] == [1, 1]
    assert [len(events[3]["rights_registered"]), len(events[3]["rights_ended"])] == [0, 1]
    html = client.get(world.parcel.get_absolute_url()).content.decode()
    assert "− Ownership · 张* · 1/1" in html and "+ Ownership · 李* · 1/1" in html


def test_the_family_tree_reads_every_generation_both_ways(world):
    world.register("split", [world.parcel], {"parts": [
        {"number": "X01-0001-1", "location": "北", "area_m2": 300},
        {"number": "X01-0001-2", "location": "南", "area_m2": 200}]})
    north, south = Parcel.objects.filter(number__in=["X01-0001-1", "X01-0001-2"]).order_by("number")
    world.register("split", [north], {"parts": [
        {"number": "X01-0001-1-1", "location": "北一", "area_m2": 100},
        {"number": "X01-0001-1-2", "location": "北二", "area_m2": 200}]})
    first, second = Parcel.objects.filter(number__startswith="X01-0001-1-").order_by("number")

    def numbers(nodes, direction):
        return [(node["parcel"].number, numbers(node[direction], direction)) for node in nodes]

    assert selectors.lineage(north) == {
        "ancestors": [{"parcel": world.parcel, "parents": []}],
        "descendants": [{"parcel": first, "children": []}, {"parcel": second, "children": []}]}
    assert numbers(selectors.lineage(world.parcel)["descendants"], "children") == [
        ("X01-0001-1", [("X01-0001-1-1", []), ("X01-0001-1-2", [])]), ("X01-0001-2", [])]
    assert numbers(selectors.lineage(second)["ancestors"], "parents") == [("X01-0001-1", [("X01-0001", [])])]
    assert selectors.lineage(south)["descendants"] == [] and selectors.lineage(world.parcel_y) == {
        "ancestors": [], "descendants": []}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_display_filter_shows_what_get_display_shows(world, language):
    template = engines["django"].from_string('{% load portal_tags %}{{ parcel|display:"land_use" }}|'
                                             '{{ parcel|display:"status" }}|{{ right|display:"kind" }}')
    right = Right.objects.filter(parcel=world.parcel).first()
    with translation.override(language):
        assert template.render({"parcel": world.parcel, "right": right}) == (
            f"{world.parcel.get_land_use_display()}|{world.parcel.get_status_display()}|{right.get_kind_display()}")
    right.kind = "not-a-kind"
    assert template.render({"parcel": world.parcel, "right": right}).endswith("|not-a-kind")
