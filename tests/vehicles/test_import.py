"""registry_import and the import_registry command, on SQLite and (with DATABASE_URL) PostgreSQL."""

import csv
import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vehicles.models import Owner, Ownership, Vehicle
from vehicles.selectors import vehicle_find
from vehicles.services import REGISTRY_COLUMNS, RegistryImportError, registry_import

pytestmark = pytest.mark.django_db

KHI = zoneinfo.ZoneInfo("Asia/Karachi")
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "registry_sample.csv"


def row(**changes):
    base = {
        "registration_no": "BKM-1234",
        "region": "Sindh",
        "vehicle_class": "car",
        "make": "Suzuki",
        "model": "Mehran",
        "colour": "White",
        "engine_cc": "800",
        "status": "active",
        "owner_name": "Muhammad Ali Khan",
        "owner_cnic": "42101-1234567-1",
        "owner_phone": "0300-1234567",
        "owner_address": "House 12, Street 4, Block 7, Gulshan-e-Iqbal, Karachi",
        "owner_language": "ur",
        "owned_since": "2019-03-14",
    }
    base.update(changes)
    return base


def write(path, rows, columns=REGISTRY_COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_sample_file_imports():
    report = registry_import(path=SAMPLE)
    assert report.committed
    assert report.rows_read == report.rows_imported == 18
    assert report.rows_rejected == 0
    assert (report.vehicles_created, report.owners_created, report.ownerships_opened) == (
        18,
        17,
        18,
    )
    assert Vehicle.objects.count() == 18 and Owner.objects.count() == 17
    car = Vehicle.objects.get(plate_key="LEA122545")
    assert (car.registration, car.region, car.vehicle_class, car.engine_cc) == (
        "LEA-12-2545",
        "punjab",
        "car",
        1300,
    )
    owner = Owner.objects.get(cnic="4210112345671")
    assert owner.phone == "+923001234567"
    assert owner.ownerships.count() == 2
    ownership = Ownership.objects.get(vehicle__plate_key="BKM1234")
    assert ownership.valid_from == dt.datetime(2019, 3, 14, tzinfo=KHI)
    assert ownership.valid_to is None
    assert Owner.objects.get(cnic="4210144444446").phone == "+922135123456"


def test_reimport_of_the_same_file_changes_nothing():
    registry_import(path=SAMPLE)
    stamps = dict(Vehicle.objects.values_list("plate_key", "updated_at"))
    owner_stamps = dict(Owner.objects.values_list("cnic", "updated_at"))
    again = registry_import(path=SAMPLE)
    assert again.rows_imported == 18
    assert (
        again.owners_created,
        again.owners_updated,
        again.vehicles_created,
        again.vehicles_updated,
        again.ownerships_opened,
        again.ownerships_closed,
    ) == (0, 0, 0, 0, 0, 0)
    assert dict(Vehicle.objects.values_list("plate_key", "updated_at")) == stamps
    assert dict(Owner.objects.values_list("cnic", "updated_at")) == owner_stamps
    assert Ownership.objects.count() == 18


def test_reimport_with_a_new_owner_closes_the_old_ownership(tmp_path):
    registry_import(path=write(tmp_path / "a.csv", [row()]))
    sold = row(
        owner_name="Sara Ahmed",
        owner_cnic="42201-0000000-2",
        owner_phone="0321-0000000",
        colour="Blue",
        owned_since="2024-05-01",
    )
    report = registry_import(path=write(tmp_path / "b.csv", [sold]))
    assert (report.ownerships_closed, report.ownerships_opened) == (1, 1)
    assert (report.vehicles_updated, report.owners_created) == (1, 1)
    sale = dt.datetime(2024, 5, 1, tzinfo=KHI)
    old, new = Ownership.objects.order_by("valid_from")
    assert old.owner.cnic == "4210112345671" and old.valid_to == sale
    assert new.owner.cnic == "4220100000002" and new.valid_from == sale and new.valid_to is None
    assert Vehicle.objects.get().colour == "Blue"
    # A camera event before the sale is the seller's, after it the buyer's.
    assert (
        vehicle_find(plate="BKM 1234", at=sale - dt.timedelta(days=1)).owner.name
        == "Muhammad Ali Khan"
    )
    assert vehicle_find(plate="BKM 1234", at=sale + dt.timedelta(days=1)).owner.name == "Sara Ahmed"
    # Importing the newer file again is a no-op.
    again = registry_import(path=tmp_path / "b.csv")
    assert (again.ownerships_closed, again.ownerships_opened, again.vehicles_updated) == (0, 0, 0)


def test_owner_details_are_updated_in_place(tmp_path):
    registry_import(path=write(tmp_path / "a.csv", [row()]))
    report = registry_import(
        path=write(
            tmp_path / "b.csv",
            [row(owner_address="House 1, Clifton, Karachi", owner_language="English")],
        )
    )
    assert (report.owners_updated, report.ownerships_opened) == (1, 0)
    owner = Owner.objects.get()
    assert owner.address == "House 1, Clifton, Karachi" and owner.preferred_language == "en"


BAD_ROWS = [
    row(),
    row(registration_no="ABCD-12", owner_cnic="42101-1111111-1"),  # line 3
    row(registration_no="AFR-420", owner_cnic="4210112"),  # line 4
    row(registration_no="AFR-421", region="Narnia"),  # line 5
    row(registration_no="AFR-422", owned_since="14/03/2019"),  # line 6
    row(registration_no="AFR-423", owner_phone="12"),  # line 7
    row(registration_no="bkm 1234"),  # line 8: same plate as line 2
    row(registration_no="AFR-424", owner_name=""),  # line 9
    row(registration_no="AFR-425", engine_cc="big"),  # line 10
    row(registration_no="AFR-426", owned_since="2999-01-01"),  # line 11
]


def test_bad_rows_abort_the_whole_import_with_line_numbers(tmp_path):
    with pytest.raises(RegistryImportError) as caught:
        registry_import(path=write(tmp_path / "bad.csv", BAD_ROWS))
    report = caught.value.report
    assert not report.committed
    assert report.rows_rejected == 9
    reasons = dict(report.errors)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "series 'ABCD' has 4 letters" in reasons[3]
    assert reasons[4].startswith("owner_cnic: CNIC has 7 digits")
    assert reasons[5] == "region: unknown value 'Narnia'"
    assert "owned_since" in reasons[6]
    assert reasons[7].startswith("owner_phone")
    assert reasons[8] == "registration_no: BKM-1234 is already on line 2"
    assert reasons[9] == "owner_name is empty"
    assert reasons[10].startswith("engine_cc")
    assert "in the future" in reasons[11]
    assert Vehicle.objects.count() == Owner.objects.count() == Ownership.objects.count() == 0


def test_skip_bad_imports_the_rest_and_writes_rejects(tmp_path):
    rejects = tmp_path / "rejects.csv"
    report = registry_import(
        path=write(tmp_path / "bad.csv", BAD_ROWS), skip_bad=True, rejects_path=rejects
    )
    assert report.committed and report.rows_imported == 1 and report.rows_rejected == 9
    assert list(Vehicle.objects.values_list("plate_key", flat=True)) == ["BKM1234"]
    with open(rejects, newline="") as f:
        lines = list(csv.DictReader(f))
    assert [int(r["line"]) for r in lines] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert lines[0]["registration_no"] == "ABCD-12"
    assert lines[5]["reason"] == "registration_no: BKM-1234 is already on line 2"
    assert lines[5]["registration_no"] == "BKM-1234"


def test_an_owner_change_dated_before_the_current_owner_is_rejected(tmp_path):
    registry_import(path=write(tmp_path / "a.csv", [row(owned_since="2020-01-01")]))
    stale = row(owner_cnic="42201-0000000-2", owned_since="2019-06-01")
    with pytest.raises(RegistryImportError) as caught:
        registry_import(path=write(tmp_path / "b.csv", [stale, row(registration_no="AFR-420")]))
    (error,) = caught.value.report.errors
    assert error.line == 2 and "is not after the current owner's since 2020-01-01" in error.reason
    assert Vehicle.objects.count() == 1
    report = registry_import(path=tmp_path / "b.csv", skip_bad=True)
    assert (report.rows_imported, report.rows_rejected) == (1, 1)
    assert Ownership.objects.get(vehicle__plate_key="BKM1234").valid_to is None


def test_quoted_multiline_address_keeps_line_numbers(tmp_path):
    rows = [row(owner_address="House 12\nStreet 4\nKarachi"), row(registration_no="XXXX-1")]
    with pytest.raises(RegistryImportError) as caught:
        registry_import(path=write(tmp_path / "ml.csv", rows))
    assert [e.line for e in caught.value.report.errors] == [5]


def test_header_must_name_the_columns(tmp_path):
    path = write(
        tmp_path / "h.csv", [row()], columns=[c for c in REGISTRY_COLUMNS if c != "owner_cnic"]
    )
    with pytest.raises(RegistryImportError, match="missing column.*owner_cnic"):
        registry_import(path=path)


def test_extra_columns_and_column_order_do_not_matter(tmp_path):
    columns = ["chassis_no", *reversed(REGISTRY_COLUMNS)]
    report = registry_import(
        path=write(tmp_path / "x.csv", [row(chassis_no="NZE-1")], columns=columns)
    )
    assert report.rows_imported == 1


def test_command_all_or_nothing_and_skip_bad(tmp_path, capsys):
    bad = write(tmp_path / "bad.csv", BAD_ROWS)
    with pytest.raises(CommandError, match="9 bad row"):
        call_command("import_registry", str(bad), "--no-progress")
    assert "line 3: registration_no" in capsys.readouterr().err
    rejects = tmp_path / "rejects.csv"
    call_command(
        "import_registry", str(bad), "--skip-bad", "--rejects", str(rejects), "--no-progress"
    )
    out = capsys.readouterr().out
    assert "1 imported, 9 rejected" in out and str(rejects) in out
    assert rejects.read_text().count("\n") == 10
    with pytest.raises(CommandError, match="--rejects needs --skip-bad"):
        call_command("import_registry", str(bad), "--rejects", str(rejects))


@pytest.mark.postgres
def test_postgresql_import_goes_through_copy_and_a_staging_table(tmp_path):
    rows = [
        row(
            registration_no=f"BK{'ABCDEFGHJK'[i // 1000]}-{i % 1000:03d}",
            owner_cnic=f"42101{i:07d}1",
        )
        for i in range(3000)
    ]
    with CaptureQueriesContext(connection) as ctx:
        report = registry_import(path=write(tmp_path / "big.csv", rows))
    assert report.rows_imported == 3000 and Vehicle.objects.count() == 3000
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "CREATE TEMPORARY TABLE registry_staging" in sql
    assert "INSERT INTO vehicles_vehicle" in sql
    # An empty registry: nothing to match against, so no update or anti-join steps.
    assert "UPDATE vehicles_" not in sql and "TABLE registry_resolved" not in sql
    assert len(ctx.captured_queries) < 30  # set-based: a fixed number of statements, not per row
    # Not empty any more: the second import matches against what is there.
    rows[0]["colour"] = "Blue"
    with CaptureQueriesContext(connection) as ctx:
        again = registry_import(path=write(tmp_path / "big.csv", rows))
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "UPDATE vehicles_vehicle" in sql and "TABLE registry_resolved" in sql
    assert (again.vehicles_updated, again.vehicles_created, again.ownerships_opened) == (1, 0, 0)
    assert len(ctx.captured_queries) < 30


def test_owners_already_there_and_no_vehicles_yet(tmp_path):
    """Each registry table takes the empty-table path on its own: here owners are matched."""
    from tests.vehicles.factories import OwnerFactory

    known = OwnerFactory(cnic="4210112345671", name="Old Name")
    report = registry_import(
        path=write(tmp_path / "a.csv", [row(), row(registration_no="AFR-420")])
    )
    assert (report.owners_created, report.owners_updated) == (0, 1)
    assert (report.vehicles_created, report.ownerships_opened) == (2, 2)
    known.refresh_from_db()
    assert known.name == "Muhammad Ali Khan" and Owner.objects.count() == 1
    assert set(Ownership.objects.values_list("owner_id", flat=True)) == {known.pk}


@pytest.mark.postgres
def test_postgresql_many_late_rejects_are_all_counted_and_written(tmp_path):
    rows = [row(registration_no=f"AFR-{i:03d}", owner_cnic=f"42101{i:07d}1") for i in range(150)]
    rows += rows  # every plate twice: 150 duplicates found by the database
    rejects = tmp_path / "r.csv"
    report = registry_import(
        path=write(tmp_path / "dup.csv", rows), skip_bad=True, rejects_path=rejects
    )
    assert (report.rows_imported, report.rows_rejected, len(report.errors)) == (150, 150, 100)
    with open(rejects, newline="") as f:
        lines = [int(r["line"]) for r in csv.DictReader(f)]
    assert lines == list(range(152, 302))


def _schema():
    """Constraints and indexes of the registry tables, as PostgreSQL would recreate them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid::regclass::text LIKE 'vehicles_%'
            UNION ALL
            SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'vehicles_%'
            ORDER BY 1, 2, 3
            """
        )
        return cursor.fetchall()


@pytest.mark.postgres
def test_postgresql_initial_load_rebuilds_indexes_and_keys(tmp_path, monkeypatch):
    from vehicles import services

    before = _schema()
    keys = [
        d for table, _, d in before if table == "vehicles_ownership" and d.startswith("FOREIGN")
    ]
    assert len(keys) == 2 and all("DEFERRABLE INITIALLY DEFERRED" in d for d in keys)
    monkeypatch.setattr(services, "INITIAL_LOAD_ROWS", 10)
    with CaptureQueriesContext(connection) as ctx:
        report = registry_import(path=SAMPLE)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "DROP CONSTRAINT" in sql and "ADD CONSTRAINT" in sql and "DROP INDEX" in sql
    assert (report.owners_created, report.vehicles_created, report.ownerships_opened) == (
        17,
        18,
        18,
    )
    assert _schema() == before
    assert (
        vehicle_find(plate="LEA 12 2545", at=dt.datetime(2020, 1, 1, tzinfo=KHI)).owner.name
        == "Usman Tariq"
    )
    # Not empty any more: the next import keeps indexes and keys in place.
    with CaptureQueriesContext(connection) as ctx:
        registry_import(
            path=write(
                tmp_path / "b.csv", [row(owner_cnic="42201-0000000-2", owned_since="2024-05-01")]
            )
        )
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "DROP CONSTRAINT" not in sql and "DROP INDEX" not in sql


def test_unreadable_and_non_utf8_rows_are_bad_rows(tmp_path):
    path = write(tmp_path / "a.csv", [row(), row(registration_no="AFR-420")])
    with open(path, "ab") as f:
        f.write(b"AFR-421,Sindh,car,,,,,,Ali \xff Khan,42101-2222222-1,,,,2020-01-01\r\n")
        f.write(
            b'AFR-422,Sindh,car,,,,,,"' + b"x" * 140_000 + b'",42101-2222222-1,,,,2020-01-01\r\n'
        )
    report = registry_import(path=path, skip_bad=True)
    assert report.rows_imported == 2
    reasons = dict(report.errors)
    assert reasons[4] == "not valid UTF-8 text (or has NUL characters)"
    assert reasons[5].startswith("not readable as CSV")


def test_the_last_row_for_a_cnic_gives_the_owners_details(tmp_path):
    first = [row(owner_name="Early Name"), row(registration_no="AFR-420", owner_name="Later Name")]
    report = registry_import(path=write(tmp_path / "a.csv", first))  # an empty registry
    assert (report.owners_created, report.ownerships_opened) == (1, 2)
    assert Owner.objects.get().name == "Later Name"
    again = [
        row(registration_no="AFR-421", owner_name="Third Name"),
        row(registration_no="AFR-422", owner_name="Fourth Name"),
    ]
    report = registry_import(path=write(tmp_path / "b.csv", again))  # matched against it
    assert (report.owners_created, report.owners_updated) == (0, 1)
    assert Owner.objects.get().name == "Fourth Name"
