"""Age in completed days, months and years (§0): month arithmetic clamps to the month end."""

import calendar
from dataclasses import dataclass
from datetime import date

from ilp_api.ilp.errors import DATE_AFTER_VISIT, InvalidInput

MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_length(year: int, month: int) -> int:
    # calendar.monthrange gives the same, but also works out the weekday: this is on every visit's path.
    return 29 if month == 2 and calendar.isleap(year) else MONTH_DAYS[month - 1]


def add_months(start: date, months: int) -> date:
    """``start`` plus whole calendar months; 31 Jan + 1 month = 28/29 Feb, 29 Feb + 12 months = 28 Feb."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, month_length(year, month)))


def completed_months(start: date, end: date) -> int:
    """The largest n with add_months(start, n) ≤ end."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months if add_months(start, months) <= end else months - 1


@dataclass(frozen=True)
class Age:
    days: int
    months: int
    years: int

    @classmethod
    def at(cls, birth_date: date, visit_date: date) -> "Age":
        if visit_date < birth_date:
            raise InvalidInput("birthDate", DATE_AFTER_VISIT, "birthDate is after the visit date")
        months = completed_months(birth_date, visit_date)
        # add_months is strictly increasing in n, so completed years are completed months // 12.
        return cls(days=(visit_date - birth_date).days, months=months, years=months // 12)
