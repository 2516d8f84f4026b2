"""Central obesity from the waist circumference (§6.4): ≥15 y and not pregnant."""

from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.results import Classification, Interpretation, Rule, Sex

KEY = "lingkar-perut"
RULE = Rule("6.4-lingkar-perut", "JUK K3 Obesitas, Tabel 21")
CENTRAL_OBESITY = "obesitas-sentral"


def _table(waist_limit_cm: float) -> BandTable:
    return BandTable(
        (
            Band("normal", Interpretation.NORMAL, waist_limit_cm, inclusive=True),
            Band(CENTRAL_OBESITY, Interpretation.HIGH),
        )
    )


TABLES: dict[Sex, BandTable] = {"male": _table(90), "female": _table(80)}


def classify_waist(waist_cm: float, sex: Sex, age_years: int, pregnant: bool) -> Classification:
    if age_years < 15 or pregnant:
        return Classification.not_classified(KEY, RULE)
    return TABLES[sex].classify(KEY, waist_cm, RULE)
