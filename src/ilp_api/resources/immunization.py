"""Immunization: a vaccine dose a resident was given (or not given, or recorded in error).

A completed dose names which dose of the national schedule it was (profile §4.4): its ``vaccineCode`` carries a
code of the project's dose CodeSystem (``{canonical base}/CodeSystem/imunisasi``: ``hb0``, ``bcg``, ``opv-1`` …
``mr-2``), beside any other coding, such as the KFA code SATUSEHAT knows the vaccine by (resources/vaccines.py holds
the KFA table). So the screening package can tell from the records which doses are given and which are due: a
visit's evaluation counts them, and the worklists list what is missed (screening/immunizations.py).

A dose is given on a day no later than today and no earlier than the patient's birth. As for Encounter, every
reference is a search parameter and so checked on write (``encounter`` and ``protocolApplied.authority`` have no
R4 parameter and get the project's); a dose given during a visit is about the visit's patient. An Immunization
belongs to its patient's compartment (FHIR R4's Patient CompartmentDefinition) and is seen with them.
"""

from typing import Any, Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Annotation,
    CodeableConcept,
    FhirDate,
    FhirDateTime,
    HasExtensions,
    Identifier,
    PositiveInt,
    Reference,
    Resource,
    SimpleQuantity,
    choice,
    days,
)
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.registry import (
    Json,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    WriteContext,
    codes,
    dates,
    parse_reference,
    references,
    registry,
    strings,
)
from ilp_api.fhir.visibility_rules import InPatientCompartment
from ilp_api.ilp.screening_packages import DOSE_CODES
from ilp_api.resources.observation import check_visit_patient
from ilp_api.resources.vaccines import dose_system

DoseNumber = choice("doseNumber", required=True, PositiveInt=PositiveInt, String=str)
SeriesDoses = choice("seriesDoses", PositiveInt=PositiveInt, String=str)


class ImmunizationPerformer(HasExtensions):
    function: CodeableConcept | None = None
    actor: Reference


class ImmunizationProtocolApplied(HasExtensions, DoseNumber, SeriesDoses):  # type: ignore[misc, valid-type]
    series: str | None = None
    authority: Reference | None = None
    target_disease: list[CodeableConcept] | None = Field(None, alias="targetDisease")


Occurrence = choice("occurrence", required=True, DateTime=FhirDateTime, String=str)


class Immunization(Resource, Occurrence):  # type: ignore[misc, valid-type]
    identifier: list[Identifier] | None = None
    status: Literal["completed", "entered-in-error", "not-done"]
    status_reason: CodeableConcept | None = Field(None, alias="statusReason")
    vaccine_code: CodeableConcept = Field(alias="vaccineCode")
    patient: Reference
    encounter: Reference | None = None
    recorded: FhirDateTime | None = None
    primary_source: bool | None = Field(None, alias="primarySource")
    location: Reference | None = None
    manufacturer: Reference | None = None
    lot_number: str | None = Field(None, alias="lotNumber")
    expiration_date: FhirDate | None = Field(None, alias="expirationDate")
    site: CodeableConcept | None = None
    route: CodeableConcept | None = None
    dose_quantity: SimpleQuantity | None = Field(None, alias="doseQuantity")
    performer: list[ImmunizationPerformer] | None = None
    note: list[Annotation] | None = None
    reason_code: list[CodeableConcept] | None = Field(None, alias="reasonCode")
    is_subpotent: bool | None = Field(None, alias="isSubpotent")
    protocol_applied: list[ImmunizationProtocolApplied] | None = Field(None, alias="protocolApplied")


def check_immunization(context: WriteContext, _model: Any, data: Json) -> Json:
    check_visit_patient(context, data, "patient")
    _check_dose(data, dose_system(context.canonical_base))
    _check_occurrence(context, data)
    return data


def _check_dose(data: Json, system: str) -> None:
    """At most one dose of the schedule, a known one; a completed Immunization names the one it gave."""
    where = "Immunization.vaccineCode"
    named = {coding.get("code") for coding in data["vaccineCode"].get("coding", []) if coding.get("system") == system}
    unknown = sorted(str(code) for code in named - set(DOSE_CODES))
    if unknown:
        raise Unprocessable(
            f"{where} names {', '.join(unknown)}, no dose of {system}: one of {', '.join(DOSE_CODES)}",
            expression=where,
        )
    if len(named) > 1:
        raise Unprocessable(
            f"{where} names {len(named)} doses of {system}: an Immunization is one dose", expression=where
        )
    if data["status"] == "completed" and not named:
        raise Unprocessable(
            f"{where} of a completed Immunization names the dose given: a coding of {system} "
            f"({', '.join(DOSE_CODES)}), beside any other such as the KFA code",
            expression=where,
        )


def _check_occurrence(context: WriteContext, data: Json) -> None:
    """Given no later than today and no earlier than the patient's birth (the local days, as written)."""
    when = data.get("occurrenceDateTime")
    if when is None:
        return  # occurrenceString: a day the record does not know
    where = "Immunization.occurrenceDateTime"
    first, last = days(when)
    if first > context.today:
        raise Unprocessable(
            f"{where} {when} is after today ({context.today}): record a dose once given", expression=where
        )
    patient_ref = parse_reference(data["patient"].get("reference", ""))
    patient = context.read(patient_ref) if patient_ref and patient_ref.type == "Patient" else None
    birth_date = patient.get("birthDate") if patient else None
    if birth_date and last < days(birth_date)[0]:
        raise Unprocessable(f"{where} {when} is before the patient's birth date ({birth_date})", expression=where)


registry.register(
    ResourceDefinition(
        type="Immunization",
        model=Immunization,
        description=(
            "A vaccine dose a resident was given: a completed one names its dose of the national schedule in "
            "`vaccineCode` (the project's CodeSystem `imunisasi`), beside the KFA code where known."
        ),
        apply_rules=check_immunization,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier",
                codes("identifier"),
                example="https://posyandu-app.example/imunisasi|I-0001",
            ),
            SearchParameter(
                "status",
                SearchType.TOKEN,
                "completed | entered-in-error | not-done",
                codes("status"),
                example="completed",
            ),
            SearchParameter(
                "vaccine-code",
                SearchType.TOKEN,
                "The dose or vaccine given: a code of the project's CodeSystem imunisasi, or a KFA code",
                codes("vaccineCode"),
                example="mr-1",
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident vaccinated", references("patient"), targets=("Patient",)
            ),
            SearchParameter(
                "date", SearchType.DATE, "When the dose was given (occurrenceDateTime)", dates("occurrenceDateTime")
            ),
            SearchParameter(
                "lot-number", SearchType.STRING, "The vaccine's lot", strings("lotNumber"), example="MR-2026-0917"
            ),
            SearchParameter(
                "location",
                SearchType.REFERENCE,
                "Where the dose was given",
                references("location"),
                targets=("Location",),
            ),
            SearchParameter(
                "performer",
                SearchType.REFERENCE,
                "Who gave the dose",
                references("performer.actor"),
                targets=("Practitioner", "PractitionerRole", "Organization"),
            ),
            SearchParameter(
                "manufacturer",
                SearchType.REFERENCE,
                "Who made the vaccine",
                references("manufacturer"),
                targets=("Organization",),
            ),
            SearchParameter(
                "reason-code",
                SearchType.TOKEN,
                "Why the dose was given (e.g. a programme: rutin, kejar)",
                codes("reasonCode"),
                example="IM-Dasar",
            ),
            SearchParameter(
                "target-disease",
                SearchType.TOKEN,
                "A disease the dose protects against",
                codes("protocolApplied.targetDisease"),
                example="http://snomed.info/sct|14189004",
            ),
            SearchParameter(
                "series",
                SearchType.STRING,
                "The vaccine series the dose belongs to",
                strings("protocolApplied.series"),
                example="Imunisasi dasar",
            ),
            SearchParameter(
                "encounter",
                SearchType.REFERENCE,
                "The visit the dose was given in (not an R4 parameter: here so that the reference is checked on write)",
                references("encounter"),
                targets=("Encounter",),
            ),
            SearchParameter(
                "authority",
                SearchType.REFERENCE,
                "Who set the schedule followed (not an R4 parameter: here so that the reference is checked on write)",
                references("protocolApplied.authority"),
                targets=("Organization",),
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
