"""Total cholesterol (§6.6)."""

from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "kolesterol"
RULE = Rule("6.6-kolesterol", "PERKENI 2021 via JUK K3 Stroke")
TABLE = BandTable(
    (
        Band("normal", Interpretation.NORMAL, 200),
        Band("batas-tinggi", Interpretation.HIGH, 240),
        Band("tinggi", Interpretation.HIGH),
    )
)


def classify_cholesterol(total_mg_dl: float) -> Classification:
    return TABLE.classify(KEY, total_mg_dl, RULE)
