"""A month of posyandu visits of the demo's residents, as FHIR JSON dicts (pure: no clock, no I/O).

Each demo posyandu opens one day a month (its hari buka), each on another day, so the month ending on the load day
holds one open day of each. Children under five are weighed there every month, so their visits of the two
months before are recorded too: the weight trend (N, T, 2T) compares each weighing with the previous month's.
Everyone else is screened on the last open day, a realistic share of each life stage attending, for what their
stage is screened for:

- balita: weight, length (height from two years), head circumference, MUAC from six months;
- anak prasekolah, usia sekolah and remaja: height and weight, Hb for girls from twelve (remaja putri, who take TTD);
- ibu hamil: pregnancy status, gestational age, blood pressure, weight, MUAC;
- dewasa: blood pressure, weight, height, waist, random glucose, total cholesterol, SRQ-20 for some;
- lansia: blood pressure, random glucose, ADL (Barthel total), SKILAS.

Most residents are well; some show one finding of their stage (a stunted or wasted child, one whose weight did not
rise two months running, raised blood pressure in pregnancy, an SRQ-20 with item 17 answered yes …). Children's
values are drawn around the WHO growth standards, adults' from plausible ranges, not from any survey. The first
resident of each stage always attends with a finding, and the puskesmas answers the referral it leads to, so that
a small demo shows them too.

A visit refers to the network's resources and to its own Encounter by placeholder (``urn:ilp-demo:<key>``). What
follows from it (classifications, referrals, follow-ups) is not generated: the server's rules derive it when the
visit is stored, and ``referral_answer`` says how the puskesmas answers the referrals they make.
"""

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from ilp_api.demo.generate import (
    DEFAULT_SEED,
    PLACEHOLDER,
    PREGNANT,
    DemoNetwork,
    DemoResource,
    demo_meta,
    reference,
    resident_group,
)
from ilp_api.fhir.datatypes import UCUM
from ilp_api.fhir.registry import Json
from ilp_api.ilp.age import Age, add_months
from ilp_api.ilp.catalogue import BLOOD_PRESSURE_PANEL, BY_KEY, LOINC
from ilp_api.ilp.classify.skilas import DOMAINS
from ilp_api.ilp.classify.srq20 import ITEM_COUNT, SUICIDE_ITEM
from ilp_api.ilp.growth.inputs import FIRST_HEIGHT_DAY, FIRST_WHO2007_MONTH
from ilp_api.ilp.growth.lms import sd_value
from ilp_api.ilp.growth.tables import who2006_by_day, who2006_by_length, who2007_by_month
from ilp_api.ilp.results import Sex
from ilp_api.resources.encounter import ACT_CODE
from ilp_api.resources.indonesia import administrative_codes
from ilp_api.resources.observation import PROJECT_OBSERVATION_CODES
from ilp_api.resources.organization import rw_coverage_url
from ilp_api.resources.questionnaires import FORMS
from ilp_api.screening import visit_record
from ilp_api.screening.derivation import OBSERVATION_CATEGORY

UNDER_FIVE = frozenset({"bayi-baru-lahir", "bayi", "balita"})
CHILDREN = frozenset({"anak-prasekolah", "anak-usia-sekolah", "remaja"})
# Residents are screened as balita (under five), anak-remaja (the older children), ibu-hamil, dewasa or lansia: the
# share of each seen in a month, and the share of those with a finding.
ATTENDANCE = {"balita": 0.85, "anak-remaja": 0.3, PREGNANT: 0.9, "dewasa": 0.35, "lansia": 0.6}
FINDING_RATE = {"balita": 0.35, "anak-remaja": 0.25, PREGNANT: 0.3, "dewasa": 0.35, "lansia": 0.5}
# The findings of each screening and how often each is the one; the first is the one its first resident shows.
FINDINGS = {
    "balita": (("pendek", 40), ("gizi-kurang", 30), ("berat-tidak-naik", 30)),
    "anak-remaja": (("gizi-kurang", 40), ("gizi-lebih", 35), ("anemia", 25)),
    PREGNANT: (("tekanan-darah-tinggi", 50), ("kek", 50)),
    "dewasa": (("hipertensi", 40), ("diabetes", 15), ("obesitas", 15), ("kolesterol-tinggi", 10), ("jiwa", 20)),
    "lansia": (("skilas", 30), ("hipertensi", 35), ("diabetes", 15), ("ketergantungan", 20)),
}
NO_GAIN_SHARE = 0.1  # months in which a well child's weight does not rise (a cold, teething): T, caught up next
SRQ20_SHARE = 0.3  # adults without a mental-health finding who fill in the SRQ-20 anyway
SUICIDE_THOUGHTS_SHARE = 0.3  # of those with a mental-health finding: item 17 answered yes
# How the puskesmas answers a referral, and within how many days of the visit.
ANSWERS: tuple[tuple[Literal["diterima", "selesai"] | None, int], ...] = ((None, 40), ("diterima", 35), ("selesai", 25))
ANSWER_WITHIN_DAYS = 7
MONTHS_WEIGHED = 3  # children under five: this month's weighing and the two before
# How many days before the load day each posyandu opened, in network order: the first one's (the demo posyandu
# client's) long enough ago that its worklist shows referrals left unanswered for a week.
OPEN_DAYS_AGO = tuple(range(24, 2, -3))
WIB = timezone(timedelta(hours=7))  # Kota Semarang's time
SESSION_START = time(8, 0)
MINUTES_PER_VISIT = 6
MUAC_FROM_DAYS = 183  # MUAC is measured from six months
STUNTING_FROM_DAYS = 91  # a newborn's length tells no growth story yet


@dataclass(frozen=True)
class ReferralAnswer:
    """How the puskesmas answers the referrals a visit leads to: received and accepted (``diterima``), or seen
    through to the end (``selesai``), on ``day``."""

    business_status: Literal["diterima", "selesai"]
    day: date


@dataclass(frozen=True)
class DemoVisit:
    key: str  # the Encounter's key; its records are <key>-1, <key>-2 …
    day: date
    stage: str  # the resident's life-cycle group on the day (ibu-hamil for a pregnant woman)
    resources: tuple[DemoResource, ...]  # the Encounter, then its Observations and QuestionnaireResponses
    referral_answer: ReferralAnswer | None


def visit_identifier_system(canonical_base: str) -> str:
    """The demo's business identifier of an Encounter, ``<patient key>/<day>``, as a kader app keeps its own."""
    return f"{canonical_base}/identifier/demo-kunjungan"


def generate_visits(
    network: DemoNetwork, *, canonical_base: str, today: date, seed: int = DEFAULT_SEED
) -> tuple[DemoVisit, ...]:
    """The visits of the month ending on ``today``, in the order they took place; the same arguments give the same
    visits."""
    return _Month(network, canonical_base, today, random.Random(f"kunjungan-{seed}")).visits()


@dataclass(frozen=True)
class _Posyandu:
    key: str
    order: int
    kader: tuple[str, ...]  # Practitioner keys
    open_days: tuple[date, ...]  # the last MONTHS_WEIGHED, oldest first


@dataclass(frozen=True)
class _Resident:
    key: str
    order: int
    sex: Sex
    birth_date: date
    group: str  # on the load day: the life-cycle group, or ibu-hamil
    posyandu: _Posyandu

    @property
    def screening(self) -> str:
        """What the resident is screened as (ATTENDANCE's keys)."""
        if self.group in UNDER_FIVE:
            return "balita"
        return "anak-remaja" if self.group in CHILDREN else self.group

    def stage_on(self, day: date) -> str:
        return PREGNANT if self.group == PREGNANT else resident_group(self.birth_date, day)

    def age_on(self, day: date) -> Age:
        return Age.at(self.birth_date, day)


@dataclass(frozen=True)
class _Seen:
    """A resident seen on an open day, before the visit becomes FHIR."""

    resident: _Resident
    day: date
    records: list[Json]  # Observations and QuestionnaireResponses, without subject, visit or time
    referral_answer: ReferralAnswer | None


Screen = Callable[[_Resident, str | None, list[date]], Iterator[list[Json]]]


class _Month:
    def __init__(self, network: DemoNetwork, canonical_base: str, today: date, rng: random.Random) -> None:
        self.network = network
        self.base = canonical_base
        self.today = today
        self.rng = rng
        self.screen: dict[str, Screen] = {
            "balita": self.balita,
            "anak-remaja": self.anak_remaja,
            PREGNANT: self.ibu_hamil,
            "dewasa": self.dewasa,
            "lansia": self.lansia,
        }

    def visits(self) -> tuple[DemoVisit, ...]:
        seen: list[_Seen] = []
        showcased: set[str] = set()
        for resident in self.residents():
            # Under five: weighed every month; the others are seen on the last open day. Nobody before birth.
            days = resident.posyandu.open_days if resident.group in UNDER_FIVE else resident.posyandu.open_days[-1:]
            days = tuple(day for day in days if day > resident.birth_date)
            if not days:
                continue
            showcase = resident.screening not in showcased  # the first resident of the screening who can come
            showcased.add(resident.screening)
            finding = self.finding(resident, days, showcase)
            always_comes = showcase or finding == "berat-tidak-naik"  # a trend needs every month's weighing
            attended = [day for day in days if always_comes or self.rng.random() < ATTENDANCE[resident.screening]]
            screened = self.screen[resident.screening](resident, finding, attended)
            for day, records in zip(attended, screened, strict=True):
                seen.append(_Seen(resident, day, records, self.referral_answer(day, showcase)))
        seen.sort(key=lambda s: (s.day, s.resident.posyandu.order, s.resident.order))
        in_session: Counter[tuple[str, date]] = Counter()
        visits = []
        for number, visit in enumerate(seen, start=1):
            session = (visit.resident.posyandu.key, visit.day)
            visits.append(self.visit(f"kunjungan-{number}", visit, in_session[session]))
            in_session[session] += 1
        return tuple(visits)

    # ---- who comes where, with what ----

    def residents(self) -> Iterator[_Resident]:
        posyandu = self.posyandu_by_rw()
        for order, patient in enumerate(self.network.of_type("Patient")):
            home = administrative_codes(patient.body["address"][0])
            birth_date = date.fromisoformat(patient.body["birthDate"])
            yield _Resident(
                patient.key,
                order,
                patient.body["gender"],
                birth_date,
                patient.kind,
                posyandu[home["village"], home["rw"]],
            )

    def posyandu_by_rw(self) -> dict[tuple[str, str], _Posyandu]:
        """Each posyandu by the (kelurahan, RW) it covers, with its kader and its open days."""
        kader: dict[str, list[str]] = {}
        for role in self.network.of_type("PractitionerRole"):
            if role.kind == "kader":
                kader.setdefault(_key(role.body["organization"]), []).append(_key(role.body["practitioner"]))
        covering = {}
        every_posyandu = [r for r in self.network.of_type("Organization") if r.kind == "posyandu"]
        for order, organization in enumerate(every_posyandu):
            last = self.today - timedelta(days=OPEN_DAYS_AGO[order % len(OPEN_DAYS_AGO)])
            open_days = tuple(add_months(last, -months) for months in reversed(range(MONTHS_WEIGHED)))
            posyandu = _Posyandu(organization.key, order, tuple(kader[organization.key]), open_days)
            village = administrative_codes(organization.body["address"][0])["village"]
            for extension in organization.body["extension"]:
                if extension["url"] == rw_coverage_url(self.base):
                    covering[village, extension["valueCode"]] = posyandu
        return covering

    def finding(self, resident: _Resident, days: tuple[date, ...], showcase: bool) -> str | None:
        screening = resident.screening
        possible = [(name, weight) for name, weight in FINDINGS[screening] if self.can_show(name, resident, days)]
        if showcase:
            return possible[0][0] if possible else None
        if not possible or self.rng.random() >= FINDING_RATE[screening]:
            return None
        return self.rng.choices([name for name, _ in possible], [weight for _, weight in possible])[0]

    def can_show(self, finding: str, resident: _Resident, days: tuple[date, ...]) -> bool:
        if finding == "pendek":
            return (days[0] - resident.birth_date).days >= STUNTING_FROM_DAYS
        if finding == "berat-tidak-naik":
            return len(days) == MONTHS_WEIGHED
        if finding == "anemia":
            return resident.sex == "female" and resident.age_on(self.today).years >= 12
        return True

    def referral_answer(self, day: date, showcase: bool) -> ReferralAnswer | None:
        answers = ANSWERS[1:] if showcase else ANSWERS
        answer = self.rng.choices([status for status, _ in answers], [weight for _, weight in answers])[0]
        if answer is None:
            return None
        return ReferralAnswer(answer, min(day + timedelta(days=self.rng.randint(1, ANSWER_WITHIN_DAYS)), self.today))

    # ---- what each life stage is screened for: one list of records per day attended ----

    def balita(self, child: _Resident, finding: str | None, days: list[date]) -> Iterator[list[Json]]:
        stature_z = self.rng.uniform(-2.9, -2.1) if finding == "pendek" else self.within(-0.5, 0.7, -1.8, 1.5)
        weight_z = self.rng.uniform(-2.8, -2.1) if finding == "gizi-kurang" else self.within(-0.2, 0.7, -1.7, 0.9)
        head_z = self.within(0, 0.7, -1.8, 1.8)
        weight: float | None = None
        for day in days:
            age_days = (day - child.birth_date).days
            lying = age_days < FIRST_HEIGHT_DAY
            cm = round(sd_value(who2006_by_day("lfa", child.sex)[age_days], stature_z), 1)
            if weight is not None and (finding == "berat-tidak-naik" or self.rng.random() < NO_GAIN_SHARE):
                weight -= self.rng.choice((0.0, 0.1, 0.2))
            else:
                weight = _weight_for_stature(child.sex, lying, cm, weight_z)
            weight = round(weight, 1)
            records = [
                self.measured("weight_kg", weight),
                self.measured("length_cm" if lying else "height_cm", cm),
                self.measured("head_circumference_cm", sd_value(who2006_by_day("hcfa", child.sex)[age_days], head_z)),
            ]
            if age_days >= MUAC_FROM_DAYS:
                muac = self.rng.uniform(11.6, 12.4) if finding == "gizi-kurang" else self.within(14.8, 0.9, 12.6, 17.5)
                records.append(self.measured("muac_cm", muac))
            yield records

    def anak_remaja(self, child: _Resident, finding: str | None, days: list[date]) -> Iterator[list[Json]]:
        stature_z = self.within(-0.4, 0.8, -1.9, 2.0)
        if finding == "gizi-kurang":
            bmi_z = self.rng.uniform(-2.8, -2.1)
        elif finding == "gizi-lebih":
            bmi_z = self.rng.uniform(1.2, 2.6)
        else:
            bmi_z = self.within(-0.1, 0.6, -1.8, 0.9)
        for day in days:
            age = child.age_on(day)
            month = max(age.months, FIRST_WHO2007_MONTH)
            cm = sd_value(who2007_by_month("lfa", child.sex)[month], stature_z)
            bmi = sd_value(who2007_by_month("bmifa", child.sex)[month], bmi_z)
            records = [self.measured("height_cm", cm), self.measured("weight_kg", bmi * (cm / 100) ** 2)]
            if child.sex == "female" and age.years >= 12:
                hemoglobin = self.rng.uniform(9.5, 11.7) if finding == "anemia" else self.within(13.1, 0.6, 12.1, 15)
                records.append(self.measured("hemoglobin", hemoglobin))
            yield records

    def ibu_hamil(self, mother: _Resident, finding: str | None, days: list[date]) -> Iterator[list[Json]]:
        weeks_on_load_day = self.rng.randint(10, 36)
        for day in days:
            weeks = weeks_on_load_day - (self.today - day).days // 7
            if finding == "tekanan-darah-tinggi":
                pressures = round(self.rng.uniform(140, 158)), round(self.rng.uniform(90, 104))
            else:
                pressures = self.usual_blood_pressure(mother.age_on(day).years)
            muac = self.rng.uniform(20.5, 23.4) if finding == "kek" else self.within(26, 2, 23.6, 32)
            yield [
                self.pregnancy_status(),
                self.gestational_age(weeks),
                self.blood_pressure(*pressures),
                self.measured("weight_kg", self.within(58, 8, 42, 90)),
                self.measured("muac_cm", muac),
            ]

    def dewasa(self, adult: _Resident, finding: str | None, days: list[date]) -> Iterator[list[Json]]:
        for day in days:
            cm = self.within(165, 6, 150, 185) if adult.sex == "male" else self.within(153, 5.5, 140, 170)
            bmi = self.rng.uniform(26, 33) if finding == "obesitas" else self.within(21.8, 1.6, 18.6, 24.9)
            waist_limit = 90 if adult.sex == "male" else 80  # central obesity above it (§6.4)
            if finding == "obesitas":
                waist = self.rng.uniform(waist_limit + 2, waist_limit + 18)
            else:
                waist = self.within(waist_limit - 8, 4.5, waist_limit - 22, waist_limit)
            high_cholesterol = finding == "kolesterol-tinggi"
            cholesterol = self.rng.uniform(240, 290) if high_cholesterol else self.within(178, 14, 130, 199)
            records = [
                self.blood_pressure(*self.pressures(finding == "hipertensi", adult.age_on(day).years)),
                self.measured("weight_kg", bmi * (cm / 100) ** 2),
                self.measured("height_cm", cm),
                self.measured("waist_cm", waist),
                self.measured("glucose_random", self.glucose(finding == "diabetes")),
                self.measured("cholesterol_total", round(cholesterol)),
            ]
            if finding == "jiwa" or self.rng.random() < SRQ20_SHARE:
                records.append(self.srq20(troubled=finding == "jiwa"))
            yield records

    def lansia(self, elder: _Resident, finding: str | None, days: list[date]) -> Iterator[list[Json]]:
        for day in days:
            flagged = self.rng.sample(DOMAINS, self.rng.randint(1, 2)) if finding == "skilas" else []
            adl_total = self.rng.randint(10, 19) if finding == "ketergantungan" else 20
            yield [
                self.blood_pressure(*self.pressures(finding == "hipertensi", elder.age_on(day).years)),
                self.measured("glucose_random", self.glucose(finding == "diabetes")),
                self.answered("adl-barthel-total", {"total": adl_total}),
                self.answered("skilas", {domain: domain in flagged for domain in DOMAINS}),
            ]

    # ---- values ----

    def within(self, mean: float, sd: float, low: float, high: float) -> float:
        """A normal draw within [low, high] (drawn again outside): the well part of a distribution."""
        while True:
            value = self.rng.gauss(mean, sd)
            if low <= value <= high:
                return value

    def usual_blood_pressure(self, age_years: int) -> tuple[int, int]:
        """Below 135/85, rising with age."""
        systolic = self.within(112 + 0.3 * (age_years - 25), 8, 98, 134)
        return round(systolic), round(self.within(0.62 * systolic + 2, 3.5, 60, 84))

    def pressures(self, hypertensive: bool, age_years: int) -> tuple[int, int]:
        if hypertensive:
            return round(self.rng.uniform(142, 176)), round(self.rng.uniform(86, 106))
        return self.usual_blood_pressure(age_years)

    def glucose(self, diabetic: bool) -> int:
        return round(self.rng.uniform(205, 320) if diabetic else self.within(100, 12, 72, 139))

    def srq20(self, troubled: bool) -> Json:
        """Six or more yes answers are a mental-health problem; item 17 is thoughts of ending one's life."""
        items = [number for number in range(1, ITEM_COUNT + 1) if number != SUICIDE_ITEM]
        yes = set(self.rng.sample(items, self.rng.randint(6, 11) if troubled else self.rng.randint(0, 4)))
        if troubled and self.rng.random() < SUICIDE_THOUGHTS_SHARE:
            yes.add(SUICIDE_ITEM)
        return self.answered("srq-20", {f"srq-{number}": number in yes for number in range(1, ITEM_COUNT + 1)})

    # ---- as FHIR ----

    def quantity(self, key: str, value: float) -> Json:
        """A measurement of the profile's catalogue: its code, and the value in its UCUM unit."""
        measure = BY_KEY[key]
        system = self.base + PROJECT_OBSERVATION_CODES if measure.project_code else LOINC
        shown = round(value) if measure.integer else round(value, 1)
        return {"code": _concept(system, measure.code), "valueQuantity": _ucum(shown, measure.unit)}

    def measured(self, key: str, value: float) -> Json:
        return _observation(BY_KEY[key].category, **self.quantity(key, value))

    def blood_pressure(self, systolic: int, diastolic: int) -> Json:
        """The panel, with systolic and diastolic as its components (§5)."""
        components = [self.quantity("systolic", systolic), self.quantity("diastolic", diastolic)]
        return _observation("vital-signs", code=_concept(LOINC, BLOOD_PRESSURE_PANEL), component=components)

    def pregnancy_status(self) -> Json:
        return _observation(
            "exam",
            code=_concept(LOINC, visit_record.PREGNANCY_STATUS),
            valueCodeableConcept=_concept(LOINC, visit_record.PREGNANT),
        )

    def gestational_age(self, weeks: int) -> Json:
        code = _concept(LOINC, visit_record.GESTATIONAL_AGE)
        return _observation("exam", code=code, valueQuantity=_ucum(weeks, "wk"))

    def answered(self, form_id: str, answers: dict[str, bool | int]) -> Json:
        """A completed response to one of the server's Questionnaires, every question answered."""
        form = next(form for form in FORMS if form.id == form_id)
        return {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": form.canonical(self.base),
            "status": "completed",
            "item": [
                {"linkId": question.link_id, "answer": [{question.value_element: answers[question.link_id]}]}
                for question in form.questions
            ],
        }

    def visit(self, key: str, seen: _Seen, turn: int) -> DemoVisit:
        """The Encounter and its records; ``turn``: how many residents the posyandu saw before, that session."""
        resident, posyandu = seen.resident, seen.resident.posyandu
        start = datetime.combine(seen.day, SESSION_START, WIB) + timedelta(minutes=MINUTES_PER_VISIT * turn)
        kader = posyandu.kader[turn % len(posyandu.kader)]  # the kader take turns at the tables
        stage = resident.stage_on(seen.day)
        encounter = {
            "identifier": [
                {"system": visit_identifier_system(self.base), "value": f"{resident.key}/{seen.day.isoformat()}"}
            ],
            "status": "finished",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "subject": reference(resident.key),
            "participant": [{"individual": reference(kader)}],
            "period": {
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=MINUTES_PER_VISIT)).isoformat(),
            },
            "location": [{"location": reference(f"location-{posyandu.key}")}],
            "serviceProvider": reference(posyandu.key),
        }
        resources = [self.resource(key, "Encounter", stage, encounter)]
        about = {"subject": reference(resident.key), "encounter": reference(key)}
        for number, record in enumerate(seen.records, start=1):
            if record["resourceType"] == "Observation":
                body = {**record, "status": "final", **about, "effectiveDateTime": start.isoformat()}
                body["performer"] = [reference(kader)]
            else:
                body = {**record, **about, "authored": start.isoformat()}
            resources.append(self.resource(f"{key}-{number}", record["resourceType"], stage, body))
        return DemoVisit(key, seen.day, stage, tuple(resources), seen.referral_answer)

    def resource(self, key: str, resource_type: str, stage: str, body: Json) -> DemoResource:
        meta = demo_meta(self.base)
        return DemoResource(key, resource_type, stage, {"resourceType": resource_type, "meta": meta, **body})


def _observation(category: str, **elements: Any) -> Json:
    return {
        "resourceType": "Observation",
        "category": [_concept(OBSERVATION_CATEGORY, category)],
        **elements,
    }


def _concept(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}


def _key(reference_: Json) -> str:
    return str(reference_["reference"]).removeprefix(PLACEHOLDER)


def _ucum(value: float, unit: str) -> Json:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _weight_for_stature(sex: Sex, lying: bool, cm: float, z: float) -> float:
    """The weight at weight-for-length (below two years) or weight-for-height z-score ``z``."""
    table = who2006_by_length("wfl" if lying else "wfh", sex)
    lms = table.at(min(max(Decimal(str(cm)), table.start), table.stop))
    assert lms is not None  # within the table's lengths
    return sd_value(lms, z)
