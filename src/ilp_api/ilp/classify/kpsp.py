"""KPSP developmental screening (§6.14): the questionnaire band for the child's age, then the yes count."""

from bisect import bisect_right
from datetime import date

from ilp_api.ilp.age import add_months, completed_months
from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.engine_settings import KpspAgeMode
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "kpsp"
RULE = Rule("6.14-kpsp", "PKG; SDIDTK [unverified]")
BANDS_MONTHS = (3, 6, 9, 12, 15, 18, 21, 24, 30, 36, 42, 48, 54, 60, 66, 72)
ROUND_UP_FROM_DAYS = 16
TABLE = BandTable(
    (
        Band("penyimpangan", Interpretation.ABNORMAL, 6, inclusive=True),
        Band("meragukan", Interpretation.ABNORMAL, 8, inclusive=True),
        Band("sesuai", Interpretation.NORMAL),
    )
)


def kpsp_age_months(birth_date: date, visit_date: date, mode: KpspAgeMode) -> int:
    months = completed_months(birth_date, visit_date)
    if mode == "sdidtk-rounding" and (visit_date - add_months(birth_date, months)).days >= ROUND_UP_FROM_DAYS:
        return months + 1
    return months


def kpsp_band(age_months: int) -> int | None:
    """The largest band ≤ the age (the nearest younger questionnaire); ``None`` outside 3–72 months."""
    if not BANDS_MONTHS[0] <= age_months <= BANDS_MONTHS[-1]:
        return None
    return BANDS_MONTHS[bisect_right(BANDS_MONTHS, age_months) - 1]


def classify_kpsp(yes_count: int, age_months: int) -> Classification:
    band = kpsp_band(age_months)
    if band is None:
        return Classification.not_classified(KEY, RULE)
    result = TABLE.band(yes_count)
    return Classification(KEY, result.code, result.interpretation, RULE, value=yes_count, details={"band": band})
