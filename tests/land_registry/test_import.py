"""`manage.py import_register FILE`: a legacy register in JSON Lines, through the ledgered bulk paths,
refused lines reported with their reason, and resumable after `kill -9` at any point."""
import io
import json
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from land_registry.models import ImportRun, Office, Parcel, Party, Registration, Right, RightKind
from ledger import services as ledger_services
from ledger.models import Entry
from portal import idnumber
from portal.models import Role, User
from tests.processes import process_env, wait_for


def person_number(n: int) -> str:
    return idnumber.with_check_character(f"11010119800101{n:03d}")


def legacy_file(path, parcels: int, *, extra=()):
    """Two parties per parcel (each owning half), then a first registration, a transfer to one, a
    mortgage and its discharge for every third parcel."""
    rows = [{"type": "party", "id": "bank", "office": "X01", "kind": "organisation", "name": "中国建设银行东城支行"}]
    for n in range(parcels):
        rows += [{"type": "party", "id": f"p{n}a", "office": "X01", "name": f"张{n}",
                  "id_number": person_number(n % 900), "address": f"北京市东城区{n}号"},
                 {"type": "party", "id": f"p{n}b", "office": "X01", "kind": "person", "name": f"李{n}",
                  "id_number": person_number((n + 1) % 900)},
                 {"type": "parcel", "number": f"X01-{n:06d}", "office": "X01", "location": f"东城区 {n} 号",
                  "area_m2": 100 + n, "land_use": "residential"},
                 {"type": "registration", "kind": "first_registration", "parcel": f"X01-{n:06d}",
                  "legal_date": "2005-03-01", "holders": [{"party": f"p{n}a", "share": "1/2"},
                                                          {"party": f"p{n}b", "share": "1/2"}]}]
        if n % 3 == 0:
            rows += [{"type": "registration", "kind": "transfer", "parcel": f"X01-{n:06d}", "legal_date": "2010-05-06",
                      "holders": [{"party": f"p{n}b"}]},
                     {"type": "registration", "kind": "mortgage", "parcel": f"X01-{n:06d}", "legal_date": "2011-01-01",
                      "holder": "bank", "amount": 1_000_000},
                     {"type": "registration", "kind": "discharge", "parcel": f"X01-{n:06d}",
                      "legal_date": "2015-01-01", "holder": "bank"}]
    lines = [json.dumps(row, ensure_ascii=False) for row in rows] + list(extra)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def office(db):
    office = Office.objects.create(code="X01", name="东城区不动产登记中心")
    for name in ("importer", "approver"):
        User.objects.create_user(name, password="pw", role=Role.CLERK, office="X01", is_staff=True)
    return office


def run_import(path, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_register", str(path), "--clerk", "importer", "--checker", "approver",
                 stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


BAD_LINES = [
    ("not json at all", "not JSON"),
    (json.dumps({"type": "spaceship"}), "type is one of"),
    (json.dumps({"type": "party", "id": "x1", "office": "X01", "name": "王\u0000五", "id_number": person_number(1)}),
     "NUL"),
    (json.dumps({"type": "party", "id": "x2", "office": "X01", "name": "王五", "id_number": "110101198001010011"}),
     "id_number"),
    (json.dumps({"type": "party", "id": "x3", "office": "Z99", "name": "王五", "id_number": person_number(3)}),
     "no office Z99"),
    (json.dumps({"type": "parcel", "number": "X01-big", "office": "X01", "location": "x", "area_m2": 2**70,
                 "land_use": "residential"}), "area_m2"),
    (json.dumps({"type": "parcel", "number": "X01-000000", "office": "X01", "location": "again", "area_m2": 5,
                 "land_use": "residential"}), "exists already"),
    (json.dumps({"type": "registration", "kind": "first_registration", "parcel": "X01-nowhere",
                 "legal_date": "2005-01-01", "holders": [{"party": "bank"}]}), "no parcel"),
    (json.dumps({"type": "registration", "kind": "transfer", "parcel": "X01-000001", "legal_date": "2005-01-01",
                 "holders": [{"party": "p1a", "share": "1/3"}]}), "add up to 1"),
    (json.dumps({"type": "registration", "kind": "seizure", "parcel": "X01-000001", "legal_date": "2005-01-01"}),
     "kind must be one of"),
    ("[" * 100_000 + "]" * 100_000, "longer than"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
]


def test_an_import_makes_every_record_through_the_ledger_and_reports_each_refused_line(office, tmp_path):
    path = legacy_file(tmp_path / "register.jsonl", 6, extra=[line for line, _reason in BAD_LINES])
    out, err = run_import(path, batch_size=7)
    assert "6 parcels" in out and "13 parties" in out and f"{len(BAD_LINES)} lines refused" in out
    good = 1 + 6 * 4 + 2 * 3  # the bank, 4 lines per parcel, 3 more for parcels 0 and 3
    for offset, (_line, reason) in enumerate(BAD_LINES, start=good + 1):
        assert f"line {offset}: " in out and reason in out.split(f"line {offset}: ")[1].splitlines()[0], out
    assert "lines" in err  # the progress bar
    assert Parcel.objects.count() == 6 and Party.objects.count() == 13
    assert Registration.objects.count() == 6 + 2 * 3
    parcel = Parcel.objects.get(number="X01-000000")
    owners = Right.objects.filter(parcel=parcel, active=True, kind=RightKind.OWNERSHIP)
    assert [(r.holder.name, r.share_display) for r in owners] == [("李0", "1/1")]
    assert not Right.objects.filter(parcel=parcel, active=True, kind=RightKind.MORTGAGE).exists()
    assert Right.objects.filter(parcel=Parcel.objects.get(number="X01-000001"), active=True).count() == 2
    # One entry per record made, and per right ended.
    for model in (Party, Parcel, Registration, Right):
        for obj in model.objects.all():
            assert Entry.objects.filter(ref=obj.public_ref, kind=model._meta.label_lower).exists()
    # Personal values are stored encrypted and the ledger holds none in clear (the autouse scan checks too).
    assert all("张" not in bytes(data).decode() for data in Entry.objects.values_list("data", flat=True))

    # The same file again imports nothing twice.
    again, _ = run_import(path)
    assert Parcel.objects.count() == 6 and Party.objects.count() == 13 and "6 parcels" in again


def test_wrong_arguments_are_clear_errors(office, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run_import(tmp_path / "missing.jsonl")
    path = legacy_file(tmp_path / "r.jsonl", 1)
    with pytest.raises(CommandError, match="another"):
        call_command("import_register", str(path), "--clerk", "importer", "--checker", "importer")
    with pytest.raises(CommandError, match="existing users"):
        call_command("import_register", str(path), "--clerk", "nobody", "--checker", "importer")


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_at_any_point_goes_on_where_it_stopped_with_nothing_twice_or_missing(tmp_path):
    Office.objects.create(code="X01", name="东城区不动产登记中心")
    for name in ("importer", "approver"):
        User.objects.create_user(name, password="pw", role=Role.CLERK, office="X01", is_staff=True)
    parcels = 150
    path = legacy_file(tmp_path / "big.jsonl", parcels)
    command = [sys.executable, "manage.py", "import_register", str(path), "--clerk", "importer",
               "--checker", "approver", "--batch-size", "20"]
    for stop_after in (3, 11):  # kill -9 twice, at different points
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=process_env(), start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: (ImportRun.objects.first() or ImportRun()).lines_done >= stop_after * 20,  # noqa: B023 (called at once)
                        timeout=120)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        run = ImportRun.objects.get()
        assert run.finished_at is None
        # What the run says it did is exactly what is in the database: whole batches, nothing half-done.
        assert (Parcel.objects.count(), Party.objects.count()) == (run.parcels, run.parties)
    done = subprocess.run(command, cwd=settings.BASE_DIR, env=process_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{parcels} parcels" in done.stdout and "0 lines refused" in done.stdout
    assert Parcel.objects.count() == parcels and Party.objects.count() == 1 + 2 * parcels
    assert Registration.objects.count() == parcels + 3 * len(range(0, parcels, 3))
    assert Entry.objects.filter(kind="land_registry.parcel").count() == parcels  # one entry each
    ledger_services.ledger_seal_all()
    out = io.StringIO()
    call_command("verify_ledger", "--offline", stdout=out, stderr=io.StringIO())
    assert "no findings" in out.getvalue()
