"""Encounter: one visit of a resident (a posyandu open day, a home visit, a pustu or puskesmas consultation).

Every reference an Encounter may hold is a search parameter, so each is checked on write: the subject is a
stored Patient, the participants are stored practitioners or roles, the locations and the service provider are
stored facilities, the episodes stored EpisodeOfCare and ``basedOn`` stored ServiceRequests (the visit in which a
referred resident is seen names the referral, profile §7). The klaster that served the visit is a ``type`` coding
of the project's klaster CodeSystem, searched by ``klaster``. The visit belongs to its patient's compartment (FHIR
R4's Patient CompartmentDefinition); a client sees it when it sees the patient, or when the visit took place at one
of its own facilities.
"""

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import CodeableConcept, Coding, HasExtensions, Identifier, Period, Reference, Resource
from ilp_api.fhir.registry import (
    ANY_SYSTEM,
    Json,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    Token,
    codes,
    dates,
    references,
    registry,
    tokens_of,
    walk,
)
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# The project's klaster CodeSystem lies under the canonical base, a setting: its url is known by how it ends.
KLASTER_SYSTEM_PATH = "/CodeSystem/klaster"
KLASTER_PREFIX = "klaster-"


class EncounterParticipant(HasExtensions):
    type: list[CodeableConcept] | None = None
    period: Period | None = None
    individual: Reference | None = None


class EncounterLocation(HasExtensions):
    location: Reference
    status: Literal["planned", "active", "reserved", "completed"] | None = None
    period: Period | None = None


class Encounter(Resource):
    identifier: list[Identifier] | None = None
    status: Literal[
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    ]
    class_: Coding = Field(alias="class")
    type: list[CodeableConcept] | None = None
    service_type: CodeableConcept | None = Field(None, alias="serviceType")
    priority: CodeableConcept | None = None
    # Required here, unlike in R4: a visit is always a resident's.
    subject: Reference
    episode_of_care: list[Reference] | None = Field(None, alias="episodeOfCare")
    based_on: list[Reference] | None = Field(None, alias="basedOn")
    participant: list[EncounterParticipant] | None = None
    period: Period | None = None
    reason_code: list[CodeableConcept] | None = Field(None, alias="reasonCode")
    location: list[EncounterLocation] | None = None
    service_provider: Reference | None = Field(None, alias="serviceProvider")


def klaster_codes(encounter: Json) -> Iterator[Token]:
    """The visit's type codings from the project's klaster CodeSystem: ``klaster-2`` to ``klaster-5`` (klaster 1,
    Manajemen, serves no visit). Indexed as written, and by the klaster's number too, so that both
    ``klaster=klaster-3`` and ``klaster=3`` find a klaster-3 visit."""
    for coding in walk(encounter, "type.coding"):
        if coding.get("system", "").endswith(KLASTER_SYSTEM_PATH):
            for token in tokens_of(coding):
                yield token
                if token.code.startswith(KLASTER_PREFIX):
                    yield token._replace(code=token.code.removeprefix(KLASTER_PREFIX))


registry.register(
    ResourceDefinition(
        type="Encounter",
        model=Encounter,
        # A visit's business identifier names it once: the same visit sent again is the same Encounter.
        unique_identifier_systems=ANY_SYSTEM,
        held_elsewhere_advice="the visit was recorded by another organization",
        description=(
            f"A visit of a resident: class `AMB` for a visit at a posyandu, pustu or puskesmas, `HH` for a home "
            f"visit ({ACT_CODE}); `serviceProvider` is the facility, `participant` the kader and nakes."
        ),
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "The client application's business identifier of the visit",
                codes("identifier"),
                example="https://posyandu.example/visit|V-2026-0001",
            ),
            SearchParameter(
                "status", SearchType.TOKEN, "planned | in-progress | finished | …", codes("status"), example="finished"
            ),
            SearchParameter("class", SearchType.TOKEN, "AMB or HH (home visit)", codes("class"), example="HH"),
            SearchParameter("type", SearchType.TOKEN, "Kind of visit", codes("type"), example="posyandu"),
            SearchParameter(
                "klaster",
                SearchType.TOKEN,
                "The klaster that served the visit: the code of a type coding from the project's klaster "
                "CodeSystem (its url ends in /CodeSystem/klaster), `klaster-2` to `klaster-5` or just its number "
                "(`3`), or as system|code",
                klaster_codes,
                example="klaster-3",
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "The resident visited", references("subject"), targets=("Patient",)
            ),
            SearchParameter("date", SearchType.DATE, "When the visit took place (Encounter.period)", dates("period")),
            SearchParameter(
                "episode-of-care",
                SearchType.REFERENCE,
                "An episode the visit belongs to, such as a klaster assignment or a pregnancy",
                references("episodeOfCare"),
                targets=("EpisodeOfCare",),
            ),
            SearchParameter(
                "based-on",
                SearchType.REFERENCE,
                "The referral or other request the visit answers",
                references("basedOn"),
                targets=("ServiceRequest",),
            ),
            SearchParameter(
                "participant",
                SearchType.REFERENCE,
                "A kader or nakes who took part",
                references("participant.individual"),
                targets=("Practitioner", "PractitionerRole"),
            ),
            SearchParameter(
                "location",
                SearchType.REFERENCE,
                "Where the visit took place",
                references("location.location"),
                targets=("Location",),
            ),
            SearchParameter(
                "service-provider",
                SearchType.REFERENCE,
                "The posyandu, pustu or puskesmas responsible for the visit",
                references("serviceProvider"),
                targets=("Organization",),
            ),
        ),
        compartment=("patient",),
        scope_rules=(InPatientCompartment(), ReferencesSubtree("service-provider")),
        patient_data=True,
    )
)
