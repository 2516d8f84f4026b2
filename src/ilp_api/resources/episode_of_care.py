"""EpisodeOfCare: a stretch of care a facility takes on for a resident, such as a klaster assignment or a pregnancy.

ILP keeps one episode per klaster that serves a resident (profile §3): its ``type`` is a code of the project's
klaster CodeSystem, ``{canonical}/CodeSystem/klaster`` (``klaster-2``, ``klaster-3`` or ``klaster-4``), or
``kehamilan`` for a pregnancy followed from ANC to nifas. Two extensions on the episode, generic ``extension``
elements, say why it exists:

- ``{canonical}/StructureDefinition/klaster-role``, ``valueCode``: the klaster's role, ``primary``, ``screening``
  or ``surveillance``;
- ``{canonical}/StructureDefinition/rule``, ``valueString``, repeating: the ids of the profile's rules that
  assigned it (e.g. ``3-R5-skrining-ibu``).

``{canonical}`` is ``ILP_CANONICAL_BASE``. As for Encounter, every reference is a search parameter and so checked
on write. R4's ``team`` and ``account`` are left out: the API serves neither CareTeam nor Account, so a reference
to one could not be checked. An episode belongs to its patient's compartment (FHIR R4's Patient
CompartmentDefinition); a client sees it when it sees the patient, or when one of its facilities manages it.
"""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import CodeableConcept, HasExtensions, Identifier, Period, PositiveInt, Reference, Resource
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, dates, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree

EpisodeStatus = Literal["planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"]


class EpisodeOfCareStatusHistory(HasExtensions):
    status: EpisodeStatus
    period: Period


class EpisodeOfCareDiagnosis(HasExtensions):
    condition: Reference
    role: CodeableConcept | None = None
    rank: PositiveInt | None = None


class EpisodeOfCare(Resource):
    identifier: list[Identifier] | None = None
    status: EpisodeStatus
    status_history: list[EpisodeOfCareStatusHistory] | None = Field(None, alias="statusHistory")
    type: list[CodeableConcept] | None = None
    diagnosis: list[EpisodeOfCareDiagnosis] | None = None
    patient: Reference
    managing_organization: Reference | None = Field(None, alias="managingOrganization")
    period: Period | None = None
    referral_request: list[Reference] | None = Field(None, alias="referralRequest")
    care_manager: Reference | None = Field(None, alias="careManager")


registry.register(
    ResourceDefinition(
        type="EpisodeOfCare",
        model=EpisodeOfCare,
        description=(
            "A stretch of care for a resident: a klaster assignment (type `klaster-2`, `klaster-3`, `klaster-4` "
            "of the project's klaster CodeSystem) or a pregnancy (`kehamilan`); `managingOrganization` is the "
            "facility that takes it on."
        ),
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier of the episode",
                codes("identifier"),
                example="https://puskesmas-app.example/episode|E-0001",
            ),
            SearchParameter(
                "status", SearchType.TOKEN, "planned | active | finished | …", codes("status"), example="active"
            ),
            SearchParameter("type", SearchType.TOKEN, "The klaster, or kehamilan", codes("type"), example="klaster-3"),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident cared for", references("patient"), targets=("Patient",)
            ),
            SearchParameter(
                "organization",
                SearchType.REFERENCE,
                "The facility that manages the episode",
                references("managingOrganization"),
                targets=("Organization",),
            ),
            SearchParameter("date", SearchType.DATE, "When the episode runs (EpisodeOfCare.period)", dates("period")),
            SearchParameter(
                "condition",
                SearchType.REFERENCE,
                "A condition the episode is about",
                references("diagnosis.condition"),
                targets=("Condition",),
            ),
            SearchParameter(
                "incoming-referral",
                SearchType.REFERENCE,
                "The referral that started the episode",
                references("referralRequest"),
                targets=("ServiceRequest",),
            ),
            SearchParameter(
                "care-manager",
                SearchType.REFERENCE,
                "The nakes who coordinates the care",
                references("careManager"),
                targets=("Practitioner", "PractitionerRole"),
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(), ReferencesSubtree("organization")),
        patient_data=True,
    )
)
