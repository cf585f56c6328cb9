"""Records per second of `import_register` (ledgered, in batches, resumable) against the same rows
written with Django's plain bulk_create (no ledger, no checks) in the same run, then the time to
seal what the import wrote. Usage: import_throughput.py [PARCELS]; goal: <= 1.3x the plain time.
Each parcel brings two owners, its first registration and their two rights (6 records).

The floor: the plain bulk_create again, each batch with the import's entry rows as ready-made
bytes, inserted by the recorder's own statement in the same transaction: what the extra rows
alone cost the database on this machine, with no Python work for them at all."""
import json
import sys
import time
from fractions import Fraction

from common import setup

BATCH = 1000


def write_file(path, parcels: int) -> None:
    from portal import idnumber

    with open(path, "w", encoding="utf-8") as f:
        for n in range(parcels):
            ids = [idnumber.with_check_character(f"11010119800101{(2 * n + k) % 1000:03d}") for k in (0, 1)]
            rows = [{"type": "party", "id": f"p{n}{k}", "office": "X01", "name": f"张{n}{k}", "id_number": ids[k],
                     "address": f"北京市东城区{n}号"} for k in (0, 1)]
            rows += [{"type": "parcel", "number": f"X01-{n:07d}", "office": "X01", "location": f"东城区 {n} 号",
                      "area_m2": 100 + n % 500, "land_use": "residential"},
                     {"type": "registration", "kind": "first_registration", "parcel": f"X01-{n:07d}",
                      "legal_date": "2005-03-01", "holders": [{"party": f"p{n}0", "share": "1/2"},
                                                              {"party": f"p{n}1", "share": "1/2"}]}]
            f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def office_and_clerks():
    """Office X01 and the two clerks an import is prepared and approved by."""
    from land_registry.models import Office
    from portal.models import Role, User

    office = Office.objects.create(code="X01", name="东城区不动产登记中心")
    clerk, checker = (User.objects.create_user(name, role=Role.CLERK, office="X01", is_staff=True)
                      for name in ("importer", "approver"))
    return office, clerk, checker


def plain_import(path, office, clerk, checker, extra_rows=None) -> None:
    """The same rows as plain model instances through Django's own QuerySet.bulk_create;
    `extra_rows`: ready-made entry rows for each batch, inserted with it (the floor)."""
    import datetime as dt

    from django.db import connection, models, transaction
    from django.utils import timezone

    from land_registry.models import Parcel, Party, Registration, Right, RightKind, blind_index
    from ledger.recorder import insert_entry_rows

    def bulk(model, objs):
        return models.QuerySet(model).bulk_create(objs)

    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    for start in range(0, len(lines), BATCH):
        parties, parcels, registrations, rights = {}, [], [], []
        for row in lines[start:start + BATCH]:
            if row["type"] == "party":
                parties[row["id"]] = Party(office=office, name=row["name"], id_number=row["id_number"],
                                           address=row["address"], id_index=blind_index(row["id_number"]))
            elif row["type"] == "parcel":
                parcels.append(Parcel(number=row["number"], office=office, location=row["location"],
                                      area_m2=row["area_m2"], land_use=row["land_use"]))
            else:
                registration = Registration(office=office, kind=row["kind"], parcel_numbers=row["parcel"],
                                            legal_date=dt.date.fromisoformat(row["legal_date"]), state="approved",
                                            reason="历史档案导入", prepared_by=clerk, decided_by=checker,
                                            decided_at=timezone.now())
                registrations.append((registration, parcels[-1]))
                for holder in row["holders"]:
                    share = Fraction(holder["share"])
                    rights.append(Right(parcel=parcels[-1], holder=parties[holder["party"]], kind=RightKind.OWNERSHIP,
                                        share_numerator=share.numerator, share_denominator=share.denominator,
                                        legal_date=registration.legal_date, registration=registration))
        with transaction.atomic():
            bulk(Party, list(parties.values()))
            bulk(Parcel, parcels)
            bulk(Registration, [registration for registration, _parcel in registrations])
            bulk(Registration.parcels.through, [Registration.parcels.through(registration=r, parcel=p)
                                                for r, p in registrations])
            bulk(Right, rights)
            if extra_rows:
                insert_entry_rows(extra_rows[start // BATCH], connection)


def floor_rows(after_id: int, batches: int) -> list[list[tuple]]:
    """The import's entries (written after `after_id`) as ready-made rows of kind bench.floor,
    split evenly over the batches."""
    from django.db import connection
    from django.utils import timezone

    from ledger.models import Entry

    created = connection.ops.adapt_datetimefield_value(timezone.now())
    entries = (Entry.objects.filter(id__gt=after_id, kind__startswith="land_registry.").order_by("id")
               .values_list("data", "leaf_hash", "salt_seed", "ref"))
    rows = [(bytes(data), bytes(leaf), bytes(seed), "bench.floor", ref, created) for data, leaf, seed, ref in entries]
    size = -(-len(rows) // batches)
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def main(parcels: int) -> None:
    tmp = setup("import")
    from django.db import connection

    from land_registry.importer import import_register
    from land_registry.models import ImportedParty, Parcel, Party, Registration, Right
    from ledger.models import Entry
    from ledger.services import ledger_seal_all

    office, clerk, checker = office_and_clerks()
    path = tmp / "register.jsonl"
    write_file(path, parcels)
    records = parcels * 6
    batches = -(-parcels * 4 // BATCH)  # four lines per parcel

    def clear():
        for model in (ImportedParty, Right, Registration.parcels.through, Registration, Parcel, Party):
            model._base_manager.all()._raw_delete(using="default")

    start = time.perf_counter()
    plain_import(path, office, clerk, checker)
    plain = time.perf_counter() - start
    assert Right.objects.count() == 2 * parcels
    clear()
    before = Entry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    start = time.perf_counter()
    run = import_register(path, clerk=clerk, checker=checker, batch_size=BATCH)
    imported = time.perf_counter() - start
    assert run.rejected_count == 0 and run.parcels == parcels, run.rejected[:3]
    entries = Entry.objects.filter(kind__startswith="land_registry.").count()
    start = time.perf_counter()
    ledger_seal_all(max_entries=20_000)
    sealed = time.perf_counter() - start
    extra_rows = floor_rows(before, batches)
    clear()
    start = time.perf_counter()
    plain_import(path, office, clerk, checker, extra_rows)
    floor = time.perf_counter() - start
    assert Right.objects.count() == 2 * parcels
    print(f"# {parcels} parcels, {records} records, {entries} entries, batches of {BATCH}, {connection.vendor}")
    print(f"plain bulk_create:     {plain:7.2f} s  {records / plain:9.0f} records/s")
    print(f"floor (plain + rows):  {floor:7.2f} s  {records / floor:9.0f} records/s  "
          f"({sum(map(len, extra_rows))} bare entry rows)")
    print(f"ledgered import:       {imported:7.2f} s  {records / imported:9.0f} records/s")
    print(f"sealing its entries:   {sealed:7.2f} s  {entries / sealed:9.0f} entries/s")
    print(f"import + seal: {(imported + sealed) / parcels * 1e6 / 60:.1f} min per million parcels "
          f"(plain {plain / parcels * 1e6 / 60:.1f}, floor + seal {(floor + sealed) / parcels * 1e6 / 60:.1f})")
    print(f"floor: {floor / plain:.2f}x the plain bulk_create time (the entry rows alone)")
    print(f"import overhead: {imported / plain:.2f}x the plain bulk_create time (goal <= 1.3x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
