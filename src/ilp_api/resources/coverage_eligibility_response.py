"""CoverageEligibilityResponse: an insurer's answer whether a resident is covered.

``Patient/{id}/$eligibility`` stores BPJS's answer as one (``request`` the stored CoverageEligibilityRequest,
``insurer`` BPJS Kesehatan, ``insurance.inforce`` whether the membership is active, ``insurance.benefitPeriod``
its validity, ``insurance.item.category`` the benefit class) with the project's extensions for what R4 has no
element for: the FKTP the member is registered with, whether that is this puskesmas, and the arrears. A response
belongs to its patient's compartment and is seen with them.
"""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import CodeableConcept, FhirDateTime, HasExtensions, Identifier, Period, Reference, Resource
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, dates, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment
from ilp_api.resources.coverage_eligibility_request import Purpose, Serviced


class EligibilityBenefit(HasExtensions):
    category: CodeableConcept | None = None
    name: str | None = None
    description: str | None = None
    excluded: bool | None = None


class EligibilityResponseInsurance(HasExtensions):
    coverage: Reference
    inforce: bool | None = None
    benefit_period: Period | None = Field(None, alias="benefitPeriod")
    item: list[EligibilityBenefit] | None = None


class EligibilityError(HasExtensions):
    code: CodeableConcept


class CoverageEligibilityResponse(Resource, Serviced):  # type: ignore[misc, valid-type]
    identifier: list[Identifier] | None = None
    status: Literal["active", "cancelled", "draft", "entered-in-error"]
    purpose: list[Purpose] = Field(min_length=1)
    patient: Reference
    created: FhirDateTime
    requestor: Reference | None = None
    request: Reference
    outcome: Literal["queued", "complete", "error", "partial"]
    disposition: str | None = None
    insurer: Reference
    insurance: list[EligibilityResponseInsurance] | None = None
    pre_auth_ref: str | None = Field(None, alias="preAuthRef")
    error: list[EligibilityError] | None = None


ELIGIBILITY_RESPONSE = registry.register(
    ResourceDefinition(
        type="CoverageEligibilityResponse",
        model=CoverageEligibilityResponse,
        description="An insurer's (BPJS Kesehatan's) answer whether a resident is covered; see `$eligibility`.",
        search_parameters=(
            SearchParameter(
                "identifier", SearchType.TOKEN, "A business identifier", codes("identifier"), example="E-0001"
            ),
            SearchParameter("status", SearchType.TOKEN, "active | cancelled | …", codes("status"), example="active"),
            SearchParameter(
                "outcome", SearchType.TOKEN, "queued | complete | error | partial", codes("outcome"), example="complete"
            ),
            SearchParameter("created", SearchType.DATE, "When it was answered", dates("created")),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident asked about", references("patient"), targets=("Patient",)
            ),
            SearchParameter(
                "request",
                SearchType.REFERENCE,
                "The request answered",
                references("request"),
                targets=("CoverageEligibilityRequest",),
            ),
            SearchParameter(
                "requestor",
                SearchType.REFERENCE,
                "The facility that asked",
                references("requestor"),
                targets=("Organization", "Practitioner", "PractitionerRole"),
            ),
            SearchParameter(
                "insurer",
                SearchType.REFERENCE,
                "The insurer that answered",
                references("insurer"),
                targets=("Organization",),
            ),
            SearchParameter(
                "coverage",
                SearchType.REFERENCE,
                "The coverage answered about (not an R4 parameter: here so that the reference is checked on write)",
                references("insurance.coverage"),
                targets=("Coverage",),
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
