"""Follow-ups done by doing them: what a later visit must record to carry out a follow-up (tindak lanjut, §7).

An evaluated visit leaves follow-up Tasks (``code`` from ``CodeSystem/tindak-lanjut``, screening/derivation.py).
When a later visit of the same resident records what one asked for, the hook (screening/hook.py) completes it,
its ``output`` naming that visit. ``COMPLETED_BY`` is the one table of what does: a follow-up absent from it (TTD,
supplementary feeding, a geriatric examination, a home visit, sputum, counselling …) is not read off a
screening visit, and its owner completes it as any other Task.

Pure: the hook searches and stores.
"""

from collections.abc import Callable, Mapping
from datetime import date

from ilp_api.fhir.registry import Json
from ilp_api.ilp.inputs import VisitInput


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
# The statuses of a follow-up still waiting to be done (on-hold: paused on purpose, left alone).
WAITING = ("requested", "received", "accepted", "ready", "in-progress")


def follow_ups_done(visit: VisitInput) -> list[str]:
    """The follow-up codes this visit carries out."""
    return [code for code, done in COMPLETED_BY.items() if done(visit)]


def carried_out(follow_up: Json, encounter_id: str, day: date) -> bool:
    """Whether the visit ``encounter_id`` on ``day`` carries out ``follow_up``, one of the codes it does: a visit
    after the one that asked for it, not that visit itself."""
    asked_in = follow_up.get("encounter", {}).get("reference")
    asked_on = follow_up.get("authoredOn", "")[:10]
    return asked_in != f"Encounter/{encounter_id}" and bool(asked_on) and date.fromisoformat(asked_on) < day


def completed(follow_up: Json, encounter_id: str) -> Json:
    """The follow-up as done by the visit ``encounter_id``."""
    done_by = {
        "type": {"text": "Kunjungan yang melaksanakan tindak lanjut"},
        "valueReference": {"reference": f"Encounter/{encounter_id}"},
    }
    content = {key: value for key, value in follow_up.items() if key != "meta"}
    return {**content, "status": "completed", "output": [*follow_up.get("output", []), done_by]}
