"""Coverage: a resident's health insurance, above all their JKN membership with BPJS Kesehatan.

``$eligibility`` (integrations/bpjs/) creates and updates it from what BPJS answers: ``payor`` the BPJS Kesehatan
Organization, ``subscriberId`` and an identifier the card number (noKartu) under the project's BPJS system,
``class`` the benefit class (kelas) and the membership type (jenis peserta), ``period`` the membership's validity,
``status`` ``active`` while BPJS says the membership is, ``cancelled`` otherwise. Clients may record other
insurance the same way. A Coverage belongs to its beneficiary's compartment and is seen with them.
"""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import CodeableConcept, HasExtensions, Identifier, Period, PositiveInt, Reference, Resource
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment


class CoverageClass(HasExtensions):
    type: CodeableConcept
    value: str
    name: str | None = None


class Coverage(Resource):
    identifier: list[Identifier] | None = None
    status: Literal["active", "cancelled", "draft", "entered-in-error"]
    type: CodeableConcept | None = None
    policy_holder: Reference | None = Field(None, alias="policyHolder")
    subscriber: Reference | None = None
    subscriber_id: str | None = Field(None, alias="subscriberId")
    beneficiary: Reference
    dependent: str | None = None
    relationship: CodeableConcept | None = None
    period: Period | None = None
    payor: list[Reference] = Field(min_length=1)
    class_: list[CoverageClass] | None = Field(None, alias="class")
    order: PositiveInt | None = None
    network: str | None = None
    subrogation: bool | None = None


COVERAGE = registry.register(
    ResourceDefinition(
        type="Coverage",
        model=Coverage,
        description=(
            "A resident's insurance, above all JKN with BPJS Kesehatan (created and updated by "
            "`Patient/{id}/$eligibility`): `subscriberId` the card number, `class` the benefit class, `period` "
            "the validity."
        ),
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier, such as the BPJS card number",
                codes("identifier"),
                example="0001234567890",
            ),
            SearchParameter(
                "status",
                SearchType.TOKEN,
                "active | cancelled | draft | entered-in-error",
                codes("status"),
                example="active",
            ),
            SearchParameter("type", SearchType.TOKEN, "The kind of coverage", codes("type"), example="PUBLICPOL"),
            SearchParameter(
                "class-value",
                SearchType.TOKEN,
                "A class's value, e.g. the kelas (1, 2, 3)",
                codes("class.value"),
                example="3",
            ),
            SearchParameter(
                "beneficiary",
                SearchType.REFERENCE,
                "The resident covered",
                references("beneficiary"),
                targets=("Patient",),
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident covered", references("beneficiary"), targets=("Patient",)
            ),
            SearchParameter(
                "subscriber",
                SearchType.REFERENCE,
                "Who holds the policy's membership",
                references("subscriber"),
                targets=("Patient", "RelatedPerson"),
            ),
            SearchParameter(
                "policy-holder",
                SearchType.REFERENCE,
                "Who owns the policy",
                references("policyHolder"),
                targets=("Patient", "RelatedPerson", "Organization"),
            ),
            SearchParameter(
                "payor",
                SearchType.REFERENCE,
                "Who pays: BPJS Kesehatan",
                references("payor"),
                targets=("Organization",),
            ),
        ),
        compartment=("beneficiary",),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
