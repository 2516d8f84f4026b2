"""SRQ-20 mental-health screening (§6.10): 20 yes/no items, index 0 = item 1."""

from ilp_api.ilp.classify.bands import Band, BandTable, classified
from ilp_api.ilp.errors import WRONG_ITEM_COUNT, InvalidInput
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "srq-20"
RULE = Rule("6.10-srq-20", "JUK K3 Jiwa, Tabel 26")
ITEM_COUNT = 20
SUICIDE_ITEM = 17
SUICIDE_RISK = "risiko-bunuh-diri"
TABLE = BandTable((Band("normal", Interpretation.NORMAL, 6), Band("masalah-kesehatan-jiwa", Interpretation.ABNORMAL)))
# Deferred in an emergency: the answers are not a valid 30-day recall then.
DEFERRED = Band("ditunda", None)
# The flag is abnormal at any total, so the observation as a whole reads A.
WITH_SUICIDE_RISK = {band.code: Band(band.code, Interpretation.ABNORMAL, flags=(SUICIDE_RISK,)) for band in TABLE.bands}


def classify_srq20(answers: tuple[bool, ...], age_years: int, min_age_years: int, emergency: bool) -> Classification:
    if len(answers) != ITEM_COUNT:
        raise InvalidInput("instruments.srq20", WRONG_ITEM_COUNT, f"SRQ-20 needs {ITEM_COUNT} answers")
    if age_years < min_age_years:
        return Classification.not_classified(KEY, RULE)
    if emergency:
        return classified(KEY, DEFERRED, RULE)
    total = sum(answers)
    band = TABLE.band(total)
    if answers[SUICIDE_ITEM - 1]:
        band = WITH_SUICIDE_RISK[band.code]
    return classified(KEY, band, RULE, value=total)
