"""What the growth classifier takes in, and the names it answers with."""

from dataclasses import dataclass
from typing import Literal

from ilp_api.ilp.results import Sex

# Response keys of §6.9: TB/U, BB/U, BB/PB or BB/TB, IMT/U, LK/U.
IndexKey = Literal["tb-u", "bb-u", "bb-tb", "imt-u", "lk-u"]
INDEX_KEYS: tuple[IndexKey, ...] = ("tb-u", "bb-u", "bb-tb", "imt-u", "lk-u")

Reference = Literal["who-2006", "who-2007"]

# §11: ageDays alone picks the reference: WHO 2006 up to day 1856, WHO 2007 from day 1857.
LAST_WHO2006_DAY = 1856
# WHO 2007 is looked up by completed month, at least 61 (§11).
FIRST_WHO2007_MONTH = 61
# §11: from 18 y no child index is present; 18 completed years are exactly 216 completed months.
ADULT_MONTHS = 18 * 12
# §6.9: length (lying) below day 731, height (standing) from day 731.
FIRST_HEIGHT_DAY = 731


@dataclass(frozen=True)
class GrowthInput:
    """One visit's anthropometry. Ages come from the caller (§0): ``age_days`` = visitDate - birthDate,
    ``completed_months`` by calendar months with month-end clamping."""

    sex: Sex
    age_days: int
    completed_months: int
    weight_kg: float | None = None
    length_cm: float | None = None  # lying
    height_cm: float | None = None  # standing
    head_circumference_cm: float | None = None
    oedema: bool = False  # bilateral pitting oedema

    def reference(self) -> Reference:
        return "who-2006" if self.age_days <= LAST_WHO2006_DAY else "who-2007"
