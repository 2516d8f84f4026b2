"""The doses a visit counts: the resident's recorded Immunizations, those of the visit's own Bundle included, are
the evaluation's doses given (the engine's lastDone), so the doses due and the interval warnings follow the record.
Over HTTP, both databases.

The doses due and the warnings are not stored (immunisation is offered at every site a visit is recorded at, so no
``jadwalkan`` follow-up arises): the test listens to the hook's evaluations.
"""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import CANONICAL, changed, create, immunization_json
from ilp_api.ilp.evaluate import Evaluation, evaluate
from ilp_api.screening import hook
from ilp_api.screening.immunizations import doses_given
from visits import record_visit, resident, visit_bundle

BORN = "2026-01-05"
VISIT_DAY = "2026-04-08"  # 3 months and 3 days old


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[Evaluation]:
    """Every evaluation the visit hook makes, in order."""
    seen: list[Evaluation] = []

    def listened(*arguments: Any) -> Evaluation:
        seen.append(evaluate(*arguments))
        return seen[-1]

    monkeypatch.setattr(hook, "evaluate", listened)
    return seen


def doses_due(evaluation: Evaluation) -> set[str]:
    return {item.reason for item in evaluation.due if item.item == "imunisasi"}


def test_a_visit_counts_the_doses_recorded_before_it_and_in_it(
    client: TestClient, network: dict[str, str], evaluations: list[Evaluation]
) -> None:
    baby = resident(client, BORN, "female", serial=1)
    for dose, day in (("bcg", "2026-01-10"), ("opv-1", "2026-01-10"), ("hb0", BORN)):
        create(client, immunization_json(baby, dose, day))
    for dose in ("dpt-hb-hib-1", "opv-2", "rv-1", "pcv-1"):
        create(client, immunization_json(baby, dose, "2026-03-06"))
    create(client, immunization_json(baby, "pcv-2", "2026-05-01"))  # after the visit: not yet given then
    create(client, immunization_json(baby, "rv-2", "2026-04-01", status="not-done"))  # not given
    visit = visit_bundle(baby, network["posyandu"], day=VISIT_DAY)
    given_at_the_visit = immunization_json(baby, "dpt-hb-hib-2", VISIT_DAY, encounter={"reference": "urn:uuid:visit"})
    visit["entry"].append(
        {
            "fullUrl": "urn:uuid:dose",
            "resource": given_at_the_visit,
            "request": {"method": "POST", "url": "Immunization"},
        }
    )
    unrecorded = resident(client, BORN, "female", serial=2)

    record_visit(client, visit)
    record_visit(client, visit_bundle(unrecorded, network["posyandu"], day=VISIT_DAY))

    recorded, never_recorded = evaluations
    assert doses_due(recorded) == {"opv-3", "rv-2", "pcv-2"}  # the next of each series, 28 days after the last
    assert doses_due(never_recorded) == {"bcg", "opv-1", "dpt-hb-hib-1", "rv-1", "pcv-1"}
    assert "dosis-interval-kurang" not in recorded.warnings


def test_a_dose_recorded_too_soon_after_the_one_before_is_a_warning(
    client: TestClient, network: dict[str, str], evaluations: list[Evaluation]
) -> None:
    baby = resident(client, BORN, "male")
    create(client, immunization_json(baby, "opv-1", "2026-01-10"))
    create(client, immunization_json(baby, "opv-2", "2026-01-30"))  # 20 days: the minimum is 28 (§4.4)

    record_visit(client, visit_bundle(baby, network["posyandu"], day=VISIT_DAY))

    assert "dosis-interval-kurang" in evaluations[-1].warnings


def test_a_dose_counts_on_its_latest_day_when_completed_and_dated_to_the_day() -> None:
    recorded = [
        immunization_json("p", "bcg", "2026-01-10"),
        immunization_json("p", "bcg", "2026-02-01T09:00:00+07:00"),  # given again: the latest counts
        immunization_json("p", "opv-1", "2026-01"),  # which day is not known
        changed(immunization_json("p", "opv-2"), {"occurrenceDateTime": None, "occurrenceString": "Februari"}),
        immunization_json("p", "rv-1", "2026-02-01", status="entered-in-error"),
        immunization_json("p", "pcv-1", "2026-03-02"),  # after the day asked about
    ]

    assert doses_given(recorded, CANONICAL, until=date(2026, 3, 1)) == {"bcg": date(2026, 2, 1)}
