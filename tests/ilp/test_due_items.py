"""Screening items due at a visit (§4), at the edges of every rule: who, when, where.

Expected values come from the profile: the §4.1 catalogue, "1×/y" = no result in the last 365 days, the §4.2 K-visits,
the §4.3 KF/KN windows, the §4.4 schedule and minimum intervals, and R8 ``jadwalkan`` (§3). Ages are completed (§0),
so "from 15 y" starts on the 15th birthday and the day before it is still 14.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import pytest

from ilp_api.ilp.age import Age, add_months
from ilp_api.ilp.engine_settings import DEFAULT_SETTINGS, EngineSettings
from ilp_api.ilp.evaluate import evaluate
from ilp_api.ilp.inputs import Measurements, Pregnancy, Site, VisitInput
from ilp_api.ilp.results import Sex
from ilp_api.ilp.screening_packages import DueDose, DueFacts, DueItem, doses_due, due_items
from ilp_api.ilp.stages import life_cycle_stages

VISIT = date(2026, 6, 1)  # June: neither a vitamin-A nor a deworming month
AUGUST = date(2026, 8, 10)
FEBRUARY = date(2026, 2, 10)
SITES: tuple[Site, ...] = ("puskesmas", "pustu", "posyandu", "kunjungan-rumah", "sekolah")


def born(years: int = 0, months: int = 0, days: int = 0, visit: date = VISIT) -> date:
    """The birth date of someone exactly ``years`` y ``months`` mo and ``days`` d old on ``visit``."""
    return add_months(visit, -(12 * years + months)) - timedelta(days=days)


def facts(
    birth_date: date,
    *,
    sex: Sex = "female",
    site: Site = "puskesmas",
    visit: date = VISIT,
    pregnancy: Pregnancy | None = None,
    findings: Iterable[str] = (),
    done_today: Iterable[str] = (),
    last_done: Mapping[str, date] | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> DueFacts:
    age = Age.at(birth_date, visit)
    return DueFacts(
        birth_date=birth_date,
        visit_date=visit,
        age=age,
        sex=sex,
        site=site,
        stages=frozenset(life_cycle_stages(age, pregnancy, visit)),
        pregnancy=pregnancy,
        findings=frozenset(findings),
        done_today=frozenset(done_today),
        last_done=last_done or {},
        settings=settings,
    )


def catalogue(due: DueFacts) -> dict[str, DueItem]:
    """The §4.1 items due, by item code; immunisation doses are read with ``doses``."""
    return {item.item: item for item in due_items(due) if item.reason not in _dose_codes(due)}


def doses(due: DueFacts) -> list[str]:
    return sorted(_dose_codes(due))


def _dose_codes(due: DueFacts) -> set[str]:
    return {item.reason for item in due_items(due) if item.item == "imunisasi" and item.reason != "status-t"}


def reason(due: DueFacts, item: str) -> str | None:
    found = catalogue(due).get(item)
    return None if found is None else found.reason


def days_ago(days: int, visit: date = VISIT) -> date:
    return visit - timedelta(days=days)


# "1×/y": due when there is no result in the last 365 days (§4.1); the last 365 days end today.
YEARLY_ITEMS = [
    ("tekanan-darah", 30, "male"),
    ("imt", 30, "male"),
    ("lingkar-perut", 30, "male"),
    ("srq-20", 30, "male"),
    ("visus", 30, "male"),
    ("tes-bisik", 30, "male"),
    ("gula-darah", 40, "male"),
    ("puma", 40, "male"),
    ("kolorektal", 50, "male"),
    ("kolesterol", 60, "male"),
    ("adl", 60, "male"),
    ("skilas", 60, "male"),
    ("sdq", 10, "male"),
    ("layak-hamil", 30, "female"),
]


@pytest.mark.parametrize(("item", "years", "sex"), YEARLY_ITEMS, ids=[item for item, _, _ in YEARLY_ITEMS])
@pytest.mark.parametrize(
    ("days", "due"),
    [(0, False), (1, False), (364, False), (365, True), (366, True)],
    ids=["today-earlier", "yesterday", "364-days-ago", "365-days-ago", "366-days-ago"],
)
def test_yearly_items_are_due_when_no_result_in_the_last_365_days(
    item: str, years: int, sex: Sex, days: int, due: bool
) -> None:
    visit = facts(born(years), sex=sex, last_done={item: days_ago(days)})
    assert (item in catalogue(visit)) is due


@pytest.mark.parametrize("item", [item for item, _, _ in YEARLY_ITEMS])
def test_an_item_done_at_this_visit_is_not_due_again(item: str) -> None:
    years, sex = next((years, sex) for code, years, sex in YEARLY_ITEMS if code == item)
    assert item in catalogue(facts(born(years), sex=sex))
    assert item not in catalogue(facts(born(years), sex=sex, done_today={item}))


def edge(item: str, age: str, expected: str | None, sex: Sex = "male") -> object:
    """One eligibility case; ``age`` is ``"15y"``, ``"15y-1d"`` (the day before the 15th birthday), ``"59mo"``
    or ``"2d"``."""
    amount, unit = re.fullmatch(r"(\d+)(y|mo|d)(?:-1d)?", age).groups()  # type: ignore[union-attr]
    birth = born(**{{"y": "years", "mo": "months", "d": "days"}[unit]: int(amount)})
    if age.endswith("-1d"):
        birth += timedelta(days=1)
    return pytest.param(item, birth, sex, expected, id=f"{item}-{sex}-{age}")


@pytest.mark.parametrize(
    ("item", "birth", "sex", "expected"),
    [
        # tekanan-darah: ≥15 y; school/remaja (§4.1)
        edge("tekanan-darah", "10y-1d", None),
        edge("tekanan-darah", "10y", "remaja"),
        edge("tekanan-darah", "15y-1d", "remaja"),
        edge("tekanan-darah", "15y", "usia-15-tahun-ke-atas"),
        edge("tekanan-darah", "18y", "usia-15-tahun-ke-atas"),
        # imt, lingkar-perut, visus: ≥15 y
        edge("imt", "15y-1d", None),
        edge("imt", "15y", "usia-15-tahun-ke-atas"),
        edge("lingkar-perut", "15y-1d", None),
        edge("lingkar-perut", "15y", "usia-15-tahun-ke-atas"),
        edge("visus", "15y-1d", None),
        edge("visus", "15y", "usia-15-tahun-ke-atas"),
        # gula-darah: ≥40 y and everyone at 2 y; with risk from 3 y (risk cases below)
        edge("gula-darah", "40y-1d", None),
        edge("gula-darah", "40y", "usia-40-tahun-ke-atas"),
        edge("gula-darah", "2y-1d", None),
        edge("gula-darah", "2y", "usia-2-tahun"),
        edge("gula-darah", "3y-1d", "usia-2-tahun"),
        edge("gula-darah", "3y", None),
        # puma ≥40 y; kolorektal ≥50 y; adl and skilas ≥60 y; tes-bisik ≥18 y; kolesterol for lansia
        edge("puma", "40y-1d", None),
        edge("puma", "40y", "usia-40-tahun-ke-atas"),
        edge("kolorektal", "50y-1d", None),
        edge("kolorektal", "50y", "usia-50-tahun-ke-atas"),
        edge("adl", "60y-1d", None),
        edge("adl", "60y", "usia-60-tahun-ke-atas"),
        edge("skilas", "60y-1d", None),
        edge("skilas", "60y", "usia-60-tahun-ke-atas"),
        edge("tes-bisik", "18y-1d", None),
        edge("tes-bisik", "18y", "usia-18-tahun-ke-atas"),
        edge("kolesterol", "60y-1d", None),
        edge("kolesterol", "60y", "lansia"),
        # srq-20 ≥15 y at the default setting
        edge("srq-20", "15y-1d", None),
        edge("srq-20", "15y", "usia-15-tahun-ke-atas"),
        # sdq 4–18 y, both ends included (§0: "a–b" is a ≤ x ≤ b)
        edge("sdq", "4y-1d", None),
        edge("sdq", "4y", "usia-4-18-tahun"),
        edge("sdq", "19y-1d", "usia-4-18-tahun"),
        edge("sdq", "19y", None),
        # sadanis: women ≥15 y (default setting); iva: women ≥30 y; never men
        edge("sadanis", "15y-1d", None, "female"),
        edge("sadanis", "15y", "usia-15-tahun-ke-atas", "female"),
        edge("sadanis", "40y", None),
        edge("iva", "30y-1d", None, "female"),
        edge("iva", "30y", "usia-30-tahun-ke-atas", "female"),
        edge("iva", "40y", None),
        # layak-hamil: women 15–49 y [interpretation of PUS]
        edge("layak-hamil", "15y-1d", None, "female"),
        edge("layak-hamil", "15y", "usia-15-49-tahun", "female"),
        edge("layak-hamil", "50y-1d", "usia-15-49-tahun", "female"),
        edge("layak-hamil", "50y", None, "female"),
        edge("layak-hamil", "30y", None),
        # hb-remaja-putri: girls in classes 7 and 10, taken as 12 and 15 y [interpretation]
        edge("hb-remaja-putri", "12y-1d", None, "female"),
        edge("hb-remaja-putri", "12y", "usia-12-12-tahun", "female"),
        edge("hb-remaja-putri", "13y", None, "female"),
        edge("hb-remaja-putri", "15y", "usia-15-15-tahun", "female"),
        edge("hb-remaja-putri", "16y", None, "female"),
        edge("hb-remaja-putri", "12y", None),
        # antropometri-anak and pemantauan-nt: 0–59 mo
        edge("antropometri-anak", "0d", "balita"),
        edge("antropometri-anak", "59mo", "balita"),
        edge("antropometri-anak", "60mo", None),
        edge("pemantauan-nt", "59mo", "balita"),
        edge("pemantauan-nt", "60mo", None),
        # shk: a neonate at 48–72 h, days 2 and 3
        edge("shk", "1d", None),
        edge("shk", "2d", "neonatus"),
        edge("shk", "3d", "neonatus"),
        edge("shk", "4d", None),
        # talasemia: everyone at 2 y, adults
        edge("talasemia", "2y-1d", None),
        edge("talasemia", "2y", "usia-2-tahun"),
        edge("talasemia", "3y", None),
        edge("talasemia", "18y-1d", None),
        edge("talasemia", "18y", "dewasa"),
        # tb-gejala: everyone, every contact
        edge("tb-gejala", "0d", "setiap-kunjungan"),
        edge("tb-gejala", "80y", "setiap-kunjungan", "female"),
    ],
)
def test_who_is_eligible(item: str, birth: date, sex: Sex, expected: str | None) -> None:
    assert reason(facts(birth, sex=sex), item) == expected


@pytest.mark.parametrize(
    ("years", "findings", "expected"),
    [
        (20, {"obesitas-1"}, "faktor-risiko"),
        (20, {"obesitas-sentral"}, "faktor-risiko"),
        (20, {"hipertensi-1"}, "faktor-risiko"),
        (20, {"td-hamil-tinggi"}, "faktor-risiko"),
        (20, {"berat-badan-lebih"}, None),
        (39, set(), None),
        (3, {"obesitas"}, "faktor-risiko"),
        (14, {"hipertensi-2"}, "faktor-risiko"),
    ],
    ids=[
        "obesity",
        "central-obesity",
        "high-bp",
        "high-bp-in-pregnancy",
        "overweight-no-risk",
        "no-risk",
        "3-y-obese",
        "14-y-high-bp",
    ],
)
def test_glucose_for_risk_before_40(years: int, findings: set[str], expected: str | None) -> None:
    assert reason(facts(born(years), findings=findings), "gula-darah") == expected


@pytest.mark.parametrize(
    ("years", "findings", "expected"),
    [
        (39, {"hipertensi-1"}, None),
        (40, {"hipertensi-1"}, "hipertensi-atau-diabetes"),
        (40, {"suspek-diabetes"}, "hipertensi-atau-diabetes"),
        (40, {"prediabetes"}, None),
        (59, set(), None),
    ],
    ids=["39-y-ht", "40-y-ht", "40-y-dm", "40-y-prediabetes", "59-y-no-finding"],
)
def test_cholesterol_for_hypertension_or_diabetes_from_40(years: int, findings: set[str], expected: str | None) -> None:
    assert reason(facts(born(years), sex="male", findings=findings), "kolesterol") == expected


@pytest.mark.parametrize(
    ("minimum", "years", "due"),
    [(15, 14, False), (15, 15, True), (18, 17, False), (18, 18, True)],
    ids=["15-setting-14-y", "15-setting-15-y", "18-setting-17-y", "18-setting-18-y"],
)
def test_srq20_minimum_age_follows_the_setting(minimum: int, years: int, due: bool) -> None:
    settings = EngineSettings(srq20_min_age_years=minimum)  # type: ignore[arg-type]
    assert ("srq-20" in catalogue(facts(born(years), settings=settings))) is due


@pytest.mark.parametrize(
    ("minimum", "years", "due"),
    [(15, 14, False), (15, 15, True), (30, 29, False), (30, 30, True)],
    ids=["15-setting-14-y", "15-setting-15-y", "30-setting-29-y", "30-setting-30-y"],
)
def test_sadanis_minimum_age_follows_the_setting(minimum: int, years: int, due: bool) -> None:
    settings = EngineSettings(sadanis_min_age_years=minimum)  # type: ignore[arg-type]
    assert ("sadanis" in catalogue(facts(born(years), settings=settings))) is due


@pytest.mark.parametrize(
    ("item", "last", "due"),
    [
        ("sadanis", add_months(VISIT, -36) + timedelta(days=1), False),
        ("sadanis", add_months(VISIT, -36), True),
        ("iva", add_months(VISIT, -36) + timedelta(days=1), False),
        ("iva", add_months(VISIT, -36), True),
    ],
    ids=["sadanis-day-before-3-y", "sadanis-3-y", "iva-day-before-3-y", "iva-3-y"],
)
def test_every_three_years(item: str, last: date, due: bool) -> None:
    assert (item in catalogue(facts(born(35), last_done={item: last}))) is due


@pytest.mark.parametrize(
    ("item", "birth", "last", "due"),
    [
        ("talasemia", born(2), days_ago(400), False),
        ("talasemia", born(30), days_ago(5000), False),
        ("talasemia", born(30), None, True),
        ("shk", born(days=3), days_ago(1), False),
    ],
    ids=["at-2-y-done-before", "adult-done-long-ago", "adult-never", "neonate-done-yesterday"],
)
def test_once_only_items(item: str, birth: date, last: date | None, due: bool) -> None:
    visit = facts(birth, sex="male", last_done={item: last} if last else None)
    assert (item in catalogue(visit)) is due


@pytest.mark.parametrize(
    ("last", "due"),
    [(date(2026, 6, 1), False), (date(2026, 5, 31), True), (date(2026, 5, 1), True)],
    ids=["earlier-this-month", "last-day-of-last-month", "a-month-ago"],
)
@pytest.mark.parametrize("item", ["antropometri-anak", "pemantauan-nt"])
def test_monthly_child_items(item: str, last: date, due: bool) -> None:
    visit = facts(born(1), site="posyandu", visit=date(2026, 6, 20), last_done={item: last})
    assert (item in catalogue(visit)) is due


@pytest.mark.parametrize(
    ("age_months", "band"),
    [(2, None), (3, 3), (5, 3), (6, 6), (23, 21), (24, 24), (71, 66), (72, 72), (73, None)],
    ids=["2-mo", "3-mo", "5-mo", "6-mo", "23-mo", "24-mo", "71-mo", "72-mo", "73-mo"],
)
def test_kpsp_at_each_band_from_3_to_72_months(age_months: int, band: int | None) -> None:
    expected = None if band is None else f"band-{band}"
    assert reason(facts(born(months=age_months)), "kpsp") == expected


@pytest.mark.parametrize(
    ("done_at_months", "due"),
    [(None, True), (5, True), (6, False)],
    ids=["never", "in-the-previous-band", "in-this-band"],
)
def test_kpsp_once_per_band(done_at_months: int | None, due: bool) -> None:
    birth = born(months=8)
    last = None if done_at_months is None else {"kpsp": add_months(birth, done_at_months)}
    assert ("kpsp" in catalogue(facts(birth, last_done=last))) is due


@pytest.mark.parametrize(
    ("visit", "age_months", "last", "due"),
    [
        (AUGUST, 6, None, True),
        (FEBRUARY, 59, None, True),
        (AUGUST, 5, None, False),
        (AUGUST, 60, None, False),
        (VISIT, 12, None, False),
        (AUGUST, 12, date(2026, 8, 1), False),
        (AUGUST, 12, date(2026, 7, 31), True),
        (AUGUST, 12, FEBRUARY, True),
    ],
    ids=[
        "august-6-mo",
        "february-59-mo",
        "5-mo",
        "60-mo",
        "june",
        "given-this-month",
        "given-last-month",
        "given-in-february",
    ],
)
def test_vitamin_a_in_february_and_august(visit: date, age_months: int, last: date | None, due: bool) -> None:
    child = facts(
        born(months=age_months, visit=visit),
        site="posyandu",
        visit=visit,
        last_done={"vitamin-a": last} if last else None,
    )
    assert ("vitamin-a" in catalogue(child)) is due


@pytest.mark.parametrize(
    ("visit", "birth", "site", "expected"),
    [
        (AUGUST, born(months=11, visit=AUGUST), "posyandu", None),
        (AUGUST, born(months=12, visit=AUGUST), "posyandu", "balita"),
        (AUGUST, born(months=59, visit=AUGUST), "posyandu", "balita"),
        (FEBRUARY, born(months=24, visit=FEBRUARY), "posyandu", None),
        (AUGUST, born(8, visit=AUGUST), "sekolah", "sekolah"),
        (AUGUST, born(8, visit=AUGUST), "puskesmas", None),
        (VISIT, born(8), "sekolah", None),
    ],
    ids=["11-mo", "12-mo", "59-mo", "february", "pupil-at-school", "pupil-at-puskesmas", "pupil-in-june"],
)
def test_deworming_in_august(visit: date, birth: date, site: Site, expected: str | None) -> None:
    assert reason(facts(birth, site=site, visit=visit), "obat-cacing") == expected


@pytest.mark.parametrize(
    ("years", "site", "expected"),
    [(9, "sekolah", "sekolah"), (9, "posyandu", None), (6, "sekolah", "sekolah"), (5, "sekolah", None)],
    ids=["pupil-at-school", "child-at-posyandu", "6-y-at-school", "5-y-at-school"],
)
def test_school_screening_of_pupils(years: int, site: Site, expected: str | None) -> None:
    child = facts(born(years), site=site)
    assert {item: reason(child, item) for item in ("tekanan-darah", "imt", "visus")} == dict.fromkeys(
        ("tekanan-darah", "imt", "visus"), expected
    )


# ANC (§4.2): GA in days, T1 ≤84, T2 85–168, T3 ≥169; K3 adds the glucose check.
def pregnant(gestational_age_days: int | None = 140, visit_number: int | None = None, **kwargs: object) -> DueFacts:
    pregnancy = Pregnancy("hamil", gestational_age_days, anc_visit_number=visit_number)
    return facts(born(25), pregnancy=pregnancy, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("gestation", "visit_number", "expected"),
    [
        (84, None, "trimester-1"),
        (85, None, "trimester-2"),
        (168, None, "trimester-2"),
        (169, None, "trimester-3"),
        (None, None, "ibu-hamil"),
        (100, 1, "k1"),
        (200, 6, "k6"),
    ],
    ids=["84-d", "85-d", "168-d", "169-d", "no-ga", "k1", "k6"],
)
def test_anc_visit_reason(gestation: int | None, visit_number: int | None, expected: str) -> None:
    assert reason(pregnant(gestation, visit_number), "anc-kunjungan") == expected


@pytest.mark.parametrize(
    ("visit_number", "last_days", "expected"),
    [(3, 30, "anc-k3"), (3, None, "anc-k3"), (2, 30, None), (4, 30, None), (2, None, None)],
    ids=["k3-checked-a-month-ago", "k3-never", "k2-checked-a-month-ago", "k4-checked-a-month-ago", "k2-never-25-y"],
)
def test_glucose_at_the_third_anc_visit(visit_number: int, last_days: int | None, expected: str | None) -> None:
    last = {"gula-darah": days_ago(last_days)} if last_days is not None else None
    assert reason(pregnant(visit_number=visit_number, last_done=last), "gula-darah") == expected


def test_every_anc_visit_checks_blood_pressure_and_tb() -> None:
    visit = pregnant(last_done={"tekanan-darah": days_ago(14), "tb-gejala": days_ago(14)})
    assert (reason(visit, "tekanan-darah"), reason(visit, "tb-gejala")) == ("ibu-hamil", "setiap-kunjungan")


@pytest.mark.parametrize(
    ("last_days", "due"),
    [(None, True), (141, True), (140, False), (10, False)],
    ids=["never", "before-this-pregnancy", "at-conception", "this-pregnancy"],
)
@pytest.mark.parametrize("record", ["lila-kek", "status-t"])
def test_once_per_pregnancy(record: str, last_days: int | None, due: bool) -> None:
    last = {record: days_ago(last_days)} if last_days is not None else None
    due_here = {
        item.reason if item.item == "imunisasi" else item.item for item in due_items(pregnant(140, last_done=last))
    }
    assert (record in due_here) is due


def test_no_bmi_or_waist_in_pregnancy() -> None:
    visit = pregnant()
    assert (reason(visit, "imt"), reason(visit, "lingkar-perut"), reason(visit, "layak-hamil")) == (None, None, None)


# KF and KN (§4.3): dpp is days since delivery, the delivery day being day 0.
@pytest.mark.parametrize(
    ("dpp", "expected"),
    [(0, "kf1"), (2, "kf1"), (3, "kf2"), (7, "kf2"), (8, "kf3"), (28, "kf3"), (29, "kf4"), (42, "kf4"), (43, None)],
    ids=lambda value: f"dpp-{value}" if isinstance(value, int) else None,
)
def test_kf_windows(dpp: int, expected: str | None) -> None:
    mother = facts(born(28), pregnancy=Pregnancy("nifas", delivery_date=days_ago(dpp)))
    assert reason(mother, "kf-kunjungan") == expected


@pytest.mark.parametrize(
    ("dpp", "done_on_dpp", "due"),
    [(5, 2, True), (5, 3, False), (29, 28, True), (30, 29, False)],
    ids=["kf2-after-kf1", "kf2-done", "kf4-after-kf3", "kf4-done"],
)
def test_one_kf_visit_per_window(dpp: int, done_on_dpp: int, due: bool) -> None:
    delivery = days_ago(dpp)
    mother = facts(
        born(28),
        pregnancy=Pregnancy("nifas", delivery_date=delivery),
        last_done={"kf-kunjungan": delivery + timedelta(days=done_on_dpp)},
    )
    assert ("kf-kunjungan" in catalogue(mother)) is due


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, "kn1"), (2, "kn1"), (3, "kn2"), (7, "kn2"), (8, "kn3"), (28, "kn3"), (29, None)],
    ids=lambda value: f"day-{value}" if isinstance(value, int) else None,
)
def test_kn_windows(days: int, expected: str | None) -> None:
    assert reason(facts(born(days=days)), "kn-kunjungan") == expected


@pytest.mark.parametrize(
    ("days", "done_on_day", "due"),
    [(4, 2, True), (4, 3, False), (10, 7, True), (10, 8, False)],
    ids=["kn2-after-kn1", "kn2-done", "kn3-after-kn2", "kn3-done"],
)
def test_one_kn_visit_per_window(days: int, done_on_day: int, due: bool) -> None:
    birth = born(days=days)
    baby = facts(birth, last_done={"kn-kunjungan": birth + timedelta(days=done_on_day)})
    assert ("kn-kunjungan" in catalogue(baby)) is due


# Immunisation (§4.4): the dose is due from its age when the previous dose is far enough back.
def baby(birth: date, given: Mapping[str, date] | None = None, site: Site = "posyandu") -> DueFacts:
    return facts(birth, site=site, last_done=given)


def test_doses_due_at_birth() -> None:
    assert doses(baby(born(days=0))) == ["bcg", "hb0", "opv-1"]


def test_hb0_only_in_the_first_24_hours() -> None:
    assert doses(baby(born(days=1))) == ["bcg", "opv-1"]


def test_doses_due_at_2_months_with_the_birth_doses_given() -> None:
    birth = born(months=2)
    given = {"hb0": birth, "bcg": birth + timedelta(days=5), "opv-1": birth + timedelta(days=5)}
    assert doses(baby(birth, given)) == ["dpt-hb-hib-1", "opv-2", "pcv-1", "rv-1"]


@pytest.mark.parametrize(
    ("age_months", "given", "dose", "due"),
    [
        (2, {"opv-1": days_ago(27)}, "opv-2", False),
        (2, {"opv-1": days_ago(28)}, "opv-2", True),
        (1, {"opv-1": days_ago(28)}, "opv-2", False),
        (3, {"dpt-hb-hib-1": days_ago(27)}, "dpt-hb-hib-2", False),
        (3, {"dpt-hb-hib-1": days_ago(28)}, "dpt-hb-hib-2", True),
        (4, {"rv-2": days_ago(27)}, "rv-3", False),
        (4, {"rv-2": days_ago(28)}, "rv-3", True),
        (3, {}, "pcv-2", False),
        (12, {"pcv-2": days_ago(55)}, "pcv-3", False),
        (12, {"pcv-2": days_ago(56)}, "pcv-3", True),
        (11, {"pcv-2": days_ago(56)}, "pcv-3", False),
        (9, {"ipv-1": days_ago(1)}, "ipv-2", True),
        (8, {"ipv-1": days_ago(100)}, "ipv-2", False),
        (9, {}, "mr-1", True),
        (8, {}, "mr-1", False),
        (18, {"mr-1": add_months(VISIT, -6) + timedelta(days=1)}, "mr-2", False),
        (18, {"mr-1": add_months(VISIT, -6)}, "mr-2", True),
        (18, {"dpt-hb-hib-3": add_months(VISIT, -12) + timedelta(days=1)}, "dpt-hb-hib-4", False),
        (18, {"dpt-hb-hib-3": add_months(VISIT, -12)}, "dpt-hb-hib-4", True),
        (17, {"dpt-hb-hib-3": add_months(VISIT, -12)}, "dpt-hb-hib-4", False),
        (23, {"mr-1": add_months(VISIT, -12)}, "mr-2", True),
        (24, {"mr-1": add_months(VISIT, -12)}, "mr-2", False),
        (5, {"opv-1": days_ago(100), "opv-2": days_ago(50)}, "opv-2", False),
    ],
    ids=[
        "opv-2-27-d",
        "opv-2-28-d",
        "opv-2-before-2-mo",
        "dpt-2-27-d",
        "dpt-2-28-d",
        "rv-3-27-d",
        "rv-3-28-d",
        "pcv-2-without-pcv-1",
        "pcv-3-55-d",
        "pcv-3-56-d",
        "pcv-3-before-12-mo",
        "ipv-2-at-9-mo",
        "ipv-2-before-9-mo",
        "mr-1-at-9-mo",
        "mr-1-before-9-mo",
        "mr-2-day-before-6-mo",
        "mr-2-6-mo",
        "dpt-4-day-before-12-mo",
        "dpt-4-12-mo",
        "dpt-4-before-18-mo",
        "mr-2-at-23-mo",
        "none-from-24-mo",
        "opv-2-given",
    ],
)
def test_dose_due_by_age_and_minimum_interval(age_months: int, given: dict[str, date], dose: str, due: bool) -> None:
    assert (dose in doses(baby(born(months=age_months), given))) is due


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {},
            [
                DueDose("bcg", date(2026, 1, 31)),
                DueDose("opv-1", date(2026, 1, 31)),
                DueDose("mr-1", date(2026, 10, 31)),
            ],
        ),
        ({"opv-1": date(2026, 3, 20)}, [DueDose("opv-2", date(2026, 4, 17))]),  # 28 days after OPV1, past 2 months
        ({"opv-1": date(2026, 2, 10)}, [DueDose("opv-2", date(2026, 3, 31))]),  # 2 months old after the 28 days
        ({"dpt-hb-hib-1": date(2026, 3, 31)}, [DueDose("dpt-hb-hib-2", date(2026, 4, 30))]),  # 3 months: 30 April
    ],
    ids=["from-the-month-of-age", "from-the-interval", "from-the-age-after-the-interval", "month-end"],
)
def test_a_due_dose_says_since_when(given: dict[str, date], expected: list[DueDose]) -> None:
    """The day a dose fell due: the later of its month of age and the minimum interval after the dose before."""
    due = {dose.code: dose for dose in doses_due(date(2026, 1, 31), date(2026, 11, 15), given)}
    assert [due[dose.code] for dose in expected] == expected


def test_the_doses_due_are_the_engines() -> None:
    """The worklist's doses (``doses_due``) and a visit's (``due_items``) are one rule."""
    birth = born(months=10)
    given = {"bcg": birth, "opv-1": birth, "dpt-hb-hib-1": add_months(birth, 2)}
    assert sorted(dose.code for dose in doses_due(birth, VISIT, given)) == doses(baby(birth, given))


@pytest.mark.parametrize(
    ("previous", "dose", "interval", "warned"),
    [
        ("opv-1", "opv-2", timedelta(days=27), True),
        ("opv-1", "opv-2", timedelta(days=28), False),
        ("pcv-2", "pcv-3", timedelta(days=55), True),
        ("pcv-2", "pcv-3", timedelta(days=56), False),
    ],
    ids=["opv-27-d", "opv-28-d", "pcv-3-55-d", "pcv-3-56-d"],
)
def test_a_short_interval_between_recorded_doses_is_a_warning(
    previous: str, dose: str, interval: timedelta, warned: bool
) -> None:
    first = date(2026, 1, 10)
    visit = VisitInput(born(1), "female", VISIT, "posyandu", last_done={previous: first, dose: first + interval})
    assert ("dosis-interval-kurang" in evaluate(visit).warnings) is warned


@pytest.mark.parametrize(
    ("previous_months_ago", "warned"),
    [(6, False), (5, True)],
    ids=["mr-2-6-months-after-mr-1", "mr-2-5-months-after-mr-1"],
)
def test_calendar_month_intervals_warn_too(previous_months_ago: int, warned: bool) -> None:
    given = {"mr-1": add_months(VISIT, -previous_months_ago), "mr-2": VISIT}
    visit = VisitInput(born(2), "female", VISIT, "posyandu", last_done=given)
    assert ("dosis-interval-kurang" in evaluate(visit).warnings) is warned


# Sites (§4.1 "Sites", R8): an item due where it is not offered is scheduled, not dropped.
PROFILE_SITES = {
    "antropometri-anak": "YUP",
    "pemantauan-nt": "Y",
    "tb-gejala": "PUYRS",
    "tekanan-darah": "YUPS",
    "imt": "YUPS",
    "lingkar-perut": "YUPS",
    "gula-darah": "YUP",
    "kolesterol": "YUP",
    "srq-20": "YUP",
    "puma": "YUP",
    "visus": "YUPS",
    "tes-bisik": "UP",
    "sadanis": "UP",
    "iva": "UP",
    "kolorektal": "P",
    "adl": "YUPR",
    "skilas": "YUPR",
    "talasemia": "P",
}
LETTERS = {"puskesmas": "P", "pustu": "U", "posyandu": "Y", "kunjungan-rumah": "R", "sekolah": "S"}


@pytest.mark.parametrize("site", SITES)
def test_each_item_is_offered_at_the_profile_sites(site: Site) -> None:
    due = catalogue(facts(born(65), site=site)) | catalogue(facts(born(2), site=site))
    assert {item: due[item].available_here for item in PROFILE_SITES} == {
        item: LETTERS[site] in sites for item, sites in PROFILE_SITES.items()
    }


@pytest.mark.parametrize(
    ("site", "scheduled"),
    [
        ("posyandu", ["talasemia", "tes-bisik", "sadanis", "iva", "kolorektal"]),
        ("pustu", ["talasemia", "kolorektal"]),
        ("puskesmas", None),
    ],
)
def test_r8_schedules_what_the_site_cannot_do(site: Site, scheduled: list[str] | None) -> None:
    visit = VisitInput(born(55), "female", VISIT, site)
    follow_ups = {follow_up.code: follow_up for follow_up in evaluate(visit).follow_ups}
    if scheduled is None:
        assert "jadwalkan" not in follow_ups
    else:
        assert (list(follow_ups["jadwalkan"].reasons), follow_ups["jadwalkan"].due_in_days) == (scheduled, 0)


def test_r8_names_the_dose_for_immunisation() -> None:
    visit = VisitInput(born(months=9), "male", VISIT, "sekolah")
    follow_ups = {follow_up.code: follow_up.reasons for follow_up in evaluate(visit).follow_ups}
    assert {"mr-1", "ipv-1", "bcg"} <= set(follow_ups["jadwalkan"])


def test_results_carried_by_the_visit_make_items_done() -> None:
    measured = Measurements(systolic=120, diastolic=80, weight_kg=70, height_cm=170, waist_cm=85, glucose_random=110)
    visit = VisitInput(born(45), "male", VISIT, "puskesmas", measurements=measured)
    due = {item.item for item in evaluate(visit).due}
    assert due.isdisjoint({"tekanan-darah", "imt", "lingkar-perut", "gula-darah"})
    assert {"puma", "srq-20", "visus"} <= due
