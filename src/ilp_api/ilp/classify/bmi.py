"""Adult BMI (§6.3), in the scheme chosen by the ``bmiScheme`` setting. Under 18 y IMT/U (§6.9) applies."""

from ilp_api.ilp.classify.bands import Band, BandTable, round_half_up
from ilp_api.ilp.engine_settings import BmiScheme
from ilp_api.ilp.results import Classification, Interpretation, Rule

N, H, L = Interpretation.NORMAL, Interpretation.HIGH, Interpretation.LOW

KEY = "imt"
RULES: dict[BmiScheme, Rule] = {
    "ilp": Rule("6.3-imt-ilp", "JUK K3 Obesitas (Asia-Pacific)"),
    "p2ptm": Rule("6.3-imt-p2ptm", "P2PTM Pedoman Gizi Seimbang 2014 [unverified]"),
}
SCHEMES: dict[BmiScheme, BandTable] = {
    "ilp": BandTable(
        (
            Band("berat-badan-kurang", L, 18.5),
            Band("normal", N, 23),
            Band("berat-badan-lebih", H, 25),
            Band("obesitas-1", H, 30),
            Band("obesitas-2", H),
        )
    ),
    "p2ptm": BandTable(
        (
            Band("kurus-berat", L, 17.0),
            Band("kurus-ringan", L, 18.5),
            Band("normal", N, 25.0, inclusive=True),
            Band("gemuk-ringan", H, 27.0, inclusive=True),
            Band("gemuk-berat", H),
        )
    ),
}
OBESITY = frozenset({"obesitas-1", "obesitas-2", "gemuk-ringan", "gemuk-berat"})


def body_mass_index(weight_kg: float, height_cm: float) -> float:
    return round_half_up(weight_kg / (height_cm / 100) ** 2, 1)


def classify_bmi(weight_kg: float, height_cm: float, pregnant: bool, scheme: BmiScheme) -> Classification:
    """For adults (≥18 y). In pregnancy BMI is not classified (a T1 BMI <18.5 belongs to KEK)."""
    bmi = body_mass_index(weight_kg, height_cm)
    if pregnant:
        return Classification.not_classified(KEY, RULES[scheme])
    return SCHEMES[scheme].classify(KEY, bmi, RULES[scheme])
