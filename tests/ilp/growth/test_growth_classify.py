"""§6.9 classifications: cut-offs, rounding, reference and position switches, oedema, flags, ages."""

from dataclasses import replace
from decimal import Decimal

import pytest

from ilp_api.ilp.growth import GrowthInput, classify_growth, round_z, zscore
from ilp_api.ilp.growth.bands import BANDS, band_for
from ilp_api.ilp.growth.inputs import IndexKey, Reference
from ilp_api.ilp.growth.lms import sd_value
from ilp_api.ilp.growth.tables import LMS, who2006_by_day, who2006_by_length, who2007_by_month
from ilp_api.ilp.results import NOT_CLASSIFIED, Classification, Interpretation, Rule

N, H, HH, L, LL = "N", "H", "HH", "L", "LL"

# (index, reference, rounded z, code, v3): just below, at and just above every cut-off of the §6.9 table.
CUT_OFFS = [
    ("tb-u", "who-2006", "-3.01", "sangat-pendek", LL),
    ("tb-u", "who-2006", "-3.00", "pendek", L),
    ("tb-u", "who-2006", "-2.01", "pendek", L),
    ("tb-u", "who-2006", "-2.00", "normal", N),
    ("tb-u", "who-2006", "3.00", "normal", N),
    ("tb-u", "who-2006", "3.01", "tinggi", H),
    ("bb-u", "who-2006", "-3.01", "berat-badan-sangat-kurang", LL),
    ("bb-u", "who-2006", "-3.00", "berat-badan-kurang", L),
    ("bb-u", "who-2006", "-2.01", "berat-badan-kurang", L),
    ("bb-u", "who-2006", "-2.00", "normal", N),
    ("bb-u", "who-2006", "1.00", "normal", N),
    ("bb-u", "who-2006", "1.01", "risiko-berat-badan-lebih", H),
    *[
        (key, "who-2006", z, code, v3)
        for key in ("bb-tb", "imt-u")
        for z, code, v3 in [
            ("-3.01", "gizi-buruk", LL),
            ("-3.00", "gizi-kurang", L),
            ("-2.01", "gizi-kurang", L),
            ("-2.00", "gizi-baik", N),
            ("1.00", "gizi-baik", N),
            ("1.01", "berisiko-gizi-lebih", H),
            ("2.00", "berisiko-gizi-lebih", H),
            ("2.01", "gizi-lebih", H),
            ("3.00", "gizi-lebih", H),
            ("3.01", "obesitas", HH),
        ]
    ],
    ("imt-u", "who-2007", "-3.01", "gizi-buruk", LL),
    ("imt-u", "who-2007", "-3.00", "gizi-kurang", L),
    ("imt-u", "who-2007", "-2.01", "gizi-kurang", L),
    ("imt-u", "who-2007", "-2.00", "gizi-baik", N),
    ("imt-u", "who-2007", "1.00", "gizi-baik", N),
    ("imt-u", "who-2007", "1.01", "gizi-lebih", H),
    ("imt-u", "who-2007", "2.00", "gizi-lebih", H),
    ("imt-u", "who-2007", "2.01", "obesitas", HH),
    ("lk-u", "who-2006", "-2.01", "mikrosefali", L),
    ("lk-u", "who-2006", "-2.00", "normal", N),
    ("lk-u", "who-2006", "2.00", "normal", N),
    ("lk-u", "who-2006", "2.01", "makrosefali", H),
]


@pytest.mark.parametrize(("key", "reference", "z", "code", "v3"), CUT_OFFS)
def test_cut_offs(key: IndexKey, reference: Reference, z: str, code: str, v3: str) -> None:
    band = band_for(Decimal(z), BANDS[key, reference])
    assert (band.code, band.interpretation) == (code, Interpretation(v3))


@pytest.mark.parametrize(
    ("z", "rounded"),
    [
        (1.005, "1.01"),
        (-1.005, "-1.01"),
        (2.0049, "2.00"),
        (-2.0051, "-2.01"),
        (-2.995, "-3.00"),
        (0.0, "0.00"),
    ],
)
def test_round_half_away_from_zero(z: float, rounded: str) -> None:
    assert round_z(z) == Decimal(rounded)


def _weight_at(z: float, lms: LMS) -> float:
    """The measurement whose (restricted) z-score is ``z``: the inverse of the LMS formula."""
    if z > 3:
        return sd_value(lms, 3) + (z - 3) * (sd_value(lms, 3) - sd_value(lms, 2))
    if z < -3:
        return sd_value(lms, -3) + (z + 3) * (sd_value(lms, -2) - sd_value(lms, -3))
    return sd_value(lms, z)


BABY = GrowthInput(sex="female", age_days=300, completed_months=9)


def _only(data: GrowthInput, key: IndexKey) -> Classification:
    found = [c for c in classify_growth(data) if c.key == key]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("z", "code", "value"),
    [(-2.0049, "normal", -2.0), (-2.0051, "berat-badan-kurang", -2.01), (1.0049, "normal", 1.0)],
)
def test_z_is_rounded_before_classifying(z: float, code: str, value: float) -> None:
    data = replace(BABY, weight_kg=_weight_at(z, who2006_by_day("wfa", "female")[300]))
    result = _only(data, "bb-u")
    assert (result.code, result.value) == (code, value)
    assert result.rule == Rule("6.9-bb-u", "Permenkes 2/2020; WHO 2006")
    assert result.details == {"reference": "who-2006"}


@pytest.mark.parametrize(
    ("key", "z", "flagged"),
    [
        ("bb-u", 5.0, False),
        ("bb-u", 5.01, True),
        ("bb-u", -6.0, False),
        ("bb-u", -6.01, True),
        ("lk-u", 5.01, True),
        ("lk-u", -5.01, True),
        ("lk-u", 4.99, False),
    ],
)
def test_implausible_z_is_flagged_but_classified(key: IndexKey, z: float, flagged: bool) -> None:
    table = "wfa" if key == "bb-u" else "hcfa"
    lms = who2006_by_day(table, "female")[300]
    value = _weight_at(z, lms) if key == "bb-u" else sd_value(lms, z)
    data = replace(BABY, weight_kg=value) if key == "bb-u" else replace(BABY, head_circumference_cm=value)
    result = _only(data, key)
    assert result.value == z
    assert result.code != NOT_CLASSIFIED
    assert result.flags == (("z-tidak-wajar",) if flagged else ())


def test_tb_u_flag_limit_is_six() -> None:
    lms = who2006_by_day("lfa", "male")[100]
    for z, flags in ((6.0, ()), (6.01, ("z-tidak-wajar",)), (-6.01, ("z-tidak-wajar",))):
        length = lms.m * (1 + lms.s * z)  # L = 1 for length: the curve is linear
        data = GrowthInput(sex="male", age_days=100, completed_months=3, length_cm=length)
        assert lms.l == 1
        assert _only(data, "tb-u").flags == flags


def test_position_switch_at_day_731() -> None:
    lying = GrowthInput(sex="male", age_days=730, completed_months=23, weight_kg=11.0, length_cm=85.0)
    standing = replace(lying, age_days=731, completed_months=24)
    assert _only(lying, "bb-tb").details == {"reference": "who-2006", "measurement": "length", "cm": 85.0}
    assert _only(standing, "bb-tb").details == {
        "reference": "who-2006",
        "measurement": "height",
        "cm": 84.3,
        "correctedCm": -0.7,
    }
    # Day 731 uses weight-for-height at the corrected 84.3 cm.
    wfh = who2006_by_length("wfh", "male").at(Decimal("84.3"))
    assert wfh is not None
    assert zscore("bb-tb", standing) == pytest.approx(((11.0 / wfh.m) ** wfh.l - 1) / (wfh.l * wfh.s))


def test_standing_below_731_days_adds_0_7() -> None:
    standing = GrowthInput(sex="female", age_days=400, completed_months=13, height_cm=74.3)
    lying = replace(standing, height_cm=None, length_cm=75.0)
    assert zscore("tb-u", standing) == zscore("tb-u", lying)
    assert _only(standing, "tb-u").details["correctedCm"] == 0.7


def test_measurement_matching_the_age_wins_when_both_are_given() -> None:
    both = GrowthInput(sex="female", age_days=900, completed_months=29, length_cm=91.0, height_cm=90.0)
    assert _only(both, "tb-u").details == {"reference": "who-2006", "measurement": "height", "cm": 90.0}


@pytest.mark.parametrize(
    ("age_days", "cm", "in_range"),
    [
        (100, 44.9, False),
        (100, 45.0, True),
        (700, 110.0, True),
        (700, 110.1, False),
        (800, 64.9, False),
        (800, 65.0, True),
        (800, 120.0, True),
        (800, 120.1, False),
    ],
)
def test_weight_for_length_height_ranges(age_days: int, cm: float, in_range: bool) -> None:
    lying = age_days < 731
    data = GrowthInput(
        sex="male",
        age_days=age_days,
        completed_months=age_days // 31,
        weight_kg=9.0,
        length_cm=cm if lying else None,
        height_cm=None if lying else cm,
    )
    result = _only(data, "bb-tb")
    assert (result.code != NOT_CLASSIFIED) is in_range
    if not in_range:
        assert result.details["reason"] == "di-luar-tabel"


def test_correction_applies_before_the_range_check() -> None:
    standing = GrowthInput(sex="male", age_days=100, completed_months=3, weight_kg=3.0, height_cm=44.3)
    assert _only(standing, "bb-tb").details["cm"] == 45.0
    assert zscore("bb-tb", standing) is not None


def test_reference_switch_at_day_1857() -> None:
    last = GrowthInput(
        sex="female",
        age_days=1856,
        completed_months=60,
        weight_kg=18.0,
        height_cm=108.0,
        head_circumference_cm=50.0,
    )
    first = replace(last, age_days=1857)

    before = {c.key: c for c in classify_growth(last)}
    assert {c.details["reference"] for c in before.values()} == {"who-2006"}
    assert all(c.code != NOT_CLASSIFIED for c in before.values())

    after = {c.key: c for c in classify_growth(first)}
    assert list(after) == ["tb-u", "bb-u", "bb-tb", "imt-u", "lk-u"]
    for key in ("tb-u", "bb-u", "bb-tb", "lk-u"):
        assert after[key].code == NOT_CLASSIFIED
        assert after[key].details["reason"] == "usia"
        assert after[key].interpretation is None
    assert after["imt-u"].details["reference"] == "who-2007"
    assert after["imt-u"].rule == Rule("6.9-imt-u", "Permenkes 2/2020; WHO 2007")
    # Completed month 60 at day 1857 is looked up as month 61 (WHO 2007 starts there).
    month_61 = who2007_by_month("bmifa", "female")[61]
    bmi = 18.0 / 1.08**2
    assert zscore("imt-u", first) == pytest.approx(((bmi / month_61.m) ** month_61.l - 1) / (month_61.l * month_61.s))


def test_who2007_bmi_on_sd2_is_gizi_lebih_and_above_is_obesitas() -> None:
    lms = who2007_by_month("bmifa", "male")[150]
    child = GrowthInput(sex="male", age_days=4570, completed_months=150, height_cm=150.0)
    at_sd2 = replace(child, weight_kg=sd_value(lms, 2) * 1.5**2)
    result = _only(at_sd2, "imt-u")
    assert (result.value, result.code, result.interpretation) == (2.0, "gizi-lebih", Interpretation.HIGH)
    above = replace(child, weight_kg=sd_value(lms, 2.02) * 1.5**2)
    assert _only(above, "imt-u").code == "obesitas"


def test_adults_get_nothing() -> None:
    adult = GrowthInput(
        sex="male",
        age_days=6575,
        completed_months=216,
        weight_kg=60.0,
        height_cm=165.0,
        head_circumference_cm=55.0,
    )
    assert classify_growth(adult) == []
    assert zscore("imt-u", adult) is None
    last_minor = replace(adult, age_days=6574, completed_months=215)
    assert [c.key for c in classify_growth(last_minor) if c.code != NOT_CLASSIFIED] == ["imt-u"]


def test_no_inputs_no_classifications() -> None:
    assert classify_growth(BABY) == []


def test_oedema_is_gizi_buruk_without_weight_based_z() -> None:
    data = replace(BABY, weight_kg=8.0, length_cm=70.0, oedema=True)
    result = {c.key: c for c in classify_growth(data)}
    for key in ("bb-tb", "imt-u"):
        assert (result[key].code, result[key].interpretation, result[key].value) == (
            "gizi-buruk",
            Interpretation.CRITICAL_LOW,
            None,
        )
        assert result[key].details["oedema"] is True
        assert result[key].rule.id == f"6.9-{key}-edema"
    assert result["bb-u"].code == NOT_CLASSIFIED
    assert result["bb-u"].details["reason"] == "edema"
    assert result["tb-u"].code == "normal"  # length is not weight-based: still computed


def test_oedema_alone_is_enough() -> None:
    assert [(c.key, c.code) for c in classify_growth(replace(BABY, oedema=True))] == [
        ("bb-tb", "gizi-buruk"),
        ("imt-u", "gizi-buruk"),
    ]
    school_child = GrowthInput(sex="male", age_days=3000, completed_months=98, oedema=True)
    assert [(c.key, c.code) for c in classify_growth(school_child)] == [
        ("bb-tb", NOT_CLASSIFIED),
        ("imt-u", "gizi-buruk"),
    ]
