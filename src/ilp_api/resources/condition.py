"""Condition: a problem or diagnosis of a resident (hipertensi, TB, KEK in pregnancy, …).

As for Encounter, every reference is a search parameter and so checked on write; ``recorder`` has no search
parameter in R4 and gets one of the project's for that reason. A Condition belongs to the compartment of its
subject and of an asserting Patient (FHIR R4's Patient CompartmentDefinition) and is seen with them.
"""

from typing import Any

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Age,
    Annotation,
    CodeableConcept,
    FhirDateTime,
    HasExtensions,
    Identifier,
    Period,
    Range,
    Reference,
    Resource,
    choice,
)
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, dates, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment

# R4 gives onset[x] and abatement[x] the same types: when, or at what age, or as words.
WHEN: dict[str, Any] = {"DateTime": FhirDateTime, "Age": Age, "Period": Period, "Range": Range, "String": str}
Onset = choice("onset", **WHEN)
Abatement = choice("abatement", **WHEN)


class ConditionEvidence(HasExtensions):
    code: list[CodeableConcept] | None = None
    detail: list[Reference] | None = None


class Condition(Resource, Onset, Abatement):  # type: ignore[misc, valid-type]
    identifier: list[Identifier] | None = None
    clinical_status: CodeableConcept | None = Field(None, alias="clinicalStatus")
    verification_status: CodeableConcept | None = Field(None, alias="verificationStatus")
    category: list[CodeableConcept] | None = None
    severity: CodeableConcept | None = None
    code: CodeableConcept | None = None
    body_site: list[CodeableConcept] | None = Field(None, alias="bodySite")
    subject: Reference
    encounter: Reference | None = None
    recorded_date: FhirDateTime | None = Field(None, alias="recordedDate")
    recorder: Reference | None = None
    asserter: Reference | None = None
    evidence: list[ConditionEvidence] | None = None
    note: list[Annotation] | None = None


registry.register(
    ResourceDefinition(
        type="Condition",
        model=Condition,
        description="A problem or diagnosis of a resident, coded in ICD-10 (http://hl7.org/fhir/sid/icd-10).",
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier",
                codes("identifier"),
                example="https://puskesmas-app.example/diagnosis|D-0001",
            ),
            SearchParameter(
                "clinical-status",
                SearchType.TOKEN,
                "active | recurrence | relapse | inactive | remission | resolved",
                codes("clinicalStatus"),
                example="active",
            ),
            SearchParameter(
                "verification-status",
                SearchType.TOKEN,
                "unconfirmed | provisional | differential | confirmed | refuted | entered-in-error",
                codes("verificationStatus"),
                example="confirmed",
            ),
            SearchParameter(
                "category",
                SearchType.TOKEN,
                "problem-list-item or encounter-diagnosis",
                codes("category"),
                example="encounter-diagnosis",
            ),
            SearchParameter(
                "code", SearchType.TOKEN, "The problem", codes("code"), example="http://hl7.org/fhir/sid/icd-10|I10"
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident who has it", references("subject"), targets=("Patient",)
            ),
            SearchParameter(
                "subject",
                SearchType.REFERENCE,
                "Who has it (always a resident here)",
                references("subject"),
                targets=("Patient",),
            ),
            SearchParameter(
                "encounter",
                SearchType.REFERENCE,
                "The visit it was recorded in",
                references("encounter"),
                targets=("Encounter",),
            ),
            SearchParameter(
                "onset-date",
                SearchType.DATE,
                "When it began (onsetDateTime or onsetPeriod)",
                dates("onsetDateTime", "onsetPeriod"),
            ),
            SearchParameter("recorded-date", SearchType.DATE, "When it was first recorded", dates("recordedDate")),
            SearchParameter(
                "asserter",
                SearchType.REFERENCE,
                "Who says so (a resident telling of themselves is a Patient)",
                references("asserter"),
                targets=("Practitioner", "PractitionerRole", "Patient"),
            ),
            SearchParameter(
                "recorder",
                SearchType.REFERENCE,
                "Who recorded it (not an R4 parameter: it is here so that the reference is checked on write)",
                references("recorder"),
                targets=("Practitioner", "PractitionerRole", "Patient"),
            ),
            SearchParameter(
                "evidence-detail",
                SearchType.REFERENCE,
                "A finding that supports it",
                references("evidence.detail"),
                targets=("Observation", "Condition"),
            ),
        ),
        compartment=("patient", "asserter"),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
