"""The §6.9 cut-off table: profile codes and v3 interpretations by rounded z-score (public API values)."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from ilp_api.ilp.growth.inputs import IndexKey, Reference
from ilp_api.ilp.results import Interpretation

N, H, HH, L, LL = (
    Interpretation.NORMAL,
    Interpretation.HIGH,
    Interpretation.CRITICAL_HIGH,
    Interpretation.LOW,
    Interpretation.CRITICAL_LOW,
)


class Lower(NamedTuple):
    """A band's lower edge: ``z >= value`` when inclusive, else ``z > value``."""

    value: Decimal
    inclusive: bool


def at_least(z: int) -> Lower:
    return Lower(Decimal(z), inclusive=True)


def over(z: int) -> Lower:
    return Lower(Decimal(z), inclusive=False)


class Band(NamedTuple):
    code: str
    interpretation: Interpretation
    lower: Lower | None  # None: unbounded below


# Bilateral oedema is severe acute malnutrition whatever the z-scores (§6.9 [interpretation]).
GIZI_BURUK = Band("gizi-buruk", LL, None)

# Highest band first. Edges follow the Permenkes wording (§9 #10): "−3–<−2" and "−2–≤+1".
_GIZI_0_60 = (
    Band("obesitas", HH, over(3)),
    Band("gizi-lebih", H, over(2)),
    Band("berisiko-gizi-lebih", H, over(1)),
    Band("gizi-baik", N, at_least(-2)),
    Band("gizi-kurang", L, at_least(-3)),
    GIZI_BURUK,
)

BANDS: Mapping[tuple[IndexKey, Reference], Sequence[Band]] = {
    ("tb-u", "who-2006"): (
        Band("tinggi", H, over(3)),
        Band("normal", N, at_least(-2)),
        Band("pendek", L, at_least(-3)),
        Band("sangat-pendek", LL, None),
    ),
    ("bb-u", "who-2006"): (
        Band("risiko-berat-badan-lebih", H, over(1)),
        Band("normal", N, at_least(-2)),
        Band("berat-badan-kurang", L, at_least(-3)),
        Band("berat-badan-sangat-kurang", LL, None),
    ),
    ("bb-tb", "who-2006"): _GIZI_0_60,
    ("imt-u", "who-2006"): _GIZI_0_60,
    ("imt-u", "who-2007"): (
        Band("obesitas", HH, over(2)),
        Band("gizi-lebih", H, over(1)),
        Band("gizi-baik", N, at_least(-2)),
        Band("gizi-kurang", L, at_least(-3)),
        GIZI_BURUK,
    ),
    ("lk-u", "who-2006"): (
        Band("makrosefali", H, over(2)),
        Band("normal", N, at_least(-2)),
        Band("mikrosefali", L, None),
    ),
}

# WHO Anthro's implausible-value limits (§6.9): a z outside [low, high] is flagged for re-measurement.
PLAUSIBLE: Mapping[IndexKey, tuple[Decimal, Decimal]] = {
    "tb-u": (Decimal(-6), Decimal(6)),
    "bb-u": (Decimal(-6), Decimal(5)),
    "bb-tb": (Decimal(-5), Decimal(5)),
    "imt-u": (Decimal(-5), Decimal(5)),
    "lk-u": (Decimal(-5), Decimal(5)),
}


def band_for(z: Decimal, bands: Sequence[Band]) -> Band:
    for band in bands:
        edge = band.lower
        if edge is None or z > edge.value or (edge.inclusive and z == edge.value):
            return band
    raise ValueError("a band table must end with an unbounded band")
