"""A deterministic demo network and its residents, as FHIR JSON dicts (pure: no clock, no I/O).

One kota (Kota Semarang, wilayah 3374) with its dinkes, two puskesmas (one per kecamatan), two pustu per
puskesmas (one per kelurahan), two posyandu per pustu (each covering named RWs), a Location per facility,
nakes and kader with their PractitionerRoles, and residents of every life-cycle stage living in households.

Ids are assigned by the server, so references between generated resources are placeholders
(``urn:ilp-demo:<key>``); resources come in dependency order, so the loader can replace each placeholder with
the id the server returned for an earlier resource.

The wilayah names are real places; the 10-digit kelurahan codes follow the Kemendagri structure (digit 7 = 1,
kelurahan) but are illustrative, not checked against the Kepmendagri list.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from ilp_api.fhir.registry import Json
from ilp_api.ilp.age import Age
from ilp_api.ilp.nik import FEMALE_DAY_OFFSET
from ilp_api.ilp.stages import life_cycle_stages
from ilp_api.resources.indonesia import ADMINISTRATIVE_CODE, KK, NIK, NIK_IBU, bpjs_system
from ilp_api.resources.organization import facility_type_system, rw_coverage_url
from ilp_api.resources.practitioner import peran_system

PLACEHOLDER = "urn:ilp-demo:"
DEFAULT_SEED = 3374
DEFAULT_RESIDENTS = 300
# Share of residents whose NIK deliberately disagrees with their record, to show the data-quality flags.
NIK_MISMATCH_RATE = 0.02
BPJS_RATE = 0.7
PHONE_RATE = 0.65

Sex = Literal["male", "female"]


def demo_identifier_system(canonical_base: str) -> str:
    """Marks demo facilities; the dinkes's value is how a second load recognises the first."""
    return f"{canonical_base}/sid/ilp-demo"


def demo_tag_system(canonical_base: str) -> str:
    """``_tag=<this>|demo`` finds every demo resource (to show or to remove them)."""
    return f"{canonical_base}/CodeSystem/ilp-demo"


def demo_meta(canonical_base: str) -> Json:
    return {"tag": [{"system": demo_tag_system(canonical_base), "code": "demo", "display": "ILP demo data"}]}


@dataclass(frozen=True)
class DemoResource:
    key: str  # local name, referenced as PLACEHOLDER + key until the server assigns an id
    resource_type: str
    kind: str  # facility type, peran code, or the resident's life-cycle group (or ibu-hamil)
    body: Json


@dataclass(frozen=True)
class DemoNetwork:
    resources: tuple[DemoResource, ...]  # dependency order: a resource refers only to earlier ones
    dinkes_key: str
    nik_mismatches: frozenset[str]  # keys of residents whose NIK deliberately disagrees with their record

    def of_type(self, resource_type: str) -> list[DemoResource]:
        return [r for r in self.resources if r.resource_type == resource_type]


# ---- the place: names are real, kelurahan codes illustrative ----


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    postal_code: str
    position: tuple[float, float]  # latitude, longitude
    streets: tuple[str, ...]
    posyandu: tuple[tuple[str, tuple[str, ...]], ...]  # (name, RWs covered)


@dataclass(frozen=True)
class District:
    code: str
    name: str
    puskesmas: str
    address: str
    postal_code: str
    position: tuple[float, float]
    villages: tuple[Village, Village]


PROVINCE = ("33", "Jawa Tengah")
CITY = ("3374", "Kota Semarang")
DINKES_ADDRESS = ("Jl. Pandanaran No. 79", "50241", (-6.9893, 110.4153))
DISTRICTS = (
    District(
        "337406",
        "Pedurungan",
        "Puskesmas Pedurungan",
        "Jl. Brigjen Sudiarto No. 355",
        "50192",
        (-6.9989, 110.4627),
        (
            Village(
                "3374061001",
                "Pedurungan Kidul",
                "50192",
                (-7.0030, 110.4705),
                ("Jl. Dorang", "Jl. Kinibalu", "Jl. Pedurungan Kidul Raya"),
                (("Posyandu Mawar", ("001", "002")), ("Posyandu Melati", ("003", "004"))),
            ),
            Village(
                "3374061007",
                "Tlogosari Kulon",
                "50196",
                (-6.9840, 110.4590),
                ("Jl. Tlogosari Raya", "Jl. Taman Satrio Manah", "Jl. Soekarno-Hatta"),
                (("Posyandu Anggrek", ("001", "002")), ("Posyandu Dahlia", ("005", "006"))),
            ),
        ),
    ),
    District(
        "337410",
        "Tembalang",
        "Puskesmas Kedungmundu",
        "Jl. Sambiroto No. 2",
        "50273",
        (-7.0245, 110.4560),
        (
            Village(
                "3374101005",
                "Kedungmundu",
                "50273",
                (-7.0210, 110.4480),
                ("Jl. Kedungmundu Raya", "Jl. Tusam", "Jl. Sambiroto"),
                (("Posyandu Kenanga", ("001", "002")), ("Posyandu Flamboyan", ("003", "004"))),
            ),
            Village(
                "3374101008",
                "Sendangmulyo",
                "50272",
                (-7.0380, 110.4650),
                ("Jl. Klipang Raya", "Jl. Bukit Kelapa", "Jl. Sendangmulyo"),
                (("Posyandu Cempaka", ("004", "005")), ("Posyandu Teratai", ("007", "008"))),
            ),
        ),
    ),
)
# Kecamatan of first registration for residents who moved in from elsewhere in Jawa Tengah (NIK digits 1–6).
ORIGIN_AREAS = ("332201", "331006", "337101", "332406", "331509")

# ---- names ----

GIVEN = {
    ("male", "old"): ("Slamet", "Sutrisno", "Ngadiman", "Sukardi", "Suparman", "Karyono", "Suwarno", "Mulyono"),
    ("female", "old"): ("Sumarni", "Sukarti", "Tukinem", "Suparmi", "Painem", "Sarinah", "Kasmini", "Sulastri"),
    ("male", "adult"): ("Budi", "Agus", "Joko", "Bambang", "Eko", "Hendra", "Teguh", "Wahyu", "Arif", "Heru", "Yusuf"),
    ("female", "adult"): ("Siti", "Sri", "Dewi", "Rina", "Endang", "Yuni", "Ratna", "Wulan", "Nur", "Fitri", "Retno"),
    ("male", "young"): ("Rizky", "Fajar", "Dimas", "Gilang", "Bayu", "Aditya", "Farhan", "Arkan", "Daffa", "Naufal"),
    ("female", "young"): ("Aisyah", "Putri", "Nabila", "Zahra", "Salsabila", "Kirana", "Alya", "Keisha", "Naura"),
}
SECOND = {
    "male": ("Santoso", "Wibowo", "Susanto", "Pratama", "Saputra", "Hidayat", "Kurniawan", "Setiawan", "Nugroho"),
    "female": ("Rahayu", "Lestari", "Wulandari", "Handayani", "Rahmawati", "Puspitasari", "Anggraini", "Safitri"),
}
PHONE_PREFIXES = ("0812", "0813", "0821", "0852", "0856", "0857", "0878", "0895", "0896", "0838")
# The group a resident is counted in, most specific first (life_cycle_stages may give several).
GROUP_PRIORITY = (
    "bayi-baru-lahir",
    "bayi",
    "balita",
    "remaja",
    "anak-prasekolah",
    "anak-usia-sekolah",
    "dewasa",
    "lansia",
)
PREGNANT = "ibu-hamil"


def resident_group(birth_date: date, today: date) -> str:
    stages = life_cycle_stages(Age.at(birth_date, today), None, today)
    return next(group for group in GROUP_PRIORITY if group in stages)


# ---- residents, before they become FHIR ----


@dataclass(frozen=True)
class _Home:
    district: District
    village: Village
    rw: str
    rt: str
    line: str
    kk: str
    organization_key: str


@dataclass
class _Person:
    home: _Home
    sex: Sex
    birth_date: date
    given: list[str]
    origin: str  # kecamatan of NIK registration
    group: str
    nik: str | None = None
    mother_nik: str | None = None
    name_text: str | None = None  # only newborns: "By Ny. <mother>"
    nik_is_referenced: bool = False  # a newborn's nik-ibu: must not be re-issued
    nik_mismatch: bool = False


class _UniqueDigits:
    """Random digit strings, never the same twice (NIK serials, KK and BPJS numbers)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()

    def draw(self, prefix: str, digits: int) -> str:
        while True:
            value = prefix + f"{self.rng.randrange(10**digits):0{digits}d}"
            if value not in self.taken:
                self.taken.add(value)
                return value


def encode_nik(area: str, birth_date: date, sex: Sex, serial: str) -> str:
    """``PPKKCC DDMMYY SSSS``, the day +40 for women (profile §1)."""
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == "female" else 0)
    return f"{area}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial}"


@dataclass
class _Builder:
    canonical_base: str
    today: date
    rng: random.Random
    resources: list[DemoResource] = field(default_factory=list)
    nik_mismatches: set[str] = field(default_factory=set)
    numbers: _UniqueDigits = field(init=False)

    def __post_init__(self) -> None:
        self.numbers = _UniqueDigits(self.rng)

    # ---- helpers ----

    def nik(self, area: str, birth_date: date, sex: Sex) -> str:
        stem = encode_nik(area, birth_date, sex, "")
        while True:
            serial = f"{self.rng.randint(1, 2999):04d}"  # SSSS ≥ 0001 (V5)
            if stem + serial not in self.numbers.taken:
                self.numbers.taken.add(stem + serial)
                return stem + serial

    def birth_date(self, min_years: float, max_years: float) -> date:
        days = self.rng.randint(int(min_years * 365.25), int(max_years * 365.25))
        return self.today - timedelta(days=days)

    def given(self, sex: Sex, birth_date: date) -> list[str]:
        years = (self.today - birth_date).days / 365.25
        generation = "old" if years >= 55 else "adult" if years >= 25 else "young"
        first = self.rng.choice(GIVEN[(sex, generation)])
        # Many older Javanese have one name only; younger people usually two.
        return [first] if generation == "old" and self.rng.random() < 0.7 else [first, self.rng.choice(SECOND[sex])]

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def add(self, key: str, resource_type: str, kind: str, body: Json) -> str:
        body = {"resourceType": resource_type, "meta": demo_meta(self.canonical_base), **body}
        self.resources.append(DemoResource(key, resource_type, kind, body))
        return key

    def address(
        self,
        codes: dict[str, str],
        lines: list[str],
        postal_code: str,
        district: District | None,
        use: str,
    ) -> Json:
        parts = [{"url": part, "valueCode": code} for part, code in codes.items()]
        address: Json = {"use": use, "line": lines, "city": CITY[1]}
        if district is not None:
            address["district"] = district.name
        return address | {
            "state": PROVINCE[1],
            "postalCode": postal_code,
            "country": "ID",
            "extension": [{"url": ADMINISTRATIVE_CODE, "extension": parts}],
        }

    # ---- facilities ----

    def facility(
        self,
        key: str,
        kind: str,
        name: str,
        parent: str | None,
        address: Json,
        position: tuple[float, float],
        extension: list[Json] | None = None,
    ) -> str:
        body: Json = {
            "resourceType": "Organization",
            "identifier": [{"system": demo_identifier_system(self.canonical_base), "value": key}],
            "active": True,
            "type": [{"coding": [{"system": facility_type_system(self.canonical_base), "code": kind}]}],
            "name": name,
            "telecom": [{"system": "phone", "value": f"024-{self.rng.randrange(10**7):07d}", "use": "work"}],
            "address": [address],
        }
        if parent is not None:
            body["partOf"] = reference(parent)
        if extension:
            body["extension"] = extension
        self.add(key, "Organization", kind, body)
        latitude, longitude = position
        self.add(
            f"location-{key}",
            "Location",
            kind,
            {
                "resourceType": "Location",
                "status": "active",
                "mode": "instance",
                "name": name,
                "physicalType": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                            "code": "bu",
                            "display": "Building",
                        }
                    ]
                },
                "address": address,
                "position": {
                    "latitude": round(latitude + self.rng.uniform(-0.004, 0.004), 6),
                    "longitude": round(longitude + self.rng.uniform(-0.004, 0.004), 6),
                },
                "managingOrganization": reference(key),
            },
        )
        return key

    def staff(self, organization: str, peran: str, sex: Sex, area: str, home: Json | None = None) -> None:
        birth_date = self.birth_date(24, 58)
        given = self.given(sex, birth_date)
        name: Json = {"use": "official", "given": given}
        text = " ".join(given)
        if peran == "dokter":
            name["prefix"] = ["dr."]
            text = f"dr. {text}"
        suffix = {"bidan": "A.Md.Keb.", "perawat": "S.Kep., Ns."}.get(peran)
        if suffix:
            name["suffix"] = [suffix]
            text = f"{text}, {suffix}"
        key = f"practitioner-{len(self.resources) + 1}"
        body: Json = {
            "resourceType": "Practitioner",
            "identifier": [{"system": NIK, "value": self.nik(area, birth_date, sex)}],
            "active": True,
            "name": [{**name, "text": text}],
            "telecom": [{"system": "phone", "value": self.phone(), "use": "mobile"}],
            "gender": sex,
            "birthDate": birth_date.isoformat(),
        }
        if home is not None:
            body["address"] = [home]
        self.add(key, "Practitioner", peran, body)
        self.add(
            f"role-{key}",
            "PractitionerRole",
            peran,
            {
                "resourceType": "PractitionerRole",
                "active": True,
                "practitioner": reference(key),
                "organization": reference(organization),
                "code": [{"coding": [{"system": peran_system(self.canonical_base), "code": peran}]}],
                "location": [reference(f"location-{organization}")],
            },
        )

    def network(self) -> tuple[str, list[tuple[str, str, District, Village, tuple[str, ...]]]]:
        """Build every facility and its staff; returns the dinkes key and each posyandu with its place."""
        province, city = PROVINCE[0], CITY[0]
        line, postal_code, position = DINKES_ADDRESS
        dinkes = self.facility(
            f"dinkes-{city}",
            "dinkes",
            f"Dinas Kesehatan {CITY[1]}",
            None,
            self.address({"province": province, "city": city}, [line], postal_code, None, "work"),
            position,
        )
        posyandu_list = []
        for district in DISTRICTS:
            codes = {"province": province, "city": city, "district": district.code}
            puskesmas = self.facility(
                f"puskesmas-{district.code}",
                "puskesmas",
                district.puskesmas,
                dinkes,
                self.address(codes, [district.address], district.postal_code, district, "work"),
                district.position,
            )
            self.staff(puskesmas, "dokter", self.rng.choice(("male", "female")), district.code)
            self.staff(puskesmas, "perawat", self.rng.choice(("male", "female")), district.code)
            self.staff(puskesmas, "bidan", "female", district.code)
            for village in district.villages:
                village_codes = codes | {"village": village.code}
                pustu = self.facility(
                    f"pustu-{village.code}",
                    "pustu",
                    f"Pustu {village.name}",
                    puskesmas,
                    self.address(village_codes, [f"{village.streets[0]} No. 1"], village.postal_code, district, "work"),
                    village.position,
                )
                self.staff(pustu, "bidan", "female", district.code)
                for posyandu_name, rws in village.posyandu:
                    place = village_codes | {"rt": "001", "rw": rws[0]}
                    posyandu = self.facility(
                        f"posyandu-{village.code}-{rws[0]}",
                        "posyandu",
                        f"{posyandu_name} {village.name}",
                        pustu,
                        self.address(place, [f"Balai RW {rws[0]}"], village.postal_code, district, "work"),
                        village.position,
                        [{"url": rw_coverage_url(self.canonical_base), "valueCode": rw} for rw in rws],
                    )
                    # Kader are residents who volunteer: mostly women, living in an RW the posyandu covers.
                    for _ in range(self.rng.randint(2, 3)):
                        sex: Sex = "female" if self.rng.random() < 0.9 else "male"
                        home = self.address(
                            village_codes | {"rt": f"{self.rng.randint(1, 8):03d}", "rw": self.rng.choice(rws)},
                            [f"{self.rng.choice(village.streets)} No. {self.rng.randint(1, 120)}"],
                            village.postal_code,
                            district,
                            "home",
                        )
                        self.staff(posyandu, "kader", sex, district.code, home)
                    posyandu_list.append((posyandu, pustu, district, village, rws))
        return dinkes, posyandu_list

    # ---- residents ----

    def person(self, home: _Home, sex: Sex, birth_date: date, group: str | None = None) -> _Person:
        local = (self.today - birth_date).days < 18 * 365 or self.rng.random() < 0.8
        origin = home.district.code if local else self.rng.choice(ORIGIN_AREAS)
        given = self.given(sex, birth_date)
        return _Person(home, sex, birth_date, given, origin, group or resident_group(birth_date, self.today))

    def children(self, home: _Home, count: int, min_years: float, max_years: float) -> list[_Person]:
        return [
            self.person(home, self.rng.choice(("male", "female")), self.birth_date(min_years, max_years))
            for _ in range(count)
        ]

    def household(self, home: _Home, template: str) -> list[_Person]:
        if template == "lansia":
            members = [self.person(home, "female", self.birth_date(60, 85))]
            if self.rng.random() < 0.6:
                members.insert(0, self.person(home, "male", self.birth_date(62, 85)))
            return members
        if template == "keluarga":
            father = self.person(home, "male", self.birth_date(38, 58))
            mother = self.person(home, "female", self.birth_date(35, 52))
            return [father, mother, *self.children(home, self.rng.randint(1, 3), 6, 22)]
        newborn = template == "bayi-baru-lahir" or (template == "keluarga-muda" and self.rng.random() < 0.15)
        pregnant = template == PREGNANT or (template == "keluarga-muda" and not newborn and self.rng.random() < 0.3)
        members = []
        if template == "tiga-generasi":
            members.append(self.person(home, self.rng.choice(("male", "female")), self.birth_date(58, 80)))
        father = self.person(home, "male", self.birth_date(24, 40))
        mother = self.person(home, "female", self.birth_date(21, 36), PREGNANT if pregnant else None)
        members += [father, mother, *self.children(home, self.rng.randint(0, 2), 0.1, 11)]
        if newborn:
            # Registered before the child has a NIK: by the mother's NIK, named after her (profile §1).
            mother.nik_is_referenced = True
            baby = self.person(home, self.rng.choice(("male", "female")), self.birth_date(1 / 365.25, 28 / 365.25))
            baby.name_text = f"By Ny. {' '.join(mother.given)}"
            members.append(baby)
        return members

    def residents(self, count: int, posyandu_list: list[tuple[str, str, District, Village, tuple[str, ...]]]) -> None:
        # The first households show every group even in a small demo; the rest follow a plain mix.
        first = ("bayi-baru-lahir", PREGNANT, "keluarga", "lansia", "tiga-generasi")
        templates = ("keluarga-muda", "keluarga", "lansia", "tiga-generasi")
        people: list[_Person] = []
        index = 0
        while len(people) < count:
            posyandu, pustu, district, village, rws = posyandu_list[index % len(posyandu_list)]
            template = first[index] if index < len(first) else self.rng.choices(templates, (40, 30, 15, 15))[0]
            kk_issued = self.birth_date(0.5, 15)
            home = _Home(
                district,
                village,
                self.rng.choice(rws),
                f"{self.rng.randint(1, 8):03d}",
                f"{self.rng.choice(village.streets)} No. {self.rng.randint(1, 150)}",
                self.numbers.draw(encode_nik(district.code, kk_issued, "male", ""), 4),
                pustu if self.rng.random() < 0.15 else posyandu,
            )
            people += self.household(home, template)
            index += 1
        people = people[:count]
        for person in people:
            if person.name_text is None:
                person.nik = self.nik(person.origin, person.birth_date, person.sex)
        for person in people:
            if person.name_text is not None:
                person.mother_nik = next(
                    p.nik for p in people if p.nik_is_referenced and p.home is person.home and p.nik
                )
        self.mismatch(people)
        for number, person in enumerate(people, start=1):
            key = self.add(f"patient-{number}", "Patient", person.group, self.patient(person))
            if person.nik_mismatch:
                self.nik_mismatches.add(key)

    def mismatch(self, people: list[_Person]) -> None:
        """Re-issue a few NIKs that disagree with the record: alternately the birth date and the sex."""
        candidates = [p for p in people if p.nik and not p.nik_is_referenced]
        wanted = min(len(candidates), max(1, round(len(people) * NIK_MISMATCH_RATE)))
        for turn, person in enumerate(self.rng.sample(candidates, wanted)):
            person.nik_mismatch = True
            if turn % 2 == 0:
                shift = timedelta(days=self.rng.randint(1, 20))
                wrong = (
                    person.birth_date + shift if person.birth_date + shift <= self.today else person.birth_date - shift
                )
                person.nik = self.nik(person.origin, wrong, person.sex)
            else:
                other: Sex = "female" if person.sex == "male" else "male"
                person.nik = self.nik(person.origin, person.birth_date, other)

    def patient(self, person: _Person) -> Json:
        home = person.home
        identifiers: list[Json] = []
        if person.nik:
            identifiers.append({"system": NIK, "value": person.nik})
        if person.mother_nik:
            identifiers.append({"system": NIK_IBU, "value": person.mother_nik})
        else:  # a newborn joins the KK, and BPJS, after registration
            identifiers.append({"system": KK, "value": home.kk})
            if self.rng.random() < BPJS_RATE:
                identifiers.append({"system": bpjs_system(self.canonical_base), "value": self.numbers.draw("000", 10)})
        name: Json = {"use": "official", "text": person.name_text or " ".join(person.given)}
        if person.name_text is None:
            name["given"] = person.given
        body: Json = {
            "resourceType": "Patient",
            "identifier": identifiers,
            "active": True,
            "name": [name],
            "gender": person.sex,
            "birthDate": person.birth_date.isoformat(),
            "address": [
                self.address(
                    {
                        "province": PROVINCE[0],
                        "city": CITY[0],
                        "district": home.district.code,
                        "village": home.village.code,
                        "rt": home.rt,
                        "rw": home.rw,
                    },
                    [f"{home.line} RT {home.rt}/RW {home.rw}", f"Kelurahan {home.village.name}"],
                    home.village.postal_code,
                    home.district,
                    "home",
                )
            ],
            "managingOrganization": reference(home.organization_key),
        }
        if (self.today - person.birth_date).days >= 17 * 365 and self.rng.random() < PHONE_RATE:
            body["telecom"] = [{"system": "phone", "value": self.phone(), "use": "mobile"}]
        return body


def reference(key: str) -> dict[str, Any]:
    return {"reference": PLACEHOLDER + key}


def generate_network(
    *,
    canonical_base: str,
    today: date,
    residents: int = DEFAULT_RESIDENTS,
    seed: int = DEFAULT_SEED,
) -> DemoNetwork:
    """The same arguments give the same network, byte for byte."""
    builder = _Builder(canonical_base, today, random.Random(seed))
    dinkes, posyandu_list = builder.network()
    builder.residents(residents, posyandu_list)
    return DemoNetwork(tuple(builder.resources), dinkes, frozenset(builder.nik_mismatches))
