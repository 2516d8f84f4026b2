"""Barthel ADL 0–20 (§6.12), from 18 y: a total, or all ten items."""

from ilp_api.ilp.classify.bands import Band, BandTable, classified
from ilp_api.ilp.errors import AMBIGUOUS_FORM, VALUE_OUT_OF_RANGE, WRONG_ITEM_COUNT, InvalidInput
from ilp_api.ilp.inputs import Adl
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "adl"
RULE = Rule("6.12-adl-barthel", "JUK Geriatri")
ITEM_MAXIMA = {  # [unverified] in the profile
    "bowels": 2,
    "bladder": 2,
    "grooming": 1,
    "toilet": 2,
    "feeding": 2,
    "transfer": 3,
    "mobility": 3,
    "dressing": 2,
    "stairs": 2,
    "bathing": 1,
}
MAX_TOTAL = sum(ITEM_MAXIMA.values())
A = Interpretation.ABNORMAL
TABLE = BandTable(
    (
        Band("ketergantungan-total", A, 5),
        Band("ketergantungan-berat", A, 9),
        Band("ketergantungan-sedang", A, 12),
        Band("ketergantungan-ringan", A, MAX_TOTAL),
        Band("mandiri", Interpretation.NORMAL),
    )
)
GRADES = {
    "mandiri": "A",
    "ketergantungan-ringan": "B",
    "ketergantungan-sedang": "B",
    "ketergantungan-berat": "C",
    "ketergantungan-total": "C",
}
SEVERE_DEPENDENCY = frozenset({"ketergantungan-berat", "ketergantungan-total"})
DEPENDENCY = frozenset(GRADES) - {"mandiri"}


def adl_total(adl: Adl) -> int:
    if (adl.total is None) == (adl.items is None):
        raise InvalidInput("instruments.adl", AMBIGUOUS_FORM, "ADL needs either 'total' or 'items', not both")
    if adl.items is None:
        assert adl.total is not None
        if not 0 <= adl.total <= MAX_TOTAL:
            raise InvalidInput("instruments.adl.total", VALUE_OUT_OF_RANGE, f"ADL total is 0–{MAX_TOTAL}")
        return adl.total
    if set(adl.items) != set(ITEM_MAXIMA):
        raise InvalidInput("instruments.adl.items", WRONG_ITEM_COUNT, f"ADL needs the items {sorted(ITEM_MAXIMA)}")
    for item, score in adl.items.items():
        if not 0 <= score <= ITEM_MAXIMA[item]:
            raise InvalidInput(
                f"instruments.adl.items.{item}", VALUE_OUT_OF_RANGE, f"ADL {item} is 0–{ITEM_MAXIMA[item]}"
            )
    return sum(adl.items.values())


def classify_adl(adl: Adl, age_years: int) -> Classification:
    total = adl_total(adl)
    if age_years < 18:
        return Classification.not_classified(KEY, RULE)
    band = TABLE.band(total)
    return classified(KEY, band, RULE, value=total, details={"grade": GRADES[band.code]})
