"""Follow-ups done by doing them: what a later visit must record to carry out a follow-up (tindak lanjut, §7).

An evaluated visit leaves follow-up Tasks (``code`` from ``CodeSystem/tindak-lanjut``, screening/derivation.py).
When a later visit of the same resident records what one asked for, its evaluation (screening/hook.py) completes
it, its ``output`` naming that visit. ``COMPLETED_BY`` is the one table of what does: a follow-up absent from it
(TTD, supplementary feeding, a geriatric examination, a home visit, sputum, counselling …) is not read off a
screening visit, and its owner completes it as any other Task.
"""

from collections.abc import Callable, Mapping
from datetime import date

from ilp_api.fhir.json import without_meta
from ilp_api.fhir.registry import Json
from ilp_api.ilp.inputs import VisitInput
from ilp_api.resources.task_workflow import WAITING
from ilp_api.screening.derivation import VisitFacts, code_system
from ilp_api.screening.records import UnitRecords


def _recorded(*values: object) -> bool:
    return any(value is not None for value in values)


COMPLETED_BY: Mapping[str, Callable[[VisitInput], bool]] = {
    # the KPSP answered again
    "ulang-kpsp-14-hari": lambda visit: _recorded(visit.instruments.kpsp_yes_count),
    # the blood pressure measured again
    "pantau-td-bulanan": lambda visit: _recorded(visit.measurements.systolic),
    # a glucose (random or fasting) or an HbA1c
    "cek-gula-3-bulan": lambda visit: _recorded(
        visit.measurements.glucose_random, visit.measurements.glucose_fasting, visit.measurements.hba1c
    ),
    # weighed again
    "timbang-ulang-bulan-depan": lambda visit: _recorded(visit.measurements.weight_kg),
    "review-gizi-2-minggu": lambda visit: _recorded(visit.measurements.weight_kg),
    # weighed, or the waist measured
    "evaluasi-3-bulan": lambda visit: _recorded(visit.measurements.weight_kg, visit.measurements.waist_cm),
}


def complete_follow_ups(records: UnitRecords, visit: VisitInput, facts: VisitFacts) -> None:
    """The resident's waiting follow-ups that this visit carried out are completed, their output naming it."""
    done = [code for code, carried_out in COMPLETED_BY.items() if carried_out(visit)]
    if not done:
        return
    system = code_system(facts.canonical_base, "tindak-lanjut")
    for follow_up in records.search(
        "Task",
        ("patient", f"Patient/{facts.patient_id}"),
        ("code", ",".join(f"{system}|{code}" for code in done)),
        ("status", ",".join(WAITING)),
    ):
        if _asked_before(follow_up, facts):
            records.store("Task", _completed(follow_up, facts.encounter_id), create=False)


def _asked_before(follow_up: Json, facts: VisitFacts) -> bool:
    """Whether another visit, on an earlier day, asked for the follow-up."""
    asked_in = follow_up.get("encounter", {}).get("reference")
    asked_on = follow_up.get("authoredOn", "")[:10]
    return asked_in != f"Encounter/{facts.encounter_id}" and bool(asked_on) and date.fromisoformat(asked_on) < facts.day


def _completed(follow_up: Json, encounter_id: str) -> Json:
    done_by = {
        "type": {"text": "Kunjungan yang melaksanakan tindak lanjut"},
        "valueReference": {"reference": f"Encounter/{encounter_id}"},
    }
    content = without_meta(follow_up)
    return {**content, "status": "completed", "output": [*follow_up.get("output", []), done_by]}
