"""Monthly weight trend N/T/2T/O/B (§6.9 Weight trend; §11 ``weights``).

Without a shipped KBM table, T is "weight ≤ the previous weight" [interpretation]; months are calendar months.
"""

from collections.abc import Iterable
from datetime import date

from ilp_api.ilp.inputs import Weighing
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "tren-berat"
RULE = Rule("6.9-tren-berat", "Buku KIA; NYW [unverified]")
INTERPRETATIONS: dict[str, Interpretation | None] = {
    "N": Interpretation.NORMAL,
    "T": Interpretation.ABNORMAL,
    "2T": Interpretation.ABNORMAL,
    "O": None,
    "B": None,
}


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _latest_in_month(weights: Iterable[Weighing], month_index: int) -> Weighing | None:
    in_month = [weighing for weighing in weights if _month_index(weighing.date) == month_index]
    return max(in_month, key=lambda weighing: weighing.date, default=None)


def classify_weight_trend(weight_kg: float, visit_date: date, earlier: tuple[Weighing, ...]) -> Classification:
    this_month = _month_index(visit_date)
    previous = _latest_in_month(earlier, this_month - 1)
    if not earlier:
        code = "B"
    elif previous is None:
        code = "O"
    elif weight_kg > previous.weight_kg:
        code = "N"
    else:
        before_previous = _latest_in_month(earlier, this_month - 2)
        # 2T: T this month and T last month; a month without weighing (O) breaks the run.
        twice = before_previous is not None and previous.weight_kg <= before_previous.weight_kg
        code = "2T" if twice else "T"
    details = {"tanggalPembanding": previous.date.isoformat()} if previous else {}
    return Classification(KEY, code, INTERPRETATIONS[code], RULE, details=details)
