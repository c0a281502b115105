"""Registry writes: importing an Excise & Taxation export.

The CSV (one row per vehicle, with its current owner; see README "Registry CSV"):

    registration_no, region, vehicle_class, make, model, colour, engine_cc, status,
    owner_name, owner_cnic, owner_phone, owner_address, owner_language, owned_since

Every row is checked in Python with the same rules the rest of the system uses
(vehicles.plates, vehicles.identity), streaming, never holding the file. Then:

- PostgreSQL: good rows are COPY'd into a temporary staging table and merged with
  set-based statements (hash joins; a registry table that is still empty skips the
  matching, and a large load into one rebuilds its indexes afterwards).
- SQLite (development): batches of rows with bulk_create / bulk_update.

Owners are keyed by CNIC and vehicles by plate key; the file is the authority for
their details. When a vehicle's owner changed, the open Ownership row is closed at
the new owner's `owned_since` and a new one opened, so challans for earlier
violations still go to the earlier owner. Importing the same file twice changes
nothing the second time. The import is one transaction: any bad row aborts it,
unless skip_bad, which imports the good rows and writes the bad ones to a reject
CSV (line number, reason, the row).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import heapq
import io
import logging
import os
import tempfile
import time
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from vehicles.identity import cnic_normalize, phone_normalize
from vehicles.models import Language, Owner, Ownership, Region, Vehicle, VehicleClass, VehicleStatus
from vehicles.plates import PlateFormatError, plate_key_display

__all__ = [
    "REGISTRY_COLUMNS",
    "ImportReport",
    "RegistryImportError",
    "RowError",
    "registry_import",
]

logger = logging.getLogger(__name__)

REGISTRY_COLUMNS: tuple[str, ...] = (
    "registration_no",
    "region",
    "vehicle_class",
    "make",
    "model",
    "colour",
    "engine_cc",
    "status",
    "owner_name",
    "owner_cnic",
    "owner_phone",
    "owner_address",
    "owner_language",
    "owned_since",
)
REQUIRED_COLUMNS = frozenset(
    {"registration_no", "region", "vehicle_class", "owner_name", "owner_cnic", "owned_since"}
)
MAX_ERRORS_KEPT = 100  # in the report; the reject file has all of them
SQLITE_BATCH = 400  # rows per batch: keeps every IN (...) under SQLite's parameter limit
PROGRESS_EVERY = 5000


class RowError(NamedTuple):
    line: int
    reason: str


@dataclass
class ImportReport:
    path: str
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    owners_created: int = 0
    owners_updated: int = 0
    vehicles_created: int = 0
    vehicles_updated: int = 0
    ownerships_opened: int = 0
    ownerships_closed: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    rejects_path: str | None = None
    committed: bool = False
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for tuning

    def lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now

    def add_error(self, line: int, reason: str) -> None:
        self.rows_rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(line, reason))

    def summary(self) -> str:
        return (
            f"{self.rows_read} rows read, {self.rows_imported} imported, "
            f"{self.rows_rejected} rejected; owners +{self.owners_created} ~{self.owners_updated}; "
            f"vehicles +{self.vehicles_created} ~{self.vehicles_updated}; ownerships "
            f"+{self.ownerships_opened} closed {self.ownerships_closed} ({self.seconds:.1f} s)"
        )


class RegistryImportError(Exception):
    """The file cannot be imported (bad header, or bad rows without skip_bad); nothing was written."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


# --- Row checks -------------------------------------------------------------------------


def _choice_map(choices: Any, aliases: dict[str, str] | None = None) -> dict[str, str]:
    out = {}
    for value, label in choices.choices:
        out[value] = value
        out[str(label).lower()] = value
    out.update(aliases or {})
    return out


_REGIONS = _choice_map(
    Region,
    {
        "islamabad": Region.ICT,
        "federal": Region.ICT,
        "kpk": Region.KP,
        "khyber pakhtunkhwa": Region.KP,
        "nwfp": Region.KP,
        "gilgit-baltistan": Region.GB,
        "gilgit baltistan": Region.GB,
        "azad kashmir": Region.AJK,
        "karachi": Region.SINDH,
    },
)
_CLASSES = _choice_map(
    VehicleClass,
    {
        "motor cycle": VehicleClass.MOTORCYCLE,
        "motorbike": VehicleClass.MOTORCYCLE,
        "bike": VehicleClass.MOTORCYCLE,
        "jeep": VehicleClass.JEEP,
        "suv": VehicleClass.JEEP,
        "rickshaw": VehicleClass.RICKSHAW,
        "auto rickshaw": VehicleClass.RICKSHAW,
        "minibus": VehicleClass.BUS,
        "coach": VehicleClass.BUS,
        "lorry": VehicleClass.TRUCK,
        "pick-up": VehicleClass.PICKUP,
        "pick up": VehicleClass.PICKUP,
    },
)
_STATUSES = _choice_map(
    VehicleStatus, {"": VehicleStatus.ACTIVE, "sale pending": VehicleStatus.SALE_PENDING}
)
_LANGUAGES = _choice_map(Language, {"": Language.URDU})
_MAX_LENGTHS: dict[str, int] = {
    "make": Vehicle._meta.get_field("make").max_length or 0,
    "model": Vehicle._meta.get_field("model").max_length or 0,
    "colour": Vehicle._meta.get_field("colour").max_length or 0,
    "owner_name": Owner._meta.get_field("name").max_length or 0,
}
_MAX_MAKE = _MAX_LENGTHS["make"]
_MAX_MODEL = _MAX_LENGTHS["model"]
_MAX_COLOUR = _MAX_LENGTHS["colour"]
_MAX_OWNER_NAME = _MAX_LENGTHS["owner_name"]
_MAX_ADDRESS = 1000
_MAX_ENGINE_CC = 30_000


class CleanRow(NamedTuple):
    """A checked row, in staging-table column order."""

    line: int
    plate_key: str
    registration: str
    region: str
    vehicle_class: str
    make: str
    model: str
    colour: str
    engine_cc: int | None
    status: str
    owner_name: str
    cnic: str
    phone: str
    address: str
    language: str
    owned_since: str  # ISO date or date-time, local wall time in settings.TIME_ZONE


class BadRow(Exception):
    pass


def _pick(mapping: dict[str, str], value: str, column: str) -> str:
    found = mapping.get(value)
    if found is not None:
        return found
    try:
        return mapping[value.strip().lower()]
    except KeyError:
        raise BadRow(f"{column}: unknown value {value.strip()!r}") from None


class _Clock(NamedTuple):
    tz: dt.tzinfo
    latest: dt.datetime  # owned_since may not be later than this
    latest_day: str  # the same, as an ISO date
    days_seen: set[str]  # plain ISO dates already found good: most rows skip the parse


_DAYS_KEPT = 100_000  # 1947 to today is under 30,000 days: the set stays small


def _parse_since(value: str, clock: _Clock) -> str:
    """A date or ISO date-time, as local wall time in settings.TIME_ZONE ("2019-03-14")."""
    text = value.strip()
    try:
        if len(text) == 10:
            dt.date.fromisoformat(text)  # checks it; ISO dates compare as strings
            if text > clock.latest_day:
                raise BadRow(f"owned_since: {text} is in the future")
            if text < "1947":
                raise BadRow(f"owned_since: {text} is before 1947")
            if text == value and len(clock.days_seen) < _DAYS_KEPT:
                clock.days_seen.add(text)
            return text
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRow(f"owned_since: {text!r} is not a date (YYYY-MM-DD) or ISO date-time") from None
    moment = moment.astimezone(clock.tz) if moment.tzinfo else moment.replace(tzinfo=clock.tz)
    if moment > clock.latest:
        raise BadRow(f"owned_since: {text} is in the future")
    if moment.year < 1947:
        raise BadRow(f"owned_since: {text} is before 1947")
    return moment.replace(tzinfo=None).isoformat()


def _cnic(text: str) -> str:
    if len(text) == 15 and text[5] == "-" and text[13] == "-":  # the usual 42101-1234567-1
        digits = text[:5] + text[6:13] + text[14]
        if digits.isdigit() and digits.isascii():
            return digits
    try:
        return cnic_normalize(text)
    except ValueError as exc:
        raise BadRow(f"owner_cnic: {exc}") from None


def _phone(text: str) -> str:
    if len(text) == 13 and text.startswith("+923") and text[1:].isdigit() and text.isascii():
        return text  # already E.164 mobile
    try:
        return phone_normalize(text)
    except ValueError as exc:
        raise BadRow(f"owner_phone: {exc}") from None


def _clean(line: int, row: list[str], columns: Any, width: int, clock: _Clock) -> tuple[Any, ...]:
    """Check one CSV row; raise BadRow saying what is wrong. Fast paths for the usual forms.

    The result is a plain tuple in CleanRow's field order (a million named tuples cost a second).
    """
    if len(row) != width:
        raise BadRow(f"expected {width} fields, found {len(row)}")
    (
        registration_no,
        region,
        vehicle_class,
        make,
        model,
        colour,
        engine_cc,
        status,
        owner_name,
        owner_cnic,
        owner_phone,
        owner_address,
        owner_language,
        owned_since,
    ) = columns(row)
    if not (
        registration_no.strip()
        and region.strip()
        and vehicle_class.strip()
        and owner_name.strip()
        and owner_cnic.strip()
        and owned_since.strip()
    ):
        for name, value in (
            ("registration_no", registration_no),
            ("region", region),
            ("vehicle_class", vehicle_class),
            ("owner_name", owner_name),
            ("owner_cnic", owner_cnic),
            ("owned_since", owned_since),
        ):
            if not value.strip():
                raise BadRow(f"{name} is empty")
    if (
        len(make) > _MAX_MAKE
        or len(model) > _MAX_MODEL
        or len(colour) > _MAX_COLOUR
        or len(owner_name) > _MAX_OWNER_NAME
        or len(owner_address) > _MAX_ADDRESS
    ):
        for name, value, limit in (
            ("make", make, _MAX_MAKE),
            ("model", model, _MAX_MODEL),
            ("colour", colour, _MAX_COLOUR),
            ("owner_name", owner_name, _MAX_OWNER_NAME),
            ("owner_address", owner_address, _MAX_ADDRESS),
        ):
            if len(value) > limit:
                raise BadRow(f"{name} is longer than {limit} characters")
    try:
        plate_key, registration = plate_key_display(registration_no)
    except PlateFormatError as exc:
        raise BadRow(f"registration_no: {exc}") from None
    cc: int | None = None
    if engine_cc:
        engine_cc = engine_cc.strip()
        if not (engine_cc.isdigit() and engine_cc.isascii()) or int(engine_cc) > _MAX_ENGINE_CC:
            raise BadRow(f"engine_cc: {engine_cc!r} is not a whole number of cc up to 30000")
        cc = int(engine_cc)
    # The usual forms inline (a function call each costs a tenth of a microsecond, times
    # a million rows); anything else goes through the helpers, which say what is wrong.
    # Checked in column order, so the reason given is the first thing wrong with the row.
    region = _REGIONS.get(region) or _pick(_REGIONS, region, "region")
    vehicle_class = _CLASSES.get(vehicle_class) or _pick(_CLASSES, vehicle_class, "vehicle_class")
    status = _STATUSES.get(status) or _pick(_STATUSES, status, "status")
    if (
        len(owner_cnic) == 15
        and owner_cnic[5] == "-"
        and owner_cnic[13] == "-"
        and (cnic := owner_cnic[:5] + owner_cnic[6:13] + owner_cnic[14]).isdigit()
        and cnic.isascii()
    ):
        pass
    else:
        cnic = _cnic(owner_cnic)
    if not (
        len(owner_phone) == 13
        and owner_phone.startswith("+923")
        and owner_phone[1:].isdigit()
        and owner_phone.isascii()
    ):
        owner_phone = _phone(owner_phone)
    language = _LANGUAGES.get(owner_language) or _pick(_LANGUAGES, owner_language, "owner_language")
    since = owned_since if owned_since in clock.days_seen else _parse_since(owned_since, clock)
    return (
        line,
        plate_key,
        registration,
        region,
        vehicle_class,
        make.strip(),
        model.strip(),
        colour.strip(),
        cc,
        status,
        " ".join(owner_name.split()),
        cnic,
        owner_phone,
        owner_address.strip(),
        language,
        since,
    )


class _Rejects:
    """Bad rows: counted in the report, and spooled (sorted by line at the end) for the reject file."""

    def __init__(self, report: ImportReport, keep_rows: bool) -> None:
        self.report = report
        self.keep_rows = keep_rows
        self._spool: IO[str] | None = None
        self._writer: Any = None

    def add(self, line: int, reason: str, row: Sequence[Any]) -> None:
        self.report.add_error(line, reason)
        if not self.keep_rows:
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._spool)
        self._writer.writerow([line, reason, *row])

    def write(self, path: str, late: Iterable[tuple[int, str, Sequence[Any]]]) -> None:
        """Merge spooled rows (in line order) with `late` ones (also in line order) into `path`."""
        early: Iterator[list[str]] = iter(())
        if self._spool is not None:
            self._spool.seek(0)
            early = csv.reader(self._spool)
        early_rows = ((int(r[0]), r[1], r[2:]) for r in early)
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "reason", *REGISTRY_COLUMNS])
            for line, reason, row in heapq.merge(early_rows, late, key=lambda r: r[0]):
                writer.writerow([line, reason, *row])
        if self._spool is not None:
            self._spool.close()


def _open_csv(path: Path) -> tuple[IO[bytes], Any, list[int], int]:
    raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        raw.close()
        raise ValueError("the file is empty: expected a header row")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REGISTRY_COLUMNS if c not in names]
    if missing:
        raw.close()
        raise ValueError(
            f"header is missing column(s) {', '.join(missing)}; expected {', '.join(REGISTRY_COLUMNS)}"
        )
    # Extra columns are allowed (and ignored); rows are checked against the header's width.
    return raw, reader, [names.index(c) for c in REGISTRY_COLUMNS], len(names)


def _rows(
    path: Path, report: ImportReport, rejects: _Rejects, progress: bool
) -> Iterator[tuple[Any, ...]]:
    """Checked rows of the file (tuples in CleanRow's field order), streaming; bad ones go to
    `rejects`."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    latest = timezone.now().astimezone(tz) + dt.timedelta(days=1)  # a day's grace for clocks
    clock = _Clock(tz, latest, latest.date().isoformat(), set())
    try:
        raw, reader, index, width = _open_csv(path)
    except ValueError as exc:
        raise RegistryImportError(f"{path}: {exc}", report) from None
    columns = itemgetter(*index)
    total = os.fstat(raw.fileno()).st_size
    bar = tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc="import",
        disable=not progress,
        mininterval=0.5,
    )
    done = 0
    try:
        rows = iter(reader)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:  # a field over csv's size limit, a stray quote at the end
                report.rows_read += 1
                rejects.add(reader.line_num, f"not readable as CSV: {exc}", [])
                continue
            line = reader.line_num
            report.rows_read += 1
            if report.rows_read % PROGRESS_EVERY == 0:
                position = raw.tell()
                bar.update(position - done)
                done = position
            if not row or (len(row) == 1 and not row[0].strip()):
                report.rows_read -= 1  # blank line
                continue
            try:
                joined = "".join(row)
                if "\ufffd" in joined or "\x00" in joined:
                    raise BadRow("not valid UTF-8 text (or has NUL characters)")
                yield _clean(line, row, columns, width, clock)
            except BadRow as exc:
                rejects.add(line, str(exc), [row[i] if i < len(row) else "" for i in index])
        bar.update(total - done)
    finally:
        bar.close()
        raw.close()


# --- Entry point ------------------------------------------------------------------------


def registry_import(
    *,
    path: str | Path,
    skip_bad: bool = False,
    rejects_path: str | Path | None = None,
    progress: bool = False,
) -> ImportReport:
    """Import an Excise & Taxation registry CSV (see the module docstring).

    Raises RegistryImportError, with nothing written, on a bad header or, unless
    `skip_bad`, on any bad row (report.errors has line numbers and reasons).
    With `skip_bad`, bad rows are skipped and written to `rejects_path` when given.
    """
    started = time.perf_counter()
    path = Path(path)
    report = ImportReport(path=str(path))
    rejects = _Rejects(report, keep_rows=bool(skip_bad and rejects_path))
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                late = _import_postgresql(path, report, rejects, skip_bad, progress)
            else:
                late = _import_batches(path, report, rejects, skip_bad, progress)
            if report.rows_rejected and not skip_bad:
                raise RegistryImportError(
                    f"{path}: {report.rows_rejected} bad row(s); nothing imported "
                    "(fix them, or import the rest with --skip-bad)",
                    report,
                )
            if skip_bad and rejects_path:
                rejects.write(str(rejects_path), late)
                report.rejects_path = str(rejects_path)
            clock = time.perf_counter()
        report.lap("commit", clock)  # deferred foreign-key checks run here
        report.committed = True
    finally:
        report.seconds = time.perf_counter() - started
    logger.info("registry import %s: %s", path.name, report.summary())
    return report


# --- PostgreSQL: COPY into staging, then set-based merge ------------------------------

_STAGING_COLUMNS = CleanRow._fields


# The SQL below names the tables; keep it honest if a db_table ever changes.
assert (Owner._meta.db_table, Vehicle._meta.db_table, Ownership._meta.db_table) == (
    "vehicles_owner",
    "vehicles_vehicle",
    "vehicles_ownership",
)


# Owners as the file has them: the last row for a CNIC wins. A hash anti-join on the narrow
# (cnic, line) is faster than sorting the wide rows for DISTINCT ON, which spills at a million.
_LATEST_OWNERS = """
    SELECT owner_name AS name, cnic, phone, address, language
    FROM registry_staging s
    WHERE NOT EXISTS (
        SELECT 1 FROM registry_staging later WHERE later.cnic = s.cnic AND later.line > s.line
    )
"""


def _import_postgresql(
    path: Path, report: ImportReport, rejects: _Rejects, skip_bad: bool, progress: bool
) -> Iterable[tuple[int, str, Sequence[Any]]]:
    with connection.cursor() as cursor:
        # One import at a time: a second waits here until the first commits or rolls back.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('vehicles.registry_import'))")
        # Dropped at commit; an earlier import in the same outer transaction (tests) leaves them.
        cursor.execute(
            "DROP TABLE IF EXISTS registry_staging, registry_late, registry_owners, registry_resolved"
        )
        # Room for the sorts and hashes over the whole file; ends with the transaction.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        # And for the index builds after an initial load (a million keys sort in memory).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            """
            CREATE TEMPORARY TABLE registry_staging (
                line integer NOT NULL, plate_key text NOT NULL, registration text NOT NULL,
                region text NOT NULL, vehicle_class text NOT NULL, make text NOT NULL,
                model text NOT NULL, colour text NOT NULL, engine_cc integer, status text NOT NULL,
                owner_name text NOT NULL, cnic text NOT NULL, phone text NOT NULL,
                address text NOT NULL, language text NOT NULL, owned_since timestamp NOT NULL
            ) ON COMMIT DROP
            """
        )
        clock = time.perf_counter()
        columns = ", ".join(_STAGING_COLUMNS)
        with cursor.cursor.copy(f"COPY registry_staging ({columns}) FROM STDIN") as copy:
            for row in _rows(path, report, rejects, progress):
                copy.write_row(row)
        # Statistics for the joins and groupings below (all columns would cost several times more).
        cursor.execute("ANALYZE registry_staging (line, plate_key, cnic)")
        clock = report.lap("stage", clock)
        if progress:
            tqdm.write("checking against the registry and merging (set-based)...")

        # Rows that only the whole file or the database can tell are bad.
        cursor.execute(
            """
            CREATE TEMPORARY TABLE registry_late ON COMMIT DROP AS
            WITH duplicate AS (
                SELECT plate_key, min(line) AS first_line FROM registry_staging
                GROUP BY plate_key HAVING count(*) > 1
            )
            SELECT DISTINCT ON (s.line) s.line, s.reason, s.registration, s.region, s.vehicle_class, s.make, s.model,
                   s.colour, s.engine_cc, s.status, s.owner_name, s.cnic, s.phone, s.address,
                   s.language, s.owned_since
            FROM (
                SELECT st.*, 'registration_no: ' || st.registration || ' is already on line '
                            || d.first_line AS reason
                FROM registry_staging st JOIN duplicate d ON d.plate_key = st.plate_key
                WHERE st.line <> d.first_line
                UNION ALL
                SELECT st.*, 'owned_since: the owner changed but '
                            || st.owned_since::date
                            || ' is not after the current owner''s since '
                            || (o.valid_from AT TIME ZONE %(tz)s)::date AS reason
                FROM registry_staging st
                JOIN vehicles_vehicle v ON v.plate_key = st.plate_key
                JOIN vehicles_ownership o ON o.vehicle_id = v.id AND o.valid_to IS NULL
                JOIN vehicles_owner w ON w.id = o.owner_id
                WHERE w.cnic <> st.cnic AND (st.owned_since AT TIME ZONE %(tz)s) <= o.valid_from
            ) s
            ORDER BY s.line
            """,
            {"tz": settings.TIME_ZONE},
        )
        cursor.execute(
            "SELECT line, reason FROM registry_late ORDER BY line LIMIT %s", [MAX_ERRORS_KEPT]
        )
        first_late = cursor.fetchall()
        for line, reason in first_late:
            report.add_error(line, reason)
        report.errors.sort()
        cursor.execute("SELECT count(*) FROM registry_late")
        late_count = _one(cursor)
        report.rows_rejected += late_count - len(first_late)
        if late_count:
            cursor.execute(
                "DELETE FROM registry_staging s USING registry_late l WHERE s.line = l.line"
            )
        late = _late_rows() if late_count else iter(())
        clock = report.lap("checks", clock)
        if report.rows_rejected and not skip_bad:
            return late

        cursor.execute("SELECT count(*) FROM registry_staging")
        staged = _one(cursor)
        # Which registry tables are empty (a first load): their steps need no matching against
        # what is there. Imports are serialised by the lock above.
        cursor.execute(
            """
            SELECT NOT EXISTS (SELECT 1 FROM vehicles_owner),
                   NOT EXISTS (SELECT 1 FROM vehicles_vehicle),
                   NOT EXISTS (SELECT 1 FROM vehicles_ownership)
            """
        )
        row = cursor.fetchone()
        assert row is not None
        no_owners, no_vehicles, no_ownerships = row

        # Owners (_LATEST_OWNERS): update what differs, insert what is new (hash joins over
        # the whole set: faster than a per-row ON CONFLICT probe).
        if no_owners:
            with _initial_load(cursor, "vehicles_owner", staged):
                cursor.execute(
                    f"""
                    INSERT INTO vehicles_owner
                        (name, cnic, phone, address, preferred_language, created_at, updated_at)
                    SELECT name, cnic, phone, address, language, now(), now()
                    FROM ({_LATEST_OWNERS}) o
                    """  # noqa: S608 - a constant of this module
                )
                report.owners_created = cursor.rowcount
        else:
            cursor.execute(
                f"""
                CREATE TEMPORARY TABLE registry_owners ON COMMIT DROP AS {_LATEST_OWNERS}
                """
            )
            cursor.execute(
                """
                UPDATE vehicles_owner w
                SET name = o.name, phone = o.phone, address = o.address,
                    preferred_language = o.language, updated_at = now()
                FROM registry_owners o
                WHERE w.cnic = o.cnic
                  AND (w.name, w.phone, w.address, w.preferred_language)
                      IS DISTINCT FROM (o.name, o.phone, o.address, o.language)
                """
            )
            report.owners_updated = cursor.rowcount
            cursor.execute(
                """
                INSERT INTO vehicles_owner
                    (name, cnic, phone, address, preferred_language, created_at, updated_at)
                SELECT o.name, o.cnic, o.phone, o.address, o.language, now(), now()
                FROM registry_owners o
                WHERE NOT EXISTS (SELECT 1 FROM vehicles_owner w WHERE w.cnic = o.cnic)
                ORDER BY o.cnic COLLATE "C"
                """
            )
            report.owners_created = cursor.rowcount
        clock = report.lap("owners", clock)

        if no_vehicles:
            # Nothing to match, and no order to keep an index's pages hot in: the indexes are
            # built afterwards (or the load is small).
            with _initial_load(cursor, "vehicles_vehicle", staged):
                cursor.execute(
                    """
                    INSERT INTO vehicles_vehicle
                        (registration, plate_key, region, vehicle_class, make, model, colour,
                         engine_cc, status, created_at, updated_at)
                    SELECT registration, plate_key, region, vehicle_class, make, model, colour,
                           engine_cc, status, now(), now()
                    FROM registry_staging
                    """
                )
                report.vehicles_created = cursor.rowcount
        else:
            cursor.execute(
                """
                UPDATE vehicles_vehicle v
                SET registration = s.registration, region = s.region,
                    vehicle_class = s.vehicle_class, make = s.make, model = s.model,
                    colour = s.colour, engine_cc = s.engine_cc, status = s.status,
                    updated_at = now()
                FROM registry_staging s
                WHERE v.plate_key = s.plate_key
                  AND (v.registration, v.region, v.vehicle_class, v.make, v.model, v.colour,
                       v.engine_cc, v.status)
                      IS DISTINCT FROM (s.registration, s.region, s.vehicle_class, s.make,
                                        s.model, s.colour, s.engine_cc, s.status)
                """
            )
            report.vehicles_updated = cursor.rowcount
            cursor.execute(
                """
                INSERT INTO vehicles_vehicle
                    (registration, plate_key, region, vehicle_class, make, model, colour,
                     engine_cc, status, created_at, updated_at)
                SELECT s.registration, s.plate_key, s.region, s.vehicle_class, s.make, s.model,
                       s.colour, s.engine_cc, s.status, now(), now()
                FROM registry_staging s
                WHERE NOT EXISTS (SELECT 1 FROM vehicles_vehicle v WHERE v.plate_key = s.plate_key)
                -- Sorted inserts keep the unique index's pages hot; "C": keys are ASCII, and
                -- byte order sorts several times faster than a libc collation.
                ORDER BY s.plate_key COLLATE "C"
                """
            )
            report.vehicles_created = cursor.rowcount
        clock = report.lap("vehicles", clock)

        if no_ownerships:
            # No open ownership to close: every row opens one, straight from the join.
            with _initial_load(cursor, "vehicles_ownership", staged):
                cursor.execute(
                    """
                    INSERT INTO vehicles_ownership (vehicle_id, owner_id, valid_from, valid_to)
                    SELECT v.id, w.id, s.owned_since AT TIME ZONE %(tz)s, NULL
                    FROM registry_staging s
                    JOIN vehicles_vehicle v ON v.plate_key = s.plate_key
                    JOIN vehicles_owner w ON w.cnic = s.cnic
                    """,
                    {"tz": settings.TIME_ZONE},
                )
                report.ownerships_opened = cursor.rowcount
        else:
            # Each row whose vehicle has no open ownership, or one by another owner.
            cursor.execute(
                """
                CREATE TEMPORARY TABLE registry_resolved ON COMMIT DROP AS
                SELECT v.id AS vehicle_id, w.id AS owner_id,
                       s.owned_since AT TIME ZONE %(tz)s AS owned_since, o.id AS open_id
                FROM registry_staging s
                JOIN vehicles_vehicle v ON v.plate_key = s.plate_key
                JOIN vehicles_owner w ON w.cnic = s.cnic
                LEFT JOIN vehicles_ownership o ON o.vehicle_id = v.id AND o.valid_to IS NULL
                WHERE o.id IS NULL OR o.owner_id <> w.id
                """,
                {"tz": settings.TIME_ZONE},
            )
            cursor.execute(
                """
                UPDATE vehicles_ownership o SET valid_to = r.owned_since
                FROM registry_resolved r WHERE o.id = r.open_id
                """
            )
            report.ownerships_closed = cursor.rowcount
            cursor.execute(
                """
                INSERT INTO vehicles_ownership (vehicle_id, owner_id, valid_from, valid_to)
                SELECT vehicle_id, owner_id, owned_since, NULL FROM registry_resolved
                ORDER BY vehicle_id
                """
            )
            report.ownerships_opened = cursor.rowcount
        clock = report.lap("ownerships", clock)
        report.rows_imported = staged
    return late


INITIAL_LOAD_ROWS = 50_000


@contextlib.contextmanager
def _initial_load(cursor: Any, table: str, incoming: int) -> Iterator[None]:
    """Loading many rows into an empty table: drop its indexes and keys, load, put them back.

    Maintained row by row, a million inserted rows cost a million probes per index and two
    million foreign-key trigger runs at commit; built afterwards, each index is one sort and
    each key one join (PostgreSQL's "Populating a Database" advice). Only for a large load
    into an empty table: the ACCESS EXCLUSIVE lock this takes then shuts out no reader.
    The primary key stays (other tables' foreign keys point at it; ids are appended anyway).
    """
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 - a constant
    if incoming < INITIAL_LOAD_ROWS or _one(cursor):
        yield
        return
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), conindid FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype, conname
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        [table],
    )
    indexes = cursor.fetchall()
    for name, _, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _, definition in indexes:
        cursor.execute(definition)
    for name, definition, _ in sorted(constraints, key=lambda c: c[1].startswith("FOREIGN")):
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _one(cursor: Any) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def _late_rows(chunk: int = 10_000) -> Iterator[tuple[int, str, Sequence[Any]]]:
    """Rows rejected by the database checks, in line order, a chunk at a time."""
    after = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT * FROM registry_late WHERE line > %s ORDER BY line LIMIT %s", [after, chunk]
            )
            rows = cursor.fetchall()
            for line, reason, *rest in rows:
                yield line, reason, [_text(v) for v in rest]
            if len(rows) < chunk:
                return
            after = rows[-1][0]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


# --- SQLite (and any other database): batches of bulk writes ---------------------------


def _import_batches(
    path: Path, report: ImportReport, rejects: _Rejects, skip_bad: bool, progress: bool
) -> list[tuple[int, str, Sequence[Any]]]:
    seen: dict[str, int] = {}  # plate key -> first line; memory grows with the file (dev only)
    batch: list[CleanRow] = []
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    for values in _rows(path, report, rejects, progress):
        row = CleanRow._make(values)
        first = seen.setdefault(row.plate_key, row.line)
        if first != row.line:
            rejects.add(
                row.line,
                f"registration_no: {row.registration} is already on line {first}",
                _row_values(row),
            )
            continue
        batch.append(row)
        if len(batch) >= SQLITE_BATCH:
            _write_batch(batch, report, rejects, skip_bad, tz)
            batch = []
    if batch:
        _write_batch(batch, report, rejects, skip_bad, tz)
    return []


def _row_values(row: CleanRow) -> list[Any]:
    return [
        row.registration,
        row.region,
        row.vehicle_class,
        row.make,
        row.model,
        row.colour,
        "" if row.engine_cc is None else row.engine_cc,
        row.status,
        row.owner_name,
        row.cnic,
        row.phone,
        row.address,
        row.language,
        row.owned_since,
    ]


def _aware(text: str, tz: dt.tzinfo) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


_VEHICLE_FIELDS = (
    "registration",
    "region",
    "vehicle_class",
    "make",
    "model",
    "colour",
    "engine_cc",
    "status",
)
_OWNER_FIELDS = ("name", "phone", "address", "preferred_language")


def _write_batch(
    batch: list[CleanRow],
    report: ImportReport,
    rejects: _Rejects,
    skip_bad: bool,
    tz: dt.tzinfo,
) -> None:
    since = {row.line: _aware(row.owned_since, tz) for row in batch}
    vehicles = Vehicle.objects.in_bulk([r.plate_key for r in batch], field_name="plate_key")
    open_rows = {
        o.vehicle_id: o
        for o in Ownership.objects.filter(
            vehicle_id__in=[v.pk for v in vehicles.values()], valid_to__isnull=True
        ).select_related("owner")
    }
    good = []
    for row in batch:
        vehicle = vehicles.get(row.plate_key)
        current = open_rows.get(vehicle.pk) if vehicle else None
        if current and current.owner.cnic != row.cnic and since[row.line] <= current.valid_from:
            rejects.add(
                row.line,
                f"owned_since: the owner changed but {since[row.line].date()} is not after "
                f"the current owner's since {current.valid_from.astimezone(tz).date()}",
                _row_values(row),
            )
            continue
        good.append(row)
    if report.rows_rejected and not skip_bad:
        return  # the import will be rolled back: only keep finding bad rows
    now = timezone.now()

    # Owners: the last row for a CNIC wins.
    owner_rows = {row.cnic: row for row in good}
    owners = Owner.objects.in_bulk(list(owner_rows), field_name="cnic")
    new_owners, changed_owners = [], []
    for cnic, row in owner_rows.items():
        values = {
            "name": row.owner_name,
            "phone": row.phone,
            "address": row.address,
            "preferred_language": row.language,
        }
        owner = owners.get(cnic)
        if owner is None:
            new_owners.append(Owner(cnic=cnic, created_at=now, updated_at=now, **values))
        elif any(getattr(owner, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(owner, k, v)
            owner.updated_at = now
            changed_owners.append(owner)
    Owner.objects.bulk_create(new_owners)
    Owner.objects.bulk_update(changed_owners, [*_OWNER_FIELDS, "updated_at"])
    report.owners_created += len(new_owners)
    report.owners_updated += len(changed_owners)
    owners = Owner.objects.in_bulk(list(owner_rows), field_name="cnic")

    # Vehicles.
    new_vehicles, changed_vehicles = [], []
    for row in good:
        values = {f: getattr(row, f) for f in _VEHICLE_FIELDS}
        vehicle = vehicles.get(row.plate_key)
        if vehicle is None:
            new_vehicles.append(
                Vehicle(plate_key=row.plate_key, created_at=now, updated_at=now, **values)
            )
        elif any(getattr(vehicle, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(vehicle, k, v)
            vehicle.updated_at = now
            changed_vehicles.append(vehicle)
    Vehicle.objects.bulk_create(new_vehicles)
    Vehicle.objects.bulk_update(changed_vehicles, [*_VEHICLE_FIELDS, "updated_at"])
    report.vehicles_created += len(new_vehicles)
    report.vehicles_updated += len(changed_vehicles)
    vehicles = Vehicle.objects.in_bulk([r.plate_key for r in good], field_name="plate_key")

    # Ownerships: close the open row when the owner changed, open the new owner's.
    closing, opening = [], []
    for row in good:
        vehicle = vehicles[row.plate_key]
        owner = owners[row.cnic]
        current = open_rows.get(vehicle.pk)
        if current is not None and current.owner_id == owner.pk:
            continue
        if current is not None:
            current.valid_to = since[row.line]
            closing.append(current)
        opening.append(Ownership(vehicle=vehicle, owner=owner, valid_from=since[row.line]))
    Ownership.objects.bulk_update(closing, ["valid_to"])
    Ownership.objects.bulk_create(opening)
    report.ownerships_closed += len(closing)
    report.ownerships_opened += len(opening)
    report.rows_imported += len(good)
