"""The doses of the schedule a resident was given, read from the recorded Immunizations (resources/immunization.py):
what a visit's evaluation counts as done (the engine's ``lastDone``) and what the worklists hold against the
schedule (profile §4.4).

A dose counts when its Immunization is completed, names a dose of the project's CodeSystem imunisasi and says the
day it was given (``occurrenceDateTime`` to the day). One recorded with only a month or a year, or in words
(``occurrenceString``), is kept as recorded but does not count: the schedule's intervals need the day.
"""

from collections.abc import Iterable
from datetime import date

from ilp_api.fhir.datatypes import parse_date
from ilp_api.fhir.registry import Json
from ilp_api.resources.vaccines import dose_system
from ilp_api.screening.records import UnitRecords


def counted_immunizations(records: UnitRecords, *query: tuple[str, str]) -> list[Json]:
    """The completed Immunizations of a dose of the schedule the unit sees, narrowed by ``query``."""
    return records.search_all(
        "Immunization", ("status", "completed"), ("vaccine-code", f"{dose_system(records.base)}|"), *query
    )


def doses_given(immunizations: Iterable[Json], canonical_base: str, until: date) -> dict[str, date]:
    """Dose code → the latest day it was given, on or before ``until``."""
    system = dose_system(canonical_base)
    given: dict[str, date] = {}
    for immunization in immunizations:
        codings = immunization["vaccineCode"].get("coding", [])
        dose = next((c.get("code") for c in codings if c.get("system") == system), None)
        day = parse_date(immunization.get("occurrenceDateTime", ""))
        if immunization["status"] == "completed" and dose and day and day <= until:
            given[dose] = max(day, given.get(dose, day))
    return given


def recorded_doses(records: UnitRecords, patient_id: str, until: date) -> dict[str, date]:
    """The resident's doses given on or before ``until``: what a visit that day counts as done."""
    return doses_given(counted_immunizations(records, ("patient", f"Patient/{patient_id}")), records.base, until)
