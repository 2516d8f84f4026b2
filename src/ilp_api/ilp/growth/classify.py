"""§6.9 child anthropometry: z-scores turned into profile classifications."""

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from ilp_api.ilp.growth.bands import BANDS, GIZI_BURUK, PLAUSIBLE, band_for
from ilp_api.ilp.growth.indices import Outcome, outcome, outcomes
from ilp_api.ilp.growth.inputs import GrowthInput, IndexKey, Reference
from ilp_api.ilp.results import Classification, Rule

IMPLAUSIBLE_FLAG = "z-tidak-wajar"

_SOURCES: dict[Reference, str] = {"who-2006": "WHO 2006", "who-2007": "WHO 2007"}
Z_PLACES = Decimal("0.01")


def round_z(z: float) -> Decimal:
    """Half away from zero to 2 decimals (§11). Through repr so that a z printed as 2.005 rounds up."""
    return Decimal(repr(z)).quantize(Z_PLACES, rounding=ROUND_HALF_UP)


@cache  # twenty possible rules at most, each built once instead of once per visit
def _rule(key: IndexKey, reference: Reference, suffix: str = "") -> Rule:
    programme = "PKG" if key == "lk-u" else "Permenkes 2/2020"
    return Rule(f"6.9-{key}{suffix}", f"{programme}; {_SOURCES[reference]}")


def _classification(result: Outcome) -> Classification:
    details = {"reference": result.reference, **result.details}
    if result.reason == "edema" and result.key in ("bb-tb", "imt-u"):
        return Classification(
            key=result.key,
            code=GIZI_BURUK.code,
            interpretation=GIZI_BURUK.interpretation,
            rule=_rule(result.key, result.reference, "-edema"),
            details={**details, "oedema": True},
        )
    rule = _rule(result.key, result.reference)
    if result.z is None:
        return Classification.not_classified(result.key, rule, **details, reason=result.reason)
    z = round_z(result.z)
    band = band_for(z, BANDS[result.key, result.reference])
    low, high = PLAUSIBLE[result.key]
    return Classification(
        key=result.key,
        code=band.code,
        interpretation=band.interpretation,
        rule=rule,
        flags=(IMPLAUSIBLE_FLAG,) if z < low or z > high else (),
        value=float(z),
        details=details,
    )


def classify_growth(data: GrowthInput) -> list[Classification]:
    """Every §6.9 index whose inputs are given, in the order tb-u, bb-u, bb-tb, imt-u, lk-u; an index the
    profile does not classify at this age (or outside its table) is ``tidak-diklasifikasi``. From 18 years
    (216 completed months) the list is empty."""
    return [_classification(result) for result in outcomes(data)]


def zscore(index: IndexKey, data: GrowthInput) -> float | None:
    """The unrounded z-score of one index; None when absent or not computed (age, table range, oedema)."""
    result = outcome(index, data)
    return None if result is None else result.z
