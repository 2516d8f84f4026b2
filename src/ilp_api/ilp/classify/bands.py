"""The one helper behind every threshold classification: an ascending table of bands."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property

from ilp_api.ilp.results import Classification, Interpretation, Rule


@dataclass(frozen=True)
class Band:
    """Values below ``below`` (or up to it, when ``inclusive``) that no earlier band took."""

    code: str
    interpretation: Interpretation | None
    below: float = math.inf
    inclusive: bool = False
    flags: tuple[str, ...] = ()

    def holds(self, value: float) -> bool:
        return value <= self.below if self.inclusive else value < self.below


@dataclass(frozen=True)
class BandTable:
    """Bands from the lowest values up; the last band is open-ended."""

    bands: tuple[Band, ...]

    def band(self, value: float) -> Band:
        for band in self.bands:
            if band.holds(value):
                return band
        raise ValueError("a band table must end with an open-ended band")

    @cached_property
    def _severity(self) -> Mapping[str, int]:
        """Each code's rank: the position of its first band."""
        ranks: dict[str, int] = {}
        for rank, band in enumerate(self.bands):
            ranks.setdefault(band.code, rank)
        return ranks

    def worst(self, bands: Iterable[Band]) -> Band:
        """The most severe band, ranked by the order of this table's codes ("take the worse", §6.1, §6.2)."""
        return max(bands, key=lambda band: self._severity[band.code])

    def classify(self, key: str, value: float, rule: Rule) -> Classification:
        return classified(key, self.band(value), rule, value=value)


def classified(
    key: str, band: Band, rule: Rule, value: float | None = None, details: Mapping[str, object] | None = None
) -> Classification:
    return Classification(
        key=key,
        code=band.code,
        interpretation=band.interpretation,
        rule=rule,
        flags=band.flags,
        value=value,
        details=details or {},
    )


def round_half_up(value: float, places: int) -> float:
    """§0 rounding; goes through the decimal text so 27.35 rounds to 27.4, not to the float below it."""
    return float(Decimal(repr(value)).quantize(_quantum(places), rounding=ROUND_HALF_UP))


@cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)
