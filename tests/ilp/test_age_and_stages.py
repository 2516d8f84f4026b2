"""§0 age arithmetic and §2 life-cycle stages at their boundaries."""

from datetime import date

import pytest

from ilp_api.ilp.age import Age, add_months
from ilp_api.ilp.errors import InvalidInput
from ilp_api.ilp.inputs import Pregnancy
from ilp_api.ilp.stages import life_cycle_stages


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
    ],
    ids=["31-jan-plus-1", "31-jan-leap-year", "29-feb-plus-1-year", "29-feb-plus-4-years", "over-new-year"],
)
def test_add_months_clamps_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("birth", "visit", "age"),
    [
        (date(2008, 6, 1), date(2026, 5, 31), Age(6573, 215, 17)),
        (date(2008, 6, 1), date(2026, 6, 1), Age(6574, 216, 18)),
        (date(2024, 2, 29), date(2025, 2, 27), Age(364, 11, 0)),
        (date(2024, 2, 29), date(2025, 2, 28), Age(365, 12, 1)),
        (date(2026, 1, 31), date(2026, 2, 28), Age(28, 1, 0)),
        (date(2026, 1, 31), date(2026, 2, 27), Age(27, 0, 0)),
    ],
    ids=["day-before-18", "18th-birthday", "leapling-day-before", "leapling-28-feb", "31-jan-month", "31-jan-not-yet"],
)
def test_completed_age(birth: date, visit: date, age: Age) -> None:
    assert Age.at(birth, visit) == age


def test_visit_before_birth_is_invalid() -> None:
    with pytest.raises(InvalidInput) as error:
        Age.at(date(2026, 1, 2), date(2026, 1, 1))
    assert error.value.field == "birthDate"


VISIT = date(2026, 6, 1)


def _stages(days: int = 0, months: int = 0, years: int = 0, pregnancy: Pregnancy | None = None) -> tuple[str, ...]:
    return life_cycle_stages(Age(days, months, years), pregnancy, VISIT)


@pytest.mark.parametrize(
    ("age", "stages"),
    [
        (Age(20, 0, 0), ("bayi-baru-lahir", "bayi", "balita")),
        (Age(28, 0, 0), ("bayi-baru-lahir", "bayi", "balita")),
        (Age(29, 0, 0), ("bayi", "balita")),
        (Age(360, 11, 0), ("bayi", "balita")),
        (Age(370, 12, 1), ("balita",)),
        (Age(1820, 59, 4), ("balita",)),
        (Age(1830, 60, 5), ("anak-prasekolah",)),
        (Age(2200, 72, 6), ("anak-prasekolah", "anak-usia-sekolah")),
        (Age(2290, 75, 6), ("anak-prasekolah", "anak-usia-sekolah")),
        (Age(2560, 84, 7), ("anak-usia-sekolah",)),
        (Age(3650, 120, 10), ("anak-usia-sekolah", "remaja")),
        (Age(4380, 144, 12), ("anak-usia-sekolah", "remaja")),
        (Age(6570, 215, 17), ("anak-usia-sekolah", "remaja")),
        (Age(6574, 216, 18), ("dewasa",)),
        (Age(21900, 719, 59), ("dewasa",)),
        (Age(21915, 720, 60), ("lansia",)),
    ],
    ids=[
        "20-d",
        "28-d",
        "29-d",
        "11-mo",
        "12-mo",
        "59-mo",
        "60-mo",
        "6-y",
        "6-y-3-mo",
        "84-mo",
        "10-y",
        "12-y",
        "17-y",
        "18th-birthday",
        "59-y",
        "60-y",
    ],
)
def test_stage_boundaries(age: Age, stages: tuple[str, ...]) -> None:
    assert life_cycle_stages(age, None, VISIT) == stages


@pytest.mark.parametrize(
    ("years", "pregnancy", "stages"),
    [
        (16, Pregnancy("hamil"), ("anak-usia-sekolah", "remaja", "ibu-hamil")),
        (22, Pregnancy("nifas", delivery_date=date(2026, 5, 1)), ("dewasa", "ibu-nifas")),
        (22, Pregnancy("nifas", delivery_date=date(2026, 4, 20)), ("dewasa", "ibu-nifas")),
        (22, Pregnancy("nifas", delivery_date=date(2026, 4, 19)), ("dewasa",)),
        (30, Pregnancy("bersalin"), ("dewasa", "ibu-bersalin")),
    ],
    ids=["hamil-16-y", "nifas-22-y", "nifas-day-42", "nifas-day-43", "bersalin"],
)
def test_maternal_stages(years: int, pregnancy: Pregnancy, stages: tuple[str, ...]) -> None:
    assert _stages(years * 365, years * 12, years, pregnancy) == stages
