"""The five §6.9 indices as unrounded z-scores: which table, which measurement, which z formula."""

from collections.abc import Callable, Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from ilp_api.ilp.growth.inputs import (
    ADULT_MONTHS,
    FIRST_HEIGHT_DAY,
    FIRST_WHO2007_MONTH,
    INDEX_KEYS,
    GrowthInput,
    IndexKey,
    Reference,
)
from ilp_api.ilp.growth.lms import lms_z, restricted_z
from ilp_api.ilp.growth.tables import LMS, who2006_by_day, who2006_by_length, who2007_by_month

# Why an index that is present has no z-score (reported in ``details["reason"]``).
Reason = Literal["usia", "di-luar-tabel", "edema"]

# WHO: add 0.7 cm to a standing height below 2 years, subtract it from a lying length from 2 years.
POSITION_CORRECTION_CM = Decimal("0.7")
BMI_SHOWN_PLACES = Decimal("0.1")


# Outcome and Stature live only for the length of one classification, several per child: named tuples, which
# are much cheaper to build than frozen dataclasses.
class Outcome(NamedTuple):
    key: IndexKey
    reference: Reference
    z: float | None
    reason: Reason | None = None
    details: Mapping[str, Any] = MappingProxyType({})


class Stature(NamedTuple):
    cm: Decimal
    details: Mapping[str, Any]


def _decimal(value: float) -> Decimal:
    # Through repr so that 44.3 + 0.7 is exactly 45.0 and table-edge checks see the number as entered.
    return Decimal(repr(value))


def stature(data: GrowthInput) -> Stature | None:
    """Length below day 731 and height from day 731; a measurement taken the other way is corrected."""
    lying = data.age_days < FIRST_HEIGHT_DAY
    direct, other = (data.length_cm, data.height_cm) if lying else (data.height_cm, data.length_cm)
    measurement = "length" if lying else "height"
    if direct is not None:
        return Stature(_decimal(direct), {"measurement": measurement, "cm": direct})
    if other is None:
        return None
    correction = POSITION_CORRECTION_CM if lying else -POSITION_CORRECTION_CM
    cm = _decimal(other) + correction
    return Stature(cm, {"measurement": measurement, "cm": float(cm), "correctedCm": float(correction)})


def bmi(weight_kg: float, cm: Decimal) -> float:
    return weight_kg / (float(cm) / 100) ** 2


def _by_day(data: GrowthInput, table: Literal["wfa", "lfa", "bmifa", "hcfa"]) -> LMS | None:
    return who2006_by_day(table, data.sex).get(data.age_days)


def _tb_u(data: GrowthInput, body: Stature | None) -> Outcome | None:
    if body is None:
        return None
    if data.reference() == "who-2007":
        return Outcome("tb-u", "who-2007", None, "usia", body.details)
    lms = _by_day(data, "lfa")
    z = None if lms is None else lms_z(float(body.cm), lms)
    return Outcome("tb-u", "who-2006", z, None if lms else "di-luar-tabel", body.details)


def _bb_u(data: GrowthInput, body: Stature | None) -> Outcome | None:
    if data.weight_kg is None:
        return None
    if data.reference() == "who-2007":
        return Outcome("bb-u", "who-2007", None, "usia")
    if data.oedema:
        return Outcome("bb-u", "who-2006", None, "edema")
    lms = _by_day(data, "wfa")
    z = None if lms is None else restricted_z(data.weight_kg, lms)
    return Outcome("bb-u", "who-2006", z, None if lms else "di-luar-tabel")


def _weighed(data: GrowthInput, body: Stature | None) -> tuple[float, Stature] | None:
    return None if data.weight_kg is None or body is None else (data.weight_kg, body)


def _oedema_only(key: IndexKey, data: GrowthInput, *, who2007: bool) -> Outcome | None:
    """Without weight and length, oedema alone still makes BB/TB and IMT/U present (it means gizi-buruk)."""
    if not data.oedema:
        return None
    reference = data.reference()
    aged_out = reference == "who-2007" and not who2007
    return Outcome(key, reference, None, "usia" if aged_out else "edema")


def _bb_tb(data: GrowthInput, body: Stature | None) -> Outcome | None:
    measured = _weighed(data, body)
    if measured is None:
        return _oedema_only("bb-tb", data, who2007=False)
    weight, body = measured
    if data.reference() == "who-2007":
        return Outcome("bb-tb", "who-2007", None, "usia", body.details)
    if data.oedema:
        return Outcome("bb-tb", "who-2006", None, "edema", body.details)
    # Weight-for-length below day 731, weight-for-height from day 731, whatever the measured position.
    table = "wfl" if data.age_days < FIRST_HEIGHT_DAY else "wfh"
    lms = who2006_by_length(table, data.sex).at(body.cm)
    z = None if lms is None else restricted_z(weight, lms)
    return Outcome("bb-tb", "who-2006", z, None if lms else "di-luar-tabel", body.details)


def _imt_u(data: GrowthInput, body: Stature | None) -> Outcome | None:
    measured = _weighed(data, body)
    if measured is None:
        return _oedema_only("imt-u", data, who2007=True)
    weight, body = measured
    reference = data.reference()
    value = bmi(weight, body.cm)
    # Shown rounded as §0 says; the z-score uses the unrounded BMI, as WHO Anthro does.
    shown = float(_decimal(value).quantize(BMI_SHOWN_PLACES, ROUND_HALF_UP))
    details = {**body.details, "bmi": shown}
    if data.oedema:
        return Outcome("imt-u", reference, None, "edema", details)
    if reference == "who-2006":
        lms = _by_day(data, "bmifa")
    else:
        month = max(data.completed_months, FIRST_WHO2007_MONTH)
        lms = who2007_by_month("bmifa", data.sex).get(month)
    z = None if lms is None else restricted_z(value, lms)
    return Outcome("imt-u", reference, z, None if lms else "di-luar-tabel", details)


def _lk_u(data: GrowthInput, body: Stature | None) -> Outcome | None:
    if data.head_circumference_cm is None:
        return None
    if data.reference() == "who-2007":
        # WHO head-circumference standards end at five years.
        return Outcome("lk-u", "who-2007", None, "usia")
    lms = _by_day(data, "hcfa")
    z = None if lms is None else lms_z(data.head_circumference_cm, lms)
    return Outcome("lk-u", "who-2006", z, None if lms else "di-luar-tabel")


# Each index is given the stature, worked out once per visit: three of the five use it.
_INDICES: Mapping[IndexKey, Callable[[GrowthInput, Stature | None], Outcome | None]] = {
    "tb-u": _tb_u,
    "bb-u": _bb_u,
    "bb-tb": _bb_tb,
    "imt-u": _imt_u,
    "lk-u": _lk_u,
}


def outcome(key: IndexKey, data: GrowthInput) -> Outcome | None:
    """The index ``key`` for this visit, or None when its inputs are absent or the person is an adult."""
    if data.completed_months >= ADULT_MONTHS:
        return None
    return _INDICES[key](data, stature(data))


def outcomes(data: GrowthInput) -> Iterator[Outcome]:
    """Every index present for this visit, in ``INDEX_KEYS`` order."""
    if data.completed_months >= ADULT_MONTHS:
        return
    body = stature(data)
    for key in INDEX_KEYS:
        if (result := _INDICES[key](data, body)) is not None:
            yield result
