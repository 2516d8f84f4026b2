"""KEK (chronic energy deficiency) from the mid-upper-arm circumference of an ibu hamil (§6.8)."""

from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "kek"
RULE = Rule("6.8-kek", "JUK KEK")
TABLE = BandTable((Band("kek", Interpretation.LOW, 23.5), Band("normal", Interpretation.NORMAL)))


def classify_kek(muac_cm: float, pregnant: bool) -> Classification:
    if not pregnant:
        return Classification.not_classified(KEY, RULE)
    return TABLE.classify(KEY, muac_cm, RULE)
