"""Anemia from haemoglobin (§6.7): the first matching group gives the threshold; below it is anemia."""

from functools import cache

from ilp_api.ilp.age import Age
from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.results import Classification, Interpretation, Rule, Sex

KEY = "anemia"
RULE = Rule("6.7-anemia", "JUK K2 Anemia; PPK; WHO")
SEVERE_BELOW = 7.0


def anemia_threshold(age: Age, sex: Sex, pregnant: bool, trimester: int | None, t2_threshold: float) -> float | None:
    """The Hb (g/dL) at and above which the person is not anemic; ``None`` under 6 months (not classified)."""
    if pregnant:
        return t2_threshold if trimester == 2 else 11.0
    if age.months < 6:
        return None
    if age.months < 60:
        return 11.0
    if age.years < 12:
        return 11.5
    if age.years < 15 or sex == "female":
        return 12.0
    return 13.0


@cache  # one table per threshold: the handful above and the T2 setting
def _table(threshold: float) -> BandTable:
    return BandTable(
        (
            Band("anemia", Interpretation.CRITICAL_LOW, SEVERE_BELOW),
            Band("anemia", Interpretation.LOW, threshold),
            Band("normal", Interpretation.NORMAL),
        )
    )


def classify_anemia(hemoglobin: float, threshold: float | None) -> Classification:
    if threshold is None:
        return Classification.not_classified(KEY, RULE)
    return _table(threshold).classify(KEY, hemoglobin, RULE)
