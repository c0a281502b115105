"""A deterministic synthetic registry: plausible plates per region, owners, vehicles.

Used by `seed_demo` (a few thousand rows into the database) and by the registry
benchmark (a million rows into a CSV). Pure Python, no Django; same seed, same rows.
Every generated plate key is unique within one generator.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass

from vehicles.plates import plate_normalize

__all__ = ["PLATE_FORMATS", "SyntheticRegistry", "SyntheticRow"]

UPPER = string.ascii_uppercase


@dataclass(frozen=True)
class PlateFormat:
    """A family of plates: series letters drawn from `first` x `rest`^(n-1), a number range.

    Families never share a key: they differ in first letters, series length or digits.
    """

    name: str
    region: str
    first: str  # letters the series may start with
    series_len: int
    number_digits: int  # digits printed in the number
    number_min: int
    number_max: int
    year: bool = False  # Punjab: a 2-digit year between series and number
    suffix: bool = False  # Sindh TD-483C

    @property
    def size(self) -> int:
        n = len(self.first) * 26 ** (self.series_len - 1) * (self.number_max - self.number_min + 1)
        return n * (26 if self.year else 1) * (26 if self.suffix else 1)

    def plate(self, index: int) -> str:
        """The index-th plate of the family (0 <= index < size), as printed."""
        index, number = divmod(index, self.number_max - self.number_min + 1)
        number += self.number_min
        year = suffix = ""
        if self.year:
            index, y = divmod(index, 26)
            year = f"{y:02d}"  # 00-25
        if self.suffix:
            index, s = divmod(index, 26)
            suffix = UPPER[s]
        letters = []
        for _ in range(self.series_len - 1):
            index, c = divmod(index, 26)
            letters.append(UPPER[c])
        series = self.first[index % len(self.first)] + "".join(reversed(letters))
        digits = f"{number:0{self.number_digits}d}"
        if year:
            return f"{series}-{year}-{digits}"
        return f"{series}-{digits}{suffix}"


# (format, weight): Karachi-heavy, as the cameras see it.
PLATE_FORMATS: list[tuple[PlateFormat, int]] = [
    (PlateFormat("sindh-3L4D", "sindh", "ABCDEFGHJK", 3, 4, 1000, 9999), 40),
    (PlateFormat("sindh-3L3D", "sindh", "BCDEF", 3, 3, 100, 999), 8),
    (PlateFormat("sindh-suffix", "sindh", "TUVWXY", 2, 3, 100, 999, suffix=True), 3),
    (PlateFormat("karachi-old", "sindh", "CJKPRSZ", 1, 4, 1000, 9999), 2),
    (PlateFormat("punjab-year-4", "punjab", "LFGMRS", 3, 4, 1000, 9999, year=True), 14),
    (PlateFormat("punjab-year-3", "punjab", "LFGR", 2, 3, 100, 999, year=True), 3),
    (PlateFormat("punjab-noyear", "punjab", "L", 3, 4, 1000, 9999), 6),
    (PlateFormat("punjab-new", "punjab", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3, 3, 0, 99), 5),
    (PlateFormat("ict", "ict", "AI", 3, 3, 100, 999), 6),
    (PlateFormat("kp", "kp", "PM", 3, 4, 1000, 9999), 6),
    (PlateFormat("balochistan", "balochistan", "Q", 3, 4, 1000, 9999), 3),
    (PlateFormat("gb", "gb", "G", 3, 3, 100, 999), 2),
    (PlateFormat("ajk", "ajk", "M", 3, 3, 100, 999), 2),
]

# (class, weight, [(make, model, cc)]).
CLASSES: list[tuple[str, int, list[tuple[str, str, int]]]] = [
    (
        "motorcycle",
        42,
        [
            ("Honda", "CD 70", 70),
            ("Honda", "CG 125", 125),
            ("Yamaha", "YBR 125", 125),
            ("Suzuki", "GS 150", 150),
            ("United", "US 70", 70),
        ],
    ),
    (
        "car",
        33,
        [
            ("Suzuki", "Mehran", 800),
            ("Suzuki", "Alto", 660),
            ("Suzuki", "Cultus", 1000),
            ("Toyota", "Corolla", 1300),
            ("Honda", "City", 1300),
            ("Honda", "Civic", 1800),
            ("Toyota", "Yaris", 1300),
            ("Kia", "Picanto", 1000),
        ],
    ),
    (
        "jeep",
        4,
        [("Toyota", "Fortuner", 2700), ("Kia", "Sportage", 2000), ("Toyota", "Land Cruiser", 4500)],
    ),
    (
        "rickshaw",
        8,
        [
            ("Sazgar", "Auto Rickshaw", 200),
            ("New Asia", "Loader", 150),
            ("Qingqi", "6-seater", 100),
        ],
    ),
    ("van", 4, [("Suzuki", "Bolan", 800), ("Toyota", "Hiace", 2700), ("Suzuki", "Every", 660)]),
    ("pickup", 3, [("Suzuki", "Ravi", 800), ("Toyota", "Hilux", 2800)]),
    ("bus", 2, [("Hino", "RK8", 7700), ("Isuzu", "Forward", 5200), ("Daewoo", "BS106", 11000)]),
    (
        "truck",
        3,
        [("Hino", "500 Series", 7700), ("Isuzu", "FVR", 7800), ("Nissan", "Diesel CK", 6900)],
    ),
    ("trailer", 1, [("Local", "Flatbed Trailer", 0)]),
    ("tractor", 1, [("Massey Ferguson", "MF 385", 3900), ("Fiat", "640", 3600)]),
]
COLOURS = ["White", "Black", "Silver", "Grey", "Red", "Blue", "Maroon", "Green", "Beige", "Yellow"]
STATUSES = [("active", 960), ("sale_pending", 25), ("stolen", 5), ("cancelled", 10)]

FIRST_NAMES = [
    "Muhammad",
    "Ahmed",
    "Ali",
    "Hassan",
    "Usman",
    "Bilal",
    "Imran",
    "Faisal",
    "Hamza",
    "Zain",
    "Ayesha",
    "Fatima",
    "Sana",
    "Hira",
    "Maryam",
    "Zainab",
    "Saima",
    "Nadia",
    "Rabia",
    "Sadia",
    "Abdul",
    "Ghulam",
    "Noor",
    "Kashif",
    "Asad",
    "Saad",
    "Danish",
    "Farhan",
    "Shahid",
    "Tariq",
]
LAST_NAMES = [
    "Khan",
    "Ahmed",
    "Siddiqui",
    "Qureshi",
    "Baloch",
    "Memon",
    "Shaikh",
    "Soomro",
    "Abbasi",
    "Hussain",
    "Malik",
    "Butt",
    "Chaudhry",
    "Rajput",
    "Jatoi",
    "Bhutto",
    "Mirza",
    "Raza",
    "Syed",
    "Zaidi",
    "Rizvi",
    "Farooqui",
    "Ansari",
    "Lakhani",
    "Bukhari",
]
# Karachi districts and areas (South with DHA, East, Malir, ...), for postal addresses.
KARACHI_AREAS = [
    ("South", ["DHA Phase 6", "Clifton Block 5", "Saddar", "Lyari", "Garden East"]),
    (
        "East",
        ["Gulshan-e-Iqbal Block 7", "PECHS Block 2", "Gulistan-e-Jauhar Block 15", "Mehmoodabad"],
    ),
    ("Central", ["North Nazimabad Block H", "Gulberg Block 12", "Liaquatabad", "Federal B Area"]),
    ("West", ["Orangi Town Sector 11", "Baldia Town", "SITE Area", "Manghopir"]),
    ("Malir", ["Malir Cantt", "Shah Faisal Colony", "Landhi", "Korangi Sector 31"]),
    ("Keamari", ["Keamari", "Mauripur", "Shershah"]),
    ("Korangi", ["Korangi Industrial Area", "Korangi Crossing", "Zaman Town"]),
]
OTHER_CITIES = {
    "punjab": ["Lahore", "Faisalabad", "Rawalpindi", "Gujranwala", "Multan"],
    "ict": ["Islamabad"],
    "kp": ["Peshawar", "Mardan", "Abbottabad"],
    "balochistan": ["Quetta", "Hub"],
    "gb": ["Gilgit", "Skardu"],
    "ajk": ["Mirpur", "Muzaffarabad"],
}
CNIC_DISTRICTS = {
    "sindh": ["42101", "42201", "42301", "42401", "42501"],
    "punjab": ["35201", "35202", "33100", "34101", "36302"],
    "ict": ["61101"],
    "kp": ["17301", "16101", "13101"],
    "balochistan": ["54400", "54201"],
    "gb": ["71501"],
    "ajk": ["81302", "82101"],
}
MOBILE_PREFIXES = ["300", "301", "303", "312", "321", "322", "333", "334", "345", "346", "355"]


@dataclass(frozen=True)
class SyntheticOwner:
    name: str
    cnic: str
    phone: str
    address: str
    language: str


@dataclass(frozen=True)
class SyntheticRow:
    registration: str
    plate_key: str
    region: str
    vehicle_class: str
    make: str
    model: str
    colour: str
    engine_cc: int | None
    status: str
    owner: SyntheticOwner
    owned_since: dt.date
    previous_owners: tuple[tuple[SyntheticOwner, dt.date], ...]  # oldest first, for sold vehicles

    def csv_row(self) -> list[str]:
        """In vehicles.services.REGISTRY_COLUMNS order."""
        o = self.owner
        return [
            self.registration, self.region, self.vehicle_class, self.make, self.model,
            self.colour, "" if self.engine_cc is None else str(self.engine_cc), self.status,
            o.name, f"{o.cnic[:5]}-{o.cnic[5:12]}-{o.cnic[12]}", o.phone, o.address, o.language,
            self.owned_since.isoformat(),
        ]  # fmt: skip


class SyntheticRegistry:
    """rows(n) yields n vehicles with unique plates; the same seed gives the same rows."""

    def __init__(self, seed: int = 42, *, today: dt.date = dt.date(2025, 11, 1)) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self._formats = [f for f, _ in PLATE_FORMATS]
        self._format_weights = [w for _, w in PLATE_FORMATS]
        self._used = [0] * len(self._formats)
        # A fixed stride per family walks its key space in a scattered but collision-free order.
        self._stride = [self._coprime_stride(f.size) for f in self._formats]
        self._owner_serial = 0
        self._recent_owners: list[SyntheticOwner] = []

    def _coprime_stride(self, size: int) -> int:
        stride = int(size * 0.6180339887) | 1
        while math.gcd(stride, size) != 1:
            stride += 2
        return stride

    def _plate(self) -> tuple[str, str]:
        i = self.rng.choices(range(len(self._formats)), self._format_weights)[0]
        fmt = self._formats[i]
        if self._used[i] >= fmt.size:
            raise RuntimeError(f"plate family {fmt.name} is exhausted")
        index = ((self._used[i] + 1) * self._stride[i]) % fmt.size
        self._used[i] += 1
        return fmt.plate(index), fmt.region

    def _owner(self, region: str) -> SyntheticOwner:
        rng = self.rng
        self._owner_serial += 1
        serial = self._owner_serial
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(FIRST_NAMES) + ' ' if rng.random() < 0.3 else ''}{rng.choice(LAST_NAMES)}"
        # Karachi is where the cameras are: most owners live there whatever the plate.
        home = "sindh" if region == "sindh" or rng.random() < 0.7 else region
        district = rng.choice(CNIC_DISTRICTS[home])
        # The serial makes the CNIC unique; the last digit is odd for men, even for women.
        cnic = f"{district}{serial:07d}{rng.randint(1, 9)}"
        phone = f"+92{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
        if home == "sindh":
            district_name, areas = rng.choice(KARACHI_AREAS)
            address = (
                f"House {rng.randint(1, 400)}, Street {rng.randint(1, 40)}, "
                f"{rng.choice(areas)}, {district_name} District, Karachi"
            )
        else:
            address = (
                f"House {rng.randint(1, 400)}, Street {rng.randint(1, 40)}, "
                f"Mohalla {rng.choice(LAST_NAMES)}, {rng.choice(OTHER_CITIES[home])}"
            )
        language = "en" if rng.random() < 0.25 else "ur"
        return SyntheticOwner(name, cnic, phone, address, language)

    def _date(self, start: dt.date, end: dt.date) -> dt.date:
        span = (end - start).days
        return start + dt.timedelta(days=self.rng.randint(0, max(span, 0)))

    def rows(self, n: int, *, sold_share: float = 0.08) -> Iterator[SyntheticRow]:
        rng = self.rng
        classes = [c for c, _, _ in CLASSES]
        class_weights = [w for _, w, _ in CLASSES]
        models = {c: m for c, _, m in CLASSES}
        statuses = [s for s, _ in STATUSES]
        status_weights = [w for _, w in STATUSES]
        for _ in range(n):
            registration, region = self._plate()
            vehicle_class = rng.choices(classes, class_weights)[0]
            make, model, cc = rng.choice(models[vehicle_class])
            # One owner in ten has more than one vehicle.
            if self._recent_owners and rng.random() < 0.1:
                owner = rng.choice(self._recent_owners)
            else:
                owner = self._owner(region)
                self._recent_owners.append(owner)
                if len(self._recent_owners) > 500:
                    self._recent_owners.pop(0)
            first = self._date(dt.date(2005, 1, 1), self.today - dt.timedelta(days=400))
            previous: tuple[tuple[SyntheticOwner, dt.date], ...] = ()
            since = first
            if rng.random() < sold_share:
                since = self._date(first + dt.timedelta(days=30), self.today - dt.timedelta(days=5))
                previous = ((self._owner(region), first),)
            yield SyntheticRow(
                registration=registration,
                plate_key=plate_normalize(registration).key,
                region=region,
                vehicle_class=vehicle_class,
                make=make,
                model=model,
                colour=rng.choice(COLOURS),
                engine_cc=cc or None,
                status=rng.choices(statuses, status_weights)[0],
                owner=owner,
                owned_since=since,
                previous_owners=previous,
            )
