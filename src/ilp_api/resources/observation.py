"""Observation: a measurement or finding about a resident (weight, height, blood pressure, pregnancy status, …).

As for Encounter, every reference is a search parameter and so checked on write. An Observation made during a
visit is about the visit's patient: one for another patient is refused. A measurement of the profile's catalogue
(§5) is given in its UCUM unit and within its plausible range, so that a mistyped weight is caught at the door.
It belongs to the compartment of its subject and of a performing Patient (FHIR R4's Patient
CompartmentDefinition) and is seen with them.
"""

from typing import Any, Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    UCUM,
    Annotation,
    CodeableConcept,
    FhirDateTime,
    HasExtensions,
    Identifier,
    Instant,
    Integer,
    Period,
    Quantity,
    Range,
    Ratio,
    Reference,
    Resource,
    SampledData,
    SimpleQuantity,
    Time,
    choice,
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
)
from ilp_api.fhir.visibility_rules import InPatientCompartment
from ilp_api.ilp.catalogue import BY_CODE, LOINC, Measure
from ilp_api.ilp.errors import VALUE_OUT_OF_RANGE

# R4's value[x], every type of it.
Value = choice(
    "value",
    Quantity=Quantity,
    CodeableConcept=CodeableConcept,
    String=str,
    Boolean=bool,
    Integer=Integer,
    Range=Range,
    Ratio=Ratio,
    SampledData=SampledData,
    Time=Time,
    DateTime=FhirDateTime,
    Period=Period,
)


class ObservationReferenceRange(HasExtensions):
    low: SimpleQuantity | None = None
    high: SimpleQuantity | None = None
    type: CodeableConcept | None = None
    applies_to: list[CodeableConcept] | None = Field(None, alias="appliesTo")
    age: Range | None = None
    text: str | None = None


class ObservationComponent(HasExtensions, Value):  # type: ignore[misc, valid-type]
    code: CodeableConcept
    data_absent_reason: CodeableConcept | None = Field(None, alias="dataAbsentReason")
    interpretation: list[CodeableConcept] | None = None
    reference_range: list[ObservationReferenceRange] | None = Field(None, alias="referenceRange")


Effective = choice("effective", DateTime=FhirDateTime, Period=Period)


class Observation(Resource, Value, Effective):  # type: ignore[misc, valid-type]
    identifier: list[Identifier] | None = None
    status: Literal[
        "registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"
    ]
    category: list[CodeableConcept] | None = None
    code: CodeableConcept
    # Required here, unlike in R4: every ILP observation is about a resident.
    subject: Reference
    encounter: Reference | None = None
    issued: Instant | None = None
    performer: list[Reference] | None = None
    data_absent_reason: CodeableConcept | None = Field(None, alias="dataAbsentReason")
    interpretation: list[CodeableConcept] | None = None
    note: list[Annotation] | None = None
    body_site: CodeableConcept | None = Field(None, alias="bodySite")
    method: CodeableConcept | None = None
    reference_range: list[ObservationReferenceRange] | None = Field(None, alias="referenceRange")
    has_member: list[Reference] | None = Field(None, alias="hasMember")
    derived_from: list[Reference] | None = Field(None, alias="derivedFrom")
    component: list[ObservationComponent] | None = None


PROJECT_OBSERVATION_CODES = "/CodeSystem/ilp-observation"  # after the canonical base


def check_observation(context: WriteContext, _model: Any, data: Json) -> Json:
    check_visit_patient(context, data)
    _check_measurement(data, "Observation")
    for index, component in enumerate(data.get("component", [])):
        _check_measurement(component, f"Observation.component[{index}]")
    return data


def check_visit_patient(context: WriteContext, data: Json, patient_element: str = "subject") -> None:
    """A record of a visit (an Observation, a QuestionnaireResponse, an Immunization) is about the visit's patient,
    named in ``patient_element`` (an unknown visit is refused by the reference check)."""
    encounter = parse_reference(data.get("encounter", {}).get("reference", ""))
    encounter_json = context.read(encounter) if encounter and encounter.type == "Encounter" else None
    visited = parse_reference(encounter_json.get("subject", {}).get("reference", "")) if encounter_json else None
    if visited is not None and visited != parse_reference(data[patient_element].get("reference", "")):
        element = f"{data['resourceType']}.{patient_element}"
        raise Unprocessable(
            f"{element} must be the patient of its encounter, {visited.type}/{visited.id}", expression=element
        )


def catalogued_measure(code: Json) -> Measure | None:
    """The §5 measurement a CodeableConcept names, if any."""
    for coding in code.get("coding", []):
        measure = BY_CODE.get(coding.get("code", ""))
        system = coding.get("system", "")
        if measure is not None and (
            system.endswith(PROJECT_OBSERVATION_CODES) if measure.project_code else system == LOINC
        ):
            return measure
    return None


def _check_measurement(element: Json, where: str) -> None:
    """A catalogued measurement's valueQuantity: its UCUM unit, a whole number where one is counted, in range."""
    measure = catalogued_measure(element["code"])
    quantity = element.get("valueQuantity")
    if measure is None or quantity is None:
        return
    if quantity.get("system") != UCUM or quantity.get("code") != measure.unit:
        raise Unprocessable(
            f"{where}.valueQuantity must be in {measure.unit} ({UCUM}) for {measure.code}: "
            f"got {quantity.get('code')!r} ({quantity.get('system')!r})",
            expression=f"{where}.valueQuantity.code",
        )
    value = quantity.get("value")
    if value is None:
        return
    if not measure.low <= value <= measure.high or (measure.integer and value != int(value)):
        kind = "a whole number " if measure.integer else ""
        raise Unprocessable(
            f"{where}.valueQuantity.value {value} {measure.unit} is implausible for {measure.code}: "
            f"{kind}from {measure.low:g} to {measure.high:g} is expected",
            expression=f"{where}.valueQuantity.value",
            ilp_code=VALUE_OUT_OF_RANGE,
        )


registry.register(
    ResourceDefinition(
        type="Observation",
        model=Observation,
        description="A measurement or finding about a resident: LOINC codes, UCUM units.",
        apply_rules=check_observation,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier",
                codes("identifier"),
                example="https://posyandu-app.example/pengukuran|P-0001",
            ),
            SearchParameter("status", SearchType.TOKEN, "final | amended | …", codes("status"), example="final"),
            SearchParameter(
                "category",
                SearchType.TOKEN,
                "vital-signs, survey, laboratory, …",
                codes("category"),
                example="vital-signs",
            ),
            SearchParameter(
                "code", SearchType.TOKEN, "What was observed", codes("code"), example="http://loinc.org|29463-7"
            ),
            SearchParameter(
                "value-concept",
                SearchType.TOKEN,
                "A coded result",
                codes("valueCodeableConcept"),
                example="http://loinc.org|LA15173-0",
            ),
            SearchParameter(
                "date",
                SearchType.DATE,
                "When it was observed (effective[x])",
                dates("effectiveDateTime", "effectivePeriod"),
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "Who it is about", references("subject"), targets=("Patient",)
            ),
            SearchParameter(
                "encounter",
                SearchType.REFERENCE,
                "The visit it was made in",
                references("encounter"),
                targets=("Encounter",),
            ),
            SearchParameter(
                "performer",
                SearchType.REFERENCE,
                "Who observed it (a resident answering about themselves is a Patient)",
                references("performer"),
                targets=("Practitioner", "PractitionerRole", "Organization", "Patient"),
            ),
            SearchParameter(
                "has-member",
                SearchType.REFERENCE,
                "The observations this one groups",
                references("hasMember"),
                targets=("Observation",),
            ),
            SearchParameter(
                "derived-from",
                SearchType.REFERENCE,
                "The observations this one was computed from",
                references("derivedFrom"),
                targets=("Observation",),
            ),
        ),
        compartment=("patient", "performer"),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
