"""Visus, finger counting and the whisper test (§6.16, §11)."""

import re

from ilp_api.ilp.classify.bands import Band, BandTable, classified
from ilp_api.ilp.errors import AMBIGUOUS_FORM, INVALID_VISUS, InvalidInput
from ilp_api.ilp.inputs import Visus
from ilp_api.ilp.results import Classification, Interpretation, Rule

N, A = Interpretation.NORMAL, Interpretation.ABNORMAL

VISUS_KEY, WHISPER_KEY = "visus", "tes-bisik"
VISUS_RULE = Rule("6.16-visus", "JUK K3 Mata; PKG")
WHISPER_RULE = Rule("6.16-tes-bisik", "PKG")
SNELLEN = re.compile(r"(?P<numerator>[631])/(?P<denominator>[1-9]\d{0,3})")
# Snellen fractions compared as the denominator at 6 m (3/60 = 6/120): exact integers, larger is worse.
VISUS_TABLE = BandTable(
    (
        Band("normal", N, 12, inclusive=True),
        Band("gangguan-ringan", A, 18, inclusive=True),
        Band("gangguan-sedang", A, 60, inclusive=True),
        Band("gangguan-berat", A, 120, inclusive=True),
        Band("buta", A),
    )
)
FINGER_COUNT_TABLE = BandTable((Band("normal", N, 2), Band("suspek-gangguan-penglihatan", A)))
WHISPER_TABLE = BandTable((Band("tidak-lulus", A, 4), Band("lulus", N)))
IMPAIRED_VISION = frozenset(
    {"gangguan-ringan", "gangguan-sedang", "gangguan-berat", "buta", "suspek-gangguan-penglihatan"}
)


def six_metre_denominator(snellen: str, field: str) -> float:
    match = SNELLEN.fullmatch(snellen)
    if match is None:
        raise InvalidInput(field, INVALID_VISUS, f"'{snellen}' is not a Snellen fraction like 6/12, 3/60 or 1/60")
    return 6 * int(match["denominator"]) / int(match["numerator"])


def classify_visus(visus: Visus) -> Classification:
    eyes = {side: value for side, value in (("right", visus.right), ("left", visus.left)) if value is not None}
    if bool(eyes) == (visus.finger_count_wrong is not None):
        raise InvalidInput(
            "instruments.visus", AMBIGUOUS_FORM, "visus needs Snellen fractions or fingerCountWrong, not both"
        )
    if visus.finger_count_wrong is not None:
        return FINGER_COUNT_TABLE.classify(VISUS_KEY, visus.finger_count_wrong, VISUS_RULE)
    worse_eye = max(six_metre_denominator(value, f"instruments.visus.{side}") for side, value in eyes.items())
    return classified(VISUS_KEY, VISUS_TABLE.band(worse_eye), VISUS_RULE, details=eyes)


def classify_whisper(words_heard: int) -> Classification:
    return WHISPER_TABLE.classify(WHISPER_KEY, words_heard, WHISPER_RULE)
