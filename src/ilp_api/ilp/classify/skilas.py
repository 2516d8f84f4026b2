"""SKILAS, the lansia screening (§6.13), from 60 y: the flagged domains travel as flags."""

from ilp_api.ilp.errors import UNKNOWN_CODE, InvalidInput
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "skilas"
RULE = Rule("6.13-skilas", "JUK Kuesioner SKILAS")
DOMAINS = ("kognitif", "mobilitas", "malnutrisi", "penglihatan", "pendengaran", "depresi")
NEEDS_FOLLOW_UP = "perlu-pemeriksaan-lanjut"


def classify_skilas(flagged_domains: frozenset[str], age_years: int) -> Classification:
    if unknown := flagged_domains - set(DOMAINS):
        raise InvalidInput("instruments.skilas", UNKNOWN_CODE, f"Unknown SKILAS domains {sorted(unknown)}")
    if age_years < 60:
        return Classification.not_classified(KEY, RULE)
    flags = tuple(domain for domain in DOMAINS if domain in flagged_domains)
    if flags:
        return Classification(KEY, NEEDS_FOLLOW_UP, Interpretation.ABNORMAL, RULE, flags=flags, value=len(flags))
    return Classification(KEY, "normal", Interpretation.NORMAL, RULE, value=0)
