"""Screening items due at this visit (§4): who is eligible, and whether the last result is too old.

"1×/y" is due when there is no result in the last 365 days; results at this visit count as done. Each catalogue
row records under one key (the item code, or the dose code for immunisation); the first due row of a key wins,
so the K3 glucose check and the yearly one give one ``gula-darah`` entry.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, cached_property

from ilp_api.ilp.age import Age, add_months
from ilp_api.ilp.classify import blood_pressure, bmi, waist
from ilp_api.ilp.classify.kpsp import BANDS_MONTHS, kpsp_age_months, kpsp_band
from ilp_api.ilp.engine_settings import EngineSettings
from ilp_api.ilp.inputs import Pregnancy, Site
from ilp_api.ilp.results import Rule, Sex

SITE_LETTERS: dict[Site, str] = {
    "puskesmas": "P",
    "pustu": "U",
    "posyandu": "Y",
    "kunjungan-rumah": "R",
    "sekolah": "S",
}
ALL_SITES = "PUYRS"
HIGH_BLOOD_PRESSURE = (
    blood_pressure.ADULT_HYPERTENSION | blood_pressure.ADOLESCENT_HYPERTENSION | blood_pressure.PREGNANCY_HYPERTENSION
)
DIABETES_RISK = HIGH_BLOOD_PRESSURE | bmi.OBESITY | {waist.CENTRAL_OBESITY, "obesitas"}
KF_WINDOWS = (("kf1", 0, 2), ("kf2", 3, 7), ("kf3", 8, 28), ("kf4", 29, 42))
KN_WINDOWS = (("kn1", 0, 2), ("kn2", 3, 7), ("kn3", 8, 28))


@dataclass(frozen=True)
class DueItem:
    item: str
    reason: str
    rule: Rule
    available_here: bool  # False → R8: schedule it where it is offered


@dataclass(frozen=True)
class DueFacts:
    birth_date: date
    visit_date: date
    age: Age
    sex: Sex
    site: Site
    stages: frozenset[str]
    pregnancy: Pregnancy | None
    findings: frozenset[str]  # classification codes and flags of this visit
    done_today: frozenset[str]
    last_done: Mapping[str, date]
    settings: EngineSettings

    @property
    def pregnancy_start(self) -> date | None:
        if self.pregnancy is None or self.pregnancy.gestational_age_days is None:
            return None
        return self.visit_date - timedelta(days=self.pregnancy.gestational_age_days)

    @property
    def at_school(self) -> bool:
        return self.site == "sekolah" and "anak-usia-sekolah" in self.stages

    @property
    def kpsp_band(self) -> int | None:
        if self.age.months > BANDS_MONTHS[-1]:
            return None  # the KPSP age is never below the completed months: past the last band, skip the arithmetic
        return kpsp_band(kpsp_age_months(self.birth_date, self.visit_date, self.settings.kpsp_age_mode))


Eligibility = Callable[[DueFacts], str | None]  # the reason the person qualifies, or None
Timing = Callable[[DueFacts, date | None], bool]  # due, given the date of the last result


def every_contact(facts: DueFacts, last: date | None) -> bool:
    return True


def once(facts: DueFacts, last: date | None) -> bool:
    return last is None


def within_days(days: int) -> Timing:
    return lambda facts, last: last is None or (facts.visit_date - last).days >= days


def within_years(years: int) -> Timing:
    return lambda facts, last: last is None or add_months(last, 12 * years) <= facts.visit_date


def not_since(anchor: Callable[[DueFacts], date | None]) -> Timing:
    """Due unless done on or after the anchor (the KPSP band, the pregnancy, the visit window)."""

    def timing(facts: DueFacts, last: date | None) -> bool:
        start = anchor(facts)
        return last is None or (start is not None and last < start)

    return timing


def _month_start(facts: DueFacts) -> date:
    return facts.visit_date.replace(day=1)


def in_months(*months: int) -> Timing:
    monthly = not_since(_month_start)
    return lambda facts, last: facts.visit_date.month in months and monthly(facts, last)


YEARLY = within_days(365)
MONTHLY = not_since(_month_start)


@dataclass(frozen=True)
class CatalogueRow:
    item: str
    eligible: Eligibility
    timing: Timing
    sites: str
    source: str
    record: str | None = None  # the lastDone key, when it is not the item code

    @cached_property
    def key(self) -> str:
        return self.record or self.item

    @cached_property
    def rule(self) -> Rule:
        return Rule(f"4-{self.item}", self.source)


@cache  # the settings-driven rows ask for their age rule at every visit; build each one once
def _age_years(low: int, high: int | None = None, reason: str | None = None) -> Eligibility:
    label = reason or (f"usia-{low}-tahun-ke-atas" if high is None else f"usia-{low}-{high - 1}-tahun")
    below = math.inf if high is None else high
    return lambda f: label if low <= f.age.years < below else None


def _age_months(low: int, high: int, reason: str) -> Eligibility:
    return lambda f: reason if low <= f.age.months <= high else None


def _stage(stage: str) -> Eligibility:
    return lambda f: stage if stage in f.stages else None


def _first(*rules: Eligibility) -> Eligibility:
    def eligible(facts: DueFacts) -> str | None:
        for rule in rules:
            if (reason := rule(facts)) is not None:
                return reason
        return None

    return eligible


def _not_pregnant(rule: Eligibility) -> Eligibility:
    return lambda f: None if "ibu-hamil" in f.stages else rule(f)


def _women(rule: Eligibility) -> Eligibility:
    return lambda f: rule(f) if f.sex == "female" else None


def _with_findings(codes: frozenset[str], rule: Eligibility, reason: str) -> Eligibility:
    return lambda f: reason if codes & f.findings and rule(f) else None


def _at_school(facts: DueFacts) -> str | None:
    return "sekolah" if facts.at_school else None


def _kpsp_band_start(facts: DueFacts) -> date | None:
    band = facts.kpsp_band
    return None if band is None else add_months(facts.birth_date, band)


def _kpsp_eligible(facts: DueFacts) -> str | None:
    band = facts.kpsp_band
    return None if band is None else f"band-{band}"


def _anc_visit(facts: DueFacts) -> str | None:
    pregnancy = facts.pregnancy
    if "ibu-hamil" not in facts.stages or pregnancy is None:
        return None
    if pregnancy.anc_visit_number is not None:
        return f"k{pregnancy.anc_visit_number}"
    days = pregnancy.gestational_age_days
    return "ibu-hamil" if days is None else f"trimester-{trimester(days)}"


def _anc_k3(facts: DueFacts) -> str | None:
    pregnancy = facts.pregnancy
    in_k3 = "ibu-hamil" in facts.stages and pregnancy is not None and pregnancy.anc_visit_number == 3
    return "anc-k3" if in_k3 else None


def _hb_class_start(facts: DueFacts) -> date:
    return add_months(facts.birth_date, 12 * facts.age.years)


def _window(windows: tuple[tuple[str, int, int], ...], day: Callable[[DueFacts], int | None]) -> Eligibility:
    def eligible(facts: DueFacts) -> str | None:
        current = day(facts)
        return next((code for code, low, high in windows if current is not None and low <= current <= high), None)

    return eligible


def _window_start(windows: tuple[tuple[str, int, int], ...], origin: Callable[[DueFacts], date | None]) -> Timing:
    def anchor(facts: DueFacts) -> date | None:
        start = origin(facts)
        if start is None:
            return None
        day = (facts.visit_date - start).days
        low = next((low for _, low, high in windows if low <= day <= high), day)
        return start + timedelta(days=low)

    return not_since(anchor)


def _delivery_date(facts: DueFacts) -> date | None:
    return facts.pregnancy.delivery_date if facts.pregnancy and "ibu-nifas" in facts.stages else None


def _days_since_delivery(facts: DueFacts) -> int | None:
    delivered = _delivery_date(facts)
    return None if delivered is None else (facts.visit_date - delivered).days


def _newborn_days(facts: DueFacts) -> int | None:
    return facts.age.days if "bayi-baru-lahir" in facts.stages else None


def trimester(gestational_age_days: int) -> int:
    """§4.2: T1 ≤84 d, T2 85–168 d, T3 ≥169 d [interpretation]."""
    return 1 if gestational_age_days <= 84 else 2 if gestational_age_days <= 168 else 3


ADULT = _age_years(15)
IMMUNISATION_ITEM = "imunisasi"  # its reason names what is due: a dose, or the pregnant woman's T-status
T_STATUS = "status-t"
CATALOGUE: tuple[CatalogueRow, ...] = (
    CatalogueRow("antropometri-anak", _age_months(0, 59, "balita"), MONTHLY, "YUP", "JUK K2 Balita"),
    CatalogueRow("pemantauan-nt", _age_months(0, 59, "balita"), MONTHLY, "Y", "NYW"),
    CatalogueRow("kpsp", _kpsp_eligible, not_since(_kpsp_band_start), "YUP", "PKG"),
    CatalogueRow(
        IMMUNISATION_ITEM,
        lambda f: T_STATUS if "ibu-hamil" in f.stages else None,  # T-status, target T5
        not_since(lambda f: f.pregnancy_start),
        "YUPR",
        "JUK Imunisasi",
        record=T_STATUS,
    ),
    CatalogueRow("vitamin-a", _age_months(6, 59, "balita"), in_months(2, 8), "Y", "JUK Vit A"),
    CatalogueRow("obat-cacing", _first(_age_months(12, 59, "balita"), _at_school), in_months(8), "YS", "JUK Vit A"),
    CatalogueRow("tb-gejala", lambda f: "setiap-kunjungan", every_contact, ALL_SITES, "JUK TB"),
    CatalogueRow("shk", lambda f: "neonatus" if 2 <= f.age.days <= 3 else None, once, "P", "JUK SHK; PKG"),
    CatalogueRow(
        "talasemia", _first(_age_years(2, 3, "usia-2-tahun"), _age_years(18, reason="dewasa")), once, "P", "JUK; PKG"
    ),
    CatalogueRow("gula-darah", _anc_k3, every_contact, "YUP", "JUK ANC Terpadu"),
    CatalogueRow(
        "gula-darah",
        _first(
            _age_years(40),
            _with_findings(DIABETES_RISK, _age_years(3), "faktor-risiko"),
            _age_years(2, 3, "usia-2-tahun"),
        ),
        YEARLY,
        "YUP",
        "JUK DM; PKG",
    ),
    CatalogueRow("tekanan-darah", _stage("ibu-hamil"), every_contact, "YUPS", "JUK ANC Terpadu"),
    CatalogueRow("tekanan-darah", _first(ADULT, _stage("remaja"), _at_school), YEARLY, "YUPS", "JUK HT"),
    CatalogueRow("imt", _not_pregnant(_first(ADULT, _at_school)), YEARLY, "YUPS", "JUK Obesitas"),
    CatalogueRow("lingkar-perut", _not_pregnant(ADULT), YEARLY, "YUPS", "JUK Obesitas"),
    CatalogueRow(
        "kolesterol",
        _first(
            _stage("lansia"),
            _with_findings(HIGH_BLOOD_PRESSURE | {"suspek-diabetes"}, _age_years(40), "hipertensi-atau-diabetes"),
        ),
        YEARLY,
        "YUP",
        "JUK Stroke",
    ),
    # Classes 7 and 10 are taken as the 12th and 15th year [interpretation]; once in each.
    CatalogueRow(
        "hb-remaja-putri",
        _women(_first(_age_years(12, 13), _age_years(15, 16))),
        not_since(_hb_class_start),
        "SUP",
        "JUK Anemia",
    ),
    CatalogueRow("srq-20", lambda f: _age_years(f.settings.srq20_min_age_years)(f), YEARLY, "YUP", "JUK Jiwa"),
    # "4–18 y" includes 18 (§0: a–b is a ≤ x ≤ b), so the bound is the 19th birthday.
    CatalogueRow("sdq", _age_years(4, 19), YEARLY, "SUP", "JUK K2"),
    CatalogueRow("puma", _age_years(40), YEARLY, "YUP", "JUK PPOK"),
    CatalogueRow("visus", _first(ADULT, _at_school), YEARLY, "YUPS", "JUK Mata"),
    CatalogueRow("tes-bisik", _age_years(18), YEARLY, "UP", "PKG"),
    CatalogueRow(
        "sadanis",
        _women(lambda f: _age_years(f.settings.sadanis_min_age_years)(f)),
        within_years(3),
        "UP",
        "JUK Kanker Payudara",
    ),
    # Sexual activity is not an input: every woman from 30 y, the nakes confirms [interpretation].
    CatalogueRow("iva", _women(_age_years(30)), within_years(3), "UP", "JUK Kanker Leher Rahim"),
    CatalogueRow("kolorektal", _age_years(50), YEARLY, "P", "JUK Kanker Kolorektal"),
    CatalogueRow("adl", _age_years(60), YEARLY, "YUPR", "JUK Geriatri"),
    CatalogueRow("skilas", _age_years(60), YEARLY, "YUPR", "JUK Geriatri"),
    # PUS taken as non-pregnant women 15–49 y [interpretation].
    CatalogueRow("layak-hamil", _women(_not_pregnant(_age_years(15, 50))), YEARLY, "UP", "JUK Layak Hamil"),
    CatalogueRow("anc-kunjungan", _anc_visit, every_contact, "YUP", "JUK ANC Terpadu"),
    CatalogueRow("lila-kek", _stage("ibu-hamil"), not_since(lambda f: f.pregnancy_start), "YUP", "JUK ANC Terpadu"),
    CatalogueRow(
        "kf-kunjungan",
        _window(KF_WINDOWS, _days_since_delivery),
        _window_start(KF_WINDOWS, _delivery_date),
        "UPR",
        "JUK Nifas",
    ),
    CatalogueRow(
        "kn-kunjungan",
        _window(KN_WINDOWS, _newborn_days),
        _window_start(KN_WINDOWS, lambda f: f.birth_date),
        "UPR",
        "JUK Nifas [unverified]",
    ),
)


@dataclass(frozen=True)
class Dose:
    """One dose of the §4.4 schedule: from ``from_months`` of age, after ``after`` plus the minimum interval."""

    code: str
    from_months: int
    after: str | None = None
    min_days: int = 0
    min_months: int = 0

    def earliest_after(self, previous: date) -> date:
        """The first day this dose may follow ``previous``, the day the dose before it was given."""
        return max(previous + timedelta(days=self.min_days), add_months(previous, self.min_months))

    def interval_ok(self, previous: date, given: date) -> bool:
        return self.earliest_after(previous) <= given

    def due_from(self, birth_date: date, given: Mapping[str, date]) -> date | None:
        """The day this dose falls due: its month of age reached and, after an earlier dose, the interval since
        that dose passed; None while the earlier dose is not given."""
        reached = add_months(birth_date, self.from_months)
        if self.after is None:
            return reached
        previous = given.get(self.after)
        return None if previous is None else max(reached, self.earliest_after(previous))


MONTH_INTERVAL = 28  # "1 month" between doses [interpretation]
SCHEDULE = (
    Dose("bcg", 0),
    Dose("opv-1", 0),
    Dose("dpt-hb-hib-1", 2),
    Dose("opv-2", 2, "opv-1", MONTH_INTERVAL),
    Dose("rv-1", 2),
    Dose("pcv-1", 2),
    Dose("dpt-hb-hib-2", 3, "dpt-hb-hib-1", MONTH_INTERVAL),
    Dose("opv-3", 3, "opv-2", MONTH_INTERVAL),
    Dose("rv-2", 3, "rv-1", MONTH_INTERVAL),
    Dose("pcv-2", 3, "pcv-1", MONTH_INTERVAL),
    Dose("dpt-hb-hib-3", 4, "dpt-hb-hib-2", MONTH_INTERVAL),
    Dose("opv-4", 4, "opv-3", MONTH_INTERVAL),
    Dose("rv-3", 4, "rv-2", MONTH_INTERVAL),
    Dose("ipv-1", 4),
    Dose("mr-1", 9),
    Dose("ipv-2", 9, "ipv-1"),
    Dose("pcv-3", 12, "pcv-2", min_days=56),
    Dose("dpt-hb-hib-4", 18, "dpt-hb-hib-3", min_months=12),
    Dose("mr-2", 18, "mr-1", min_months=6),
)
HB0 = "hb0"  # hepatitis B within 24 hours of birth: due on the day of birth only
DOSE_CODES = (HB0, *(dose.code for dose in SCHEDULE))
IMMUNISATION_RULE = Rule("4.4-imunisasi", "JUK Imunisasi Rutin")
BADUTA_MONTHS = 24  # the routine schedule is followed up through baduta age [interpretation]
INTERVAL_TOO_SHORT = "dosis-interval-kurang"


@dataclass(frozen=True)
class DueDose:
    code: str
    since: date  # the day it fell due


def doses_due(birth_date: date, day: date, given: Mapping[str, date]) -> tuple[DueDose, ...]:
    """The §4.4 doses due on ``day`` and not yet given (``given``: dose code → the day it was given), each with the
    day it fell due. A later hepatitis B dose is not HB0; from 24 months the schedule is no longer followed up."""
    due = [DueDose(HB0, birth_date)] if day == birth_date and HB0 not in given else []
    if day < add_months(birth_date, BADUTA_MONTHS):
        for dose in SCHEDULE:
            since = None if dose.code in given else dose.due_from(birth_date, given)
            if since is not None and since <= day:
                due.append(DueDose(dose.code, since))
    return tuple(due)


def interval_warnings(last_done: Mapping[str, date]) -> tuple[str, ...]:
    """``dosis-interval-kurang`` when two recorded doses are closer than the minimum interval (§4.4)."""
    short = any(
        dose.after in last_done and dose.code in last_done and not dose.interval_ok(last_done[dose.after], given)
        for dose in SCHEDULE
        if dose.after and (given := last_done.get(dose.code)) is not None
    )
    return (INTERVAL_TOO_SHORT,) if short else ()


def due_items(facts: DueFacts) -> tuple[DueItem, ...]:
    letter = SITE_LETTERS[facts.site]
    done_today, last_done = facts.done_today, facts.last_done
    due: dict[str, DueItem] = {}
    for row in CATALOGUE:
        key = row.key
        if key in due or key in done_today:
            continue
        reason = row.eligible(facts)
        if reason is not None and row.timing(facts, last_done.get(key)):
            due[key] = DueItem(row.item, reason, row.rule, letter in row.sites)
    immunisation_here = letter in "YUPR"
    doses = [
        DueItem(IMMUNISATION_ITEM, dose.code, IMMUNISATION_RULE, immunisation_here)
        for dose in doses_due(facts.birth_date, facts.visit_date, last_done)
    ]
    return (*due.values(), *doses)
