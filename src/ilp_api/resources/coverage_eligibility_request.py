"""CoverageEligibilityRequest: a question to an insurer whether a resident is covered.

``Patient/{id}/$eligibility`` stores one for every check it makes of BPJS (``purpose`` ``validation``,
``insurer`` BPJS Kesehatan, ``provider`` the caller's organization), so that the answer it stores beside it has
the request R4 requires. A request belongs to its patient's compartment and is seen with them.
"""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    CodeableConcept,
    FhirDate,
    FhirDateTime,
    HasExtensions,
    Identifier,
    Period,
    Reference,
    Resource,
    choice,
)
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, dates, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment

Purpose = Literal["auth-requirements", "benefits", "discovery", "validation"]
Serviced = choice("serviced", Date=FhirDate, Period=Period)


class EligibilityRequestInsurance(HasExtensions):
    focal: bool | None = None
    coverage: Reference
    business_arrangement: str | None = Field(None, alias="businessArrangement")


class CoverageEligibilityRequest(Resource, Serviced):  # type: ignore[misc, valid-type]
    identifier: list[Identifier] | None = None
    status: Literal["active", "cancelled", "draft", "entered-in-error"]
    priority: CodeableConcept | None = None
    purpose: list[Purpose] = Field(min_length=1)
    patient: Reference
    created: FhirDateTime
    enterer: Reference | None = None
    provider: Reference | None = None
    insurer: Reference
    facility: Reference | None = None
    insurance: list[EligibilityRequestInsurance] | None = None


ELIGIBILITY_REQUEST = registry.register(
    ResourceDefinition(
        type="CoverageEligibilityRequest",
        model=CoverageEligibilityRequest,
        description="A question to an insurer (BPJS Kesehatan) whether a resident is covered; see `$eligibility`.",
        search_parameters=(
            SearchParameter(
                "identifier", SearchType.TOKEN, "A business identifier", codes("identifier"), example="E-0001"
            ),
            SearchParameter("status", SearchType.TOKEN, "active | cancelled | …", codes("status"), example="active"),
            SearchParameter(
                "purpose",
                SearchType.TOKEN,
                "validation | benefits | discovery | …",
                codes("purpose"),
                example="validation",
            ),
            SearchParameter("created", SearchType.DATE, "When it was asked", dates("created")),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident asked about", references("patient"), targets=("Patient",)
            ),
            SearchParameter(
                "provider",
                SearchType.REFERENCE,
                "The facility that asks",
                references("provider"),
                targets=("Organization", "Practitioner", "PractitionerRole"),
            ),
            SearchParameter(
                "enterer",
                SearchType.REFERENCE,
                "Who entered it",
                references("enterer"),
                targets=("Practitioner", "PractitionerRole"),
            ),
            SearchParameter(
                "facility",
                SearchType.REFERENCE,
                "Where the service is given",
                references("facility"),
                targets=("Location",),
            ),
            SearchParameter(
                "insurer",
                SearchType.REFERENCE,
                "The insurer asked (not an R4 parameter: here so that the reference is checked on write)",
                references("insurer"),
                targets=("Organization",),
            ),
            SearchParameter(
                "coverage",
                SearchType.REFERENCE,
                "The coverage asked about (not an R4 parameter: here so that the reference is checked on write)",
                references("insurance.coverage"),
                targets=("Coverage",),
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
