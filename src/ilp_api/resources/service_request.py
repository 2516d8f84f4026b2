"""ServiceRequest: a service asked for a resident, above all a referral (rujukan, profile §7).

A referral's ``requester`` is the facility (or nakes) that refers, its ``performer`` the facility referred to and
its ``performerType`` that facility's kind (``puskesmas``, ``fkrtl``: enough while the facility is not known yet),
its identifier under ``http://sys-ids.kemkes.go.id/servicerequest/{organization}``; the Encounter in which the
resident is seen again names it in ``basedOn``. As for Encounter, every reference is a search parameter and so
checked on write (``supportingInfo`` has none in R4 and gets one of the project's for that reason). A request
belongs to the compartment of its subject and of a performing Patient (FHIR R4's Patient CompartmentDefinition);
a client sees it when it sees the patient, or when one of its facilities refers or is referred to.
"""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Annotation,
    CodeableConcept,
    FhirDateTime,
    Identifier,
    Period,
    Reference,
    Resource,
    Timing,
    choice,
)
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, dates, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree

Occurrence = choice("occurrence", DateTime=FhirDateTime, Period=Period, Timing=Timing)


class ServiceRequest(Resource, Occurrence):  # type: ignore[misc, valid-type]
    identifier: list[Identifier] | None = None
    based_on: list[Reference] | None = Field(None, alias="basedOn")
    replaces: list[Reference] | None = None
    requisition: Identifier | None = None
    status: Literal["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]
    intent: Literal[
        "proposal",
        "plan",
        "directive",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    ]
    category: list[CodeableConcept] | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None
    code: CodeableConcept | None = None
    # Required here, unlike in R4: every ILP request is for a resident.
    subject: Reference
    encounter: Reference | None = None
    authored_on: FhirDateTime | None = Field(None, alias="authoredOn")
    requester: Reference | None = None
    performer_type: CodeableConcept | None = Field(None, alias="performerType")
    performer: list[Reference] | None = None
    reason_code: list[CodeableConcept] | None = Field(None, alias="reasonCode")
    reason_reference: list[Reference] | None = Field(None, alias="reasonReference")
    supporting_info: list[Reference] | None = Field(None, alias="supportingInfo")
    note: list[Annotation] | None = None
    patient_instruction: str | None = Field(None, alias="patientInstruction")


SERVICE_REQUEST = registry.register(
    ResourceDefinition(
        type="ServiceRequest",
        model=ServiceRequest,
        description=(
            "A service asked for a resident, above all a referral: `requester` the referring facility, "
            "`performer` the facility referred to, `priority` the urgency."
        ),
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier, such as the referral number",
                codes("identifier"),
                example="http://sys-ids.kemkes.go.id/servicerequest/100011|R-0001",
            ),
            SearchParameter(
                "status", SearchType.TOKEN, "draft | active | completed | …", codes("status"), example="active"
            ),
            SearchParameter(
                "intent", SearchType.TOKEN, "proposal | plan | order | …", codes("intent"), example="order"
            ),
            SearchParameter(
                "category",
                SearchType.TOKEN,
                "The kind of request (a referral: SNOMED CT 3457005, Patient referral)",
                codes("category"),
                example="http://snomed.info/sct|3457005",
            ),
            SearchParameter(
                "code", SearchType.TOKEN, "What is asked for", codes("code"), example="http://snomed.info/sct|306206005"
            ),
            SearchParameter(
                "priority", SearchType.TOKEN, "routine | urgent | asap | stat", codes("priority"), example="urgent"
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident it is for", references("subject"), targets=("Patient",)
            ),
            SearchParameter(
                "subject",
                SearchType.REFERENCE,
                "Who it is for (always a resident here)",
                references("subject"),
                targets=("Patient",),
            ),
            SearchParameter(
                "encounter",
                SearchType.REFERENCE,
                "The visit it was asked in",
                references("encounter"),
                targets=("Encounter",),
            ),
            SearchParameter(
                "requester",
                SearchType.REFERENCE,
                "Who asks for it: the referring facility or nakes",
                references("requester"),
                targets=("Organization", "Practitioner", "PractitionerRole", "Patient"),
            ),
            SearchParameter(
                "performer",
                SearchType.REFERENCE,
                "Who is asked to do it: the facility or nakes referred to",
                references("performer"),
                targets=("Organization", "Practitioner", "PractitionerRole", "Patient"),
            ),
            SearchParameter(
                "performer-type",
                SearchType.TOKEN,
                "The kind of facility or nakes asked for, e.g. a referral's target tier",
                codes("performerType"),
                example="puskesmas",
            ),
            SearchParameter("authored", SearchType.DATE, "When it was asked", dates("authoredOn")),
            SearchParameter(
                "occurrence",
                SearchType.DATE,
                "When it is to happen (occurrence[x]; a Timing by its events)",
                dates("occurrenceDateTime", "occurrencePeriod", "occurrenceTiming.event"),
            ),
            SearchParameter(
                "based-on",
                SearchType.REFERENCE,
                "The request it fulfils",
                references("basedOn"),
                targets=("ServiceRequest",),
            ),
            SearchParameter(
                "replaces",
                SearchType.REFERENCE,
                "The request it takes the place of",
                references("replaces"),
                targets=("ServiceRequest",),
            ),
            SearchParameter(
                "reason-reference",
                SearchType.REFERENCE,
                "The finding or problem that calls for it",
                references("reasonReference"),
                targets=("Condition", "Observation"),
            ),
            SearchParameter(
                "supporting-info",
                SearchType.REFERENCE,
                "What the performer should know, such as the visit's findings (not an R4 parameter: it is here so "
                "that the reference is checked on write)",
                references("supportingInfo"),
                targets=("Observation", "Condition", "Encounter", "EpisodeOfCare"),
            ),
        ),
        compartment=("patient", "performer"),
        scope_rules=(InPatientCompartment(), ReferencesSubtree("requester"), ReferencesSubtree("performer")),
        patient_data=True,
    )
)
