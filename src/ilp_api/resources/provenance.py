"""Provenance: who recorded what, for whom, when; above all a puskesmas recording a referral hospital's answer on
its behalf (resources/task_workflow.py).

``target`` names the records the activity wrote (a Task, or one version of it, ``Task/{id}/_history/{n}``),
``agent`` who took part: ``who`` recorded it, ``onBehalfOf`` the organization whose decision it was. As for
Encounter, every reference is a search parameter and so checked on write; ``onBehalfOf`` has none in R4 and gets
one of the project's for that reason.

A Provenance belongs to the compartment of the resident whose record its targets are. R4 finds that only for a
Patient target (the ``patient`` parameter); R5 adds the element ``Provenance.patient``. The server records it in
R5's element as an R4 extension (the cross-version ``extension-Provenance.patient``), from the targets, whatever
the client sends: so the Provenance of a Task is seen by everyone who sees the resident, found by ``patient`` and
returned by ``$everything``. It is also seen by the organizations of its agents.
"""

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from ilp_api.fhir.compartment import COMPARTMENT_TYPE, membership
from ilp_api.fhir.datatypes import (
    CodeableConcept,
    FhirDateTime,
    HasExtensions,
    Instant,
    Period,
    Reference,
    Resource,
    Uri,
    choice,
)
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.registry import (
    Json,
    Ref,
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
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree

PATIENT_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Provenance.patient"
# What a Provenance may be about: the records the API stores.
RECORDS = (
    "Task",
    "ServiceRequest",
    "Encounter",
    "Observation",
    "Condition",
    "EpisodeOfCare",
    "QuestionnaireResponse",
    "Patient",
    "Organization",
    "Location",
    "Practitioner",
    "PractitionerRole",
)
# Who may take part in an activity (R4's agent.who and onBehalfOf, among the types the API stores).
AGENTS = ("Organization", "Practitioner", "PractitionerRole", "Patient")

Occurred = choice("occurred", Period=Period, DateTime=FhirDateTime)


class ProvenanceAgent(HasExtensions):
    type: CodeableConcept | None = None
    role: list[CodeableConcept] | None = None
    who: Reference
    on_behalf_of: Reference | None = Field(None, alias="onBehalfOf")


class ProvenanceEntity(HasExtensions):
    role: Literal["derivation", "revision", "quotation", "source", "removal"]
    what: Reference
    agent: list[ProvenanceAgent] | None = None


class Provenance(Resource, Occurred):  # type: ignore[misc, valid-type]
    target: list[Reference]
    recorded: Instant
    policy: list[Uri] | None = None
    location: Reference | None = None
    reason: list[CodeableConcept] | None = None
    activity: CodeableConcept | None = None
    agent: list[ProvenanceAgent]
    entity: list[ProvenanceEntity] | None = None


def apply_provenance_rules(context: WriteContext, provenance: Provenance, data: Json) -> Json:
    """Records the resident the targets belong to (R5's ``Provenance.patient``), refusing targets of several."""
    residents = sorted(_residents_of_targets(context, data))
    if len(residents) > 1:
        raise Unprocessable(
            f"A Provenance is about one resident's record, but its targets belong to "
            f"{' and '.join(f'{COMPARTMENT_TYPE}/{resident}' for resident in residents)}: record one per resident",
            expression="Provenance.target",
        )
    extensions = [e for e in data.get("extension", []) if e.get("url") != PATIENT_EXTENSION]
    extensions += [
        {"url": PATIENT_EXTENSION, "valueReference": {"reference": f"{COMPARTMENT_TYPE}/{resident}"}}
        for resident in residents
    ]
    if extensions:
        data["extension"] = extensions
    else:
        data.pop("extension", None)
    return data


def _residents_of_targets(context: WriteContext, data: Json) -> set[str]:
    """The patients whose compartments the targets belong to, as far as the caller sees them (a target it cannot
    see is refused afterwards, when the references are checked)."""
    residents: set[str] = set()
    for target in data["target"]:
        reference = parse_reference(target.get("reference", ""))
        definition = registry.get(reference.type) if reference else None
        record = context.read(reference) if reference and definition else None
        if definition is not None and record is not None:
            belongs = membership(definition, record["id"], record)
            residents |= belongs.patients if belongs else set()
    return residents


def patients(provenance: Json) -> Iterator[Ref]:
    """R4's ``patient``: the targets that are Patients; and the resident the server recorded (R5's element)."""
    for target in references("target")(provenance):
        if target.type == COMPARTMENT_TYPE:
            yield target
    for extension in provenance.get("extension", []):
        recorded = parse_reference(extension.get("valueReference", {}).get("reference", ""))
        if extension.get("url") == PATIENT_EXTENSION and recorded is not None:
            yield recorded


PROVENANCE = registry.register(
    ResourceDefinition(
        type="Provenance",
        model=Provenance,
        description=(
            "Who recorded what, for whom: `target` the records written, `agent.who` who recorded them, "
            "`agent.onBehalfOf` whose decision it was (a referral hospital's answer recorded by the puskesmas)."
        ),
        apply_rules=apply_provenance_rules,
        search_parameters=(
            SearchParameter(
                "target", SearchType.REFERENCE, "A record the activity wrote", references("target"), targets=RECORDS
            ),
            SearchParameter(
                "patient",
                SearchType.REFERENCE,
                "The resident whose record the targets are (a Patient target, or the resident the server recorded "
                "from the targets)",
                patients,
                targets=(COMPARTMENT_TYPE,),
            ),
            SearchParameter("agent", SearchType.REFERENCE, "Who took part", references("agent.who"), targets=AGENTS),
            SearchParameter(
                "on-behalf-of",
                SearchType.REFERENCE,
                "Whose decision or work an agent recorded (not an R4 parameter: it is here so that the reference is "
                "checked)",
                references("agent.onBehalfOf"),
                targets=AGENTS,
            ),
            SearchParameter(
                "agent-type",
                SearchType.TOKEN,
                "How an agent took part",
                codes("agent.type"),
                example="http://terminology.hl7.org/CodeSystem/provenance-participant-type|enterer",
            ),
            SearchParameter(
                "agent-role",
                SearchType.TOKEN,
                "The role an agent played",
                codes("agent.role"),
                example="http://terminology.hl7.org/CodeSystem/v3-ParticipationType|AUT",
            ),
            SearchParameter(
                "entity",
                SearchType.REFERENCE,
                "A record the activity used",
                references("entity.what"),
                targets=RECORDS,
            ),
            SearchParameter(
                "location", SearchType.REFERENCE, "Where it took place", references("location"), targets=("Location",)
            ),
            SearchParameter("recorded", SearchType.DATE, "When it was recorded", dates("recorded")),
            SearchParameter(
                "when", SearchType.DATE, "When the activity took place", dates("occurredDateTime", "occurredPeriod")
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(), ReferencesSubtree("agent"), ReferencesSubtree("on-behalf-of")),
        patient_data=True,
    )
)
