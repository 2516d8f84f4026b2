"""PUMA COPD risk score (§6.11), from 40 y."""

from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.inputs import Puma
from ilp_api.ilp.results import Classification, Interpretation, Rule, Sex

KEY = "puma"
RULE = Rule("6.11-puma", "JUK Kuesioner PUMA")
AGE_POINTS = BandTable(
    (Band("40-49", None, 50), Band("50-59", None, 60), Band("60+", None)),
)
PACK_YEAR_POINTS = BandTable((Band("<20", None, 20), Band("20-30", None, 30, inclusive=True), Band(">30", None)))
TABLE = BandTable((Band("normal", Interpretation.NORMAL, 6), Band("risiko-tinggi-ppok", Interpretation.ABNORMAL)))


def _points(table: BandTable, value: float) -> int:
    return table.bands.index(table.band(value))


def puma_score(answers: Puma, sex: Sex, age_years: int) -> int:
    smoking = 0 if answers.never_smoked else _points(PACK_YEAR_POINTS, answers.pack_years)
    symptoms = (answers.dyspnoea, answers.sputum, answers.cough, answers.spirometry_referral)
    return (sex == "male") + _points(AGE_POINTS, age_years) + smoking + sum(symptoms)


def classify_puma(answers: Puma, sex: Sex, age_years: int) -> Classification:
    if age_years < 40:
        return Classification.not_classified(KEY, RULE)
    return TABLE.classify(KEY, puma_score(answers, sex, age_years), RULE)
