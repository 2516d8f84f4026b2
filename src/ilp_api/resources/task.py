"""Task: work to be done for a resident, such as acting on a referral or a follow-up (tindak lanjut, profile §7).

A referral travels as a ServiceRequest (``focus`` and ``basedOn``) with a Task that tracks it: ``requester`` the
facility that refers, ``owner`` the facility that is to act, ``businessStatus`` the referral's own states
(``dibuat``, ``dikirim``, ``diterima``, ``selesai``, ``rujuk-balik``). ``for`` is the resident: a Task for anything
else is refused, and ``patient`` and ``subject`` both search it. How a Task moves, who may move it and how its
businessStatus follows: resources/task_workflow.py.

As for Encounter, every reference is a search parameter and so checked on write; those R4 does not search
(``reasonReference``, ``restriction.recipient``, and references given as input or output) get parameters of the
project's for that reason. R4 leaves Task out of the Patient CompartmentDefinition; the project adds it through
``Task.for``. A client sees a Task when it sees the resident, and when one of its facilities sent it or is to act
on it, so that a referral reaches the facility it is addressed to.
"""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    OPEN_TYPES,
    Annotation,
    CodeableConcept,
    FhirDateTime,
    HasExtensions,
    Identifier,
    Period,
    PositiveInt,
    Reference,
    Resource,
    Uri,
    choice,
)
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, dates, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree
from ilp_api.resources.task_workflow import apply_task_rules

# What a Task's input and output may hold: R4 types their value[x] as anything, like an extension's.
Value = choice("value", required=True, **OPEN_TYPES)


class TaskRestriction(HasExtensions):
    repetitions: PositiveInt | None = None
    period: Period | None = None
    recipient: list[Reference] | None = None


class TaskInputOutput(HasExtensions, Value):  # type: ignore[misc, valid-type]
    """One input or output of a Task (R4 gives both the same shape): what it is, and its value."""

    type: CodeableConcept


class Task(Resource):
    identifier: list[Identifier] | None = None
    instantiates_canonical: Uri | None = Field(None, alias="instantiatesCanonical")
    based_on: list[Reference] | None = Field(None, alias="basedOn")
    group_identifier: Identifier | None = Field(None, alias="groupIdentifier")
    part_of: list[Reference] | None = Field(None, alias="partOf")
    status: Literal[
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    ]
    status_reason: CodeableConcept | None = Field(None, alias="statusReason")
    business_status: CodeableConcept | None = Field(None, alias="businessStatus")
    intent: Literal[
        "unknown",
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    ]
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None
    code: CodeableConcept | None = None
    description: str | None = None
    focus: Reference | None = None
    for_: Reference | None = Field(None, alias="for")
    encounter: Reference | None = None
    execution_period: Period | None = Field(None, alias="executionPeriod")
    authored_on: FhirDateTime | None = Field(None, alias="authoredOn")
    last_modified: FhirDateTime | None = Field(None, alias="lastModified")
    requester: Reference | None = None
    performer_type: list[CodeableConcept] | None = Field(None, alias="performerType")
    owner: Reference | None = None
    reason_code: CodeableConcept | None = Field(None, alias="reasonCode")
    reason_reference: Reference | None = Field(None, alias="reasonReference")
    note: list[Annotation] | None = None
    restriction: TaskRestriction | None = None
    input: list[TaskInputOutput] | None = None
    output: list[TaskInputOutput] | None = None


# Who may ask for a Task, act on one or be its recipient: a facility, a nakes or kader, or the resident.
PARTIES = ("Organization", "Practitioner", "PractitionerRole", "Patient")
# What a Task may be about or carry, among the types the API stores.
CLINICAL_TYPES = ("ServiceRequest", "Task", "Encounter", "EpisodeOfCare", "Condition", "Observation")

TASK = registry.register(
    ResourceDefinition(
        type="Task",
        model=Task,
        description=(
            "Work to be done for a resident, such as acting on a referral (`focus` its ServiceRequest, `owner` the "
            "facility referred to, `businessStatus` the referral's state) or a follow-up."
        ),
        apply_rules=apply_task_rules,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier",
                codes("identifier"),
                example="https://puskesmas-app.example/task|T-0001",
            ),
            SearchParameter(
                "group-identifier",
                SearchType.TOKEN,
                "The identifier shared by the Tasks of one request",
                codes("groupIdentifier"),
                example="https://puskesmas-app.example/task-group|G-0001",
            ),
            SearchParameter(
                "status", SearchType.TOKEN, "requested | accepted | completed | …", codes("status"), example="requested"
            ),
            SearchParameter(
                "business-status",
                SearchType.TOKEN,
                "Where the work stands in the project's terms, e.g. a referral's dikirim or diterima",
                codes("businessStatus"),
                example="diterima",
            ),
            SearchParameter(
                "intent", SearchType.TOKEN, "proposal | plan | order | …", codes("intent"), example="order"
            ),
            SearchParameter(
                "priority", SearchType.TOKEN, "routine | urgent | asap | stat", codes("priority"), example="urgent"
            ),
            SearchParameter("code", SearchType.TOKEN, "What is to be done", codes("code"), example="fulfill"),
            SearchParameter(
                "focus", SearchType.REFERENCE, "What the work acts on", references("focus"), targets=CLINICAL_TYPES
            ),
            SearchParameter(
                "based-on",
                SearchType.REFERENCE,
                "The request it fulfils",
                references("basedOn"),
                targets=("ServiceRequest",),
            ),
            SearchParameter(
                "part-of",
                SearchType.REFERENCE,
                "The larger Task it is part of",
                references("partOf"),
                targets=("Task",),
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident it is for", references("for"), targets=("Patient",)
            ),
            SearchParameter(
                "subject",
                SearchType.REFERENCE,
                "Who it is for (always a resident here)",
                references("for"),
                targets=("Patient",),
            ),
            SearchParameter(
                "encounter",
                SearchType.REFERENCE,
                "The visit it was created in",
                references("encounter"),
                targets=("Encounter",),
            ),
            SearchParameter(
                "requester", SearchType.REFERENCE, "Who asks for it", references("requester"), targets=PARTIES
            ),
            SearchParameter("owner", SearchType.REFERENCE, "Who is to do it", references("owner"), targets=PARTIES),
            SearchParameter("authored-on", SearchType.DATE, "When it was created", dates("authoredOn")),
            SearchParameter("modified", SearchType.DATE, "When it was last changed", dates("lastModified")),
            SearchParameter("period", SearchType.DATE, "When the work is done", dates("executionPeriod")),
            SearchParameter(
                "reason-reference",
                SearchType.REFERENCE,
                "Why it is to be done (not an R4 parameter of Task: it is here so that the reference is checked)",
                references("reasonReference"),
                targets=("Condition", "Observation"),
            ),
            SearchParameter(
                "restriction-recipient",
                SearchType.REFERENCE,
                "For whom the work is done (not an R4 parameter: it is here so that the reference is checked)",
                references("restriction.recipient"),
                targets=PARTIES,
            ),
            SearchParameter(
                "input-reference",
                SearchType.REFERENCE,
                "A resource given as input (not an R4 parameter: it is here so that the reference is checked)",
                references("input.valueReference"),
                targets=CLINICAL_TYPES,
            ),
            SearchParameter(
                "output-reference",
                SearchType.REFERENCE,
                "A resource the work produced (not an R4 parameter: it is here so that the reference is checked)",
                references("output.valueReference"),
                targets=CLINICAL_TYPES,
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(), ReferencesSubtree("owner"), ReferencesSubtree("requester")),
        patient_data=True,
    )
)
