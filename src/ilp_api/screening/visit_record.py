"""A recorded visit read as the engine's input: the Encounter, its patient and facility, its Observations and
QuestionnaireResponses, and the history the rules need (earlier weighings, the doses given), turned into one
``VisitInput``.

Pure: the hook (screening/hook.py) reads the records, this module only translates them. What a visit must hold
to be evaluated (a patient with birth date and sex, a start date, a facility as its site) is refused here with
an expression naming the element.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.registry import Json
from ilp_api.ilp import inputs
from ilp_api.ilp.catalogue import BY_CODE, LOINC
from ilp_api.resources.observation import catalogued_measure

# Pregnancy (issue: Observation LOINC 82810-3 "Pregnancy status" answered LA15173-0 "Pregnant").
PREGNANCY_STATUS = "82810-3"
PREGNANT = "LA15173-0"
GESTATIONAL_AGE = "49051-6"  # Gestational age in weeks (UCUM wk; d also taken)
DELIVERY_DATE = "93857-1"  # Date and time of obstetric delivery
ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
HOME_VISIT = "HH"
NOT_RECORDED = frozenset({"cancelled", "entered-in-error"})  # an Observation with this status counts for nothing


@dataclass(frozen=True)
class VisitRecord:
    encounter: Json
    patient: Json
    site: inputs.Site  # the facility type of Encounter.serviceProvider: posyandu, pustu or puskesmas
    observations: Sequence[Json]
    instruments: inputs.Instruments
    earlier_weights: tuple[inputs.Weighing, ...] = ()
    # The K number this visit would have on her open pregnancy (screening/episodes.py); None: no open pregnancy.
    # An open pregnancy also makes her pregnant when the visit records no pregnancy status.
    anc_visit_number: int | None = None
    # The doses of the schedule given by the visit's day (screening/immunizations.py): dose code → the latest day.
    doses_given: Mapping[str, date] = field(default_factory=dict)


def visit_date(encounter: Json) -> date:
    start = encounter.get("period", {}).get("start")
    if not start:
        raise Unprocessable(
            "Encounter.period.start is required to evaluate a screening visit: the day it took place",
            expression="Encounter.period.start",
        )
    return date.fromisoformat(start[:10])  # the local date at the site, as the client wrote it


def visit_input(record: VisitRecord) -> inputs.VisitInput:
    patient, encounter = record.patient, record.encounter
    birth_date = patient.get("birthDate", "")
    if len(birth_date) != 10:
        raise Unprocessable(
            f"Patient/{patient['id']} needs a full birthDate (YYYY-MM-DD) for its visits to be evaluated",
            expression="Encounter.subject",
        )
    if patient.get("gender") not in ("male", "female"):
        raise Unprocessable(
            f"Patient/{patient['id']} needs gender male or female for its visits to be evaluated",
            expression="Encounter.subject",
        )
    observations = [o for o in record.observations if o.get("status") not in NOT_RECORDED]
    return inputs.VisitInput(
        birth_date=date.fromisoformat(birth_date),
        sex=patient["gender"],
        visit_date=visit_date(encounter),
        site="kunjungan-rumah" if encounter["class"].get("code") == HOME_VISIT else record.site,
        pregnancy=_pregnancy(observations, visit_date(encounter), record.anc_visit_number),
        emergency=any(c.get("code") == "EM" for c in _codings(encounter.get("priority"), ACT_PRIORITY)),
        measurements=measurements(observations),
        instruments=record.instruments,
        weights=record.earlier_weights,
        last_done=record.doses_given,
    )


def measurements(observations: Iterable[Json]) -> inputs.Measurements:
    """The catalogued values of a visit, from plain Observations and panels' components (blood pressure)."""
    values: dict[str, Any] = {}
    for observation in observations:
        for element in (observation, *observation.get("component", [])):
            measure = catalogued_measure(element.get("code", {}))
            value = element.get("valueQuantity", {}).get("value")
            if measure is not None and value is not None:
                values[measure.key] = int(value) if measure.integer else float(value)
    return inputs.Measurements(**values)


def _pregnancy(observations: Sequence[Json], day: date, anc_visit_number: int | None) -> inputs.Pregnancy | None:
    """Pregnant by this visit's pregnancy status, or, when it records none, by an open pregnancy (whose K number
    ``anc_visit_number`` is then this visit's)."""
    pregnant = any(_has_code(o, PREGNANCY_STATUS) and _value_code(o) == PREGNANT for o in observations) or (
        anc_visit_number is not None and not any(_has_code(o, PREGNANCY_STATUS) for o in observations)
    )
    delivered = next((o["valueDateTime"][:10] for o in observations if _has_code(o, DELIVERY_DATE)), None)
    if delivered is not None:
        delivery = date.fromisoformat(delivered)
        return inputs.Pregnancy("bersalin" if delivery == day else "nifas", delivery_date=delivery)
    if not pregnant:
        return None
    weeks = next((o.get("valueQuantity") for o in observations if _has_code(o, GESTATIONAL_AGE)), None)
    days = None
    if weeks is not None and weeks.get("value") is not None:
        days = round(weeks["value"] * (1 if weeks.get("code") == "d" else 7))
    # No open pregnancy yet: this visit opens it, her first contact (K1).
    return inputs.Pregnancy("hamil", gestational_age_days=days, anc_visit_number=anc_visit_number or 1)


def _codings(concept: Json | None, system: str) -> list[Json]:
    return [c for c in (concept or {}).get("coding", []) if c.get("system") == system]


def _has_code(observation: Json, code: str) -> bool:
    return any(c.get("code") == code for c in _codings(observation.get("code"), LOINC))


def _value_code(observation: Json) -> str | None:
    codings = _codings(observation.get("valueCodeableConcept"), LOINC)
    return codings[0].get("code") if codings else None


def weight_history(observations: Iterable[Json], before: date) -> tuple[inputs.Weighing, ...]:
    """Earlier weighings (§11: today's weight is this visit's own), oldest first."""
    weight = BY_CODE["29463-7"]
    weighings = []
    for observation in observations:
        when = observation.get("effectiveDateTime", "")[:10]
        value = observation.get("valueQuantity", {}).get("value")
        if when and value is not None and observation.get("status") not in NOT_RECORDED:
            day = date.fromisoformat(when)
            if day < before and catalogued_measure(observation["code"]) is weight:
                weighings.append(inputs.Weighing(day, float(value)))
    return tuple(sorted(weighings, key=lambda weighing: weighing.date))
