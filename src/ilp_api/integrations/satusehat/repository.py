"""What a SATUSEHAT delivery reads from the local store (in one short read-only session, no client's scope): a
stored visit and its people and places, and the supervising nakes configured for a posyandu."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ilp_api.db.base import utc_now
from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.registry import Json, Ref, parse_reference, registry
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.satusehat.mapping import StoredVisit
from ilp_api.integrations.tables import SatusehatSupervisorRow
from ilp_api.resources.organization import network_above

# The types whose ``encounter`` search parameter finds what a visit holds (EpisodeOfCare is named by the Encounter).
VISIT_PARTS = ("Observation", "Condition", "QuestionnaireResponse", "ServiceRequest", "Immunization", "Task")
PAGE = 500  # more than one visit holds of any one type


@dataclass(frozen=True)
class Participant:
    practitioner: Json
    roles: tuple[str, ...]  # the peran codes of the practitioner's roles (kader, bidan, …)

    @property
    def kader(self) -> bool:
        """A kader only (no nakes role): kader have no IHS number."""
        return bool(self.roles) and all(role == "kader" for role in self.roles)


@dataclass(frozen=True)
class VisitRecord:
    visit: StoredVisit
    patient: Json
    participants: tuple[Participant, ...]
    network: tuple[Json, ...]  # the service provider, then each organization above it
    location: Json | None  # the local Location the visit took place at (or its facility's), with a position
    supervisor_ihs: str | None  # for the provider or the nearest organization above it


class SatusehatRepository:
    def __init__(self, session: Session, service: ResourceService) -> None:
        self.session = session
        self.service = service
        self.resources = ResourceRepository(session)

    def read(self, reference: Ref) -> Json | None:
        stored = self.resources.get(reference.type, reference.id)
        return None if stored is None or stored.deleted else fhir_json.loads(stored.content)

    def read_reference(self, element: Json | None) -> Json | None:
        reference = parse_reference((element or {}).get("reference", ""))
        return self.read(reference) if reference is not None else None

    def search(self, resource_type: str, *query: tuple[str, str]) -> list[Json]:
        definition = registry.get(resource_type)
        assert definition is not None, resource_type
        page, _, _ = self.service.search(self.resources, definition, [("_count", str(PAGE)), *query])
        return [fhir_json.loads(stored.content) for stored in page.matches]

    def visit(self, encounter_id: str) -> VisitRecord | None:
        """The visit as stored now, or None when its Encounter is gone."""
        encounter = self.read(Ref("Encounter", encounter_id))
        patient = self.read_reference(encounter.get("subject")) if encounter else None
        if encounter is None or patient is None:
            return None
        parts = [r for kind in VISIT_PARTS for r in self.search(kind, ("encounter", f"Encounter/{encounter_id}"))]
        episodes = [self.read_reference(reference) for reference in encounter.get("episodeOfCare", [])]
        parts += [episode for episode in episodes if episode is not None]
        provider = self.read_reference(encounter.get("serviceProvider"))
        network = tuple(network_above(self, provider))
        return VisitRecord(
            visit=StoredVisit(encounter, tuple(parts)),
            patient=patient,
            participants=tuple(self._participants(encounter)),
            network=network,
            location=self._location(encounter, network[0] if network else None),
            supervisor_ihs=supervisor(self.session, [str(organization["id"]) for organization in network]),
        )

    def _participants(self, encounter: Json) -> list[Participant]:
        found: dict[str, Participant] = {}
        for participant in encounter.get("participant", []):
            individual = self.read_reference(participant.get("individual"))
            if individual is None:
                continue
            if individual["resourceType"] == "PractitionerRole":
                practitioner = self.read_reference(individual.get("practitioner"))
            else:
                practitioner = individual if individual["resourceType"] == "Practitioner" else None
            if practitioner is None or practitioner["id"] in found:
                continue
            roles = self.search("PractitionerRole", ("practitioner", f"Practitioner/{practitioner['id']}"))
            codes = tuple(
                c.get("code", "")
                for role in roles
                for concept in role.get("code", [])
                for c in concept.get("coding", [])
            )
            found[practitioner["id"]] = Participant(practitioner, codes)
        return list(found.values())

    def _location(self, encounter: Json, provider: Json | None) -> Json | None:
        named = [self.read_reference(entry.get("location")) for entry in encounter.get("location", [])]
        candidates = [location for location in named if location is not None]
        if provider is not None:
            candidates += self.search("Location", ("organization", f"Organization/{provider['id']}"))
        return next((location for location in candidates if _has_position(location)), None)


def supervisor(session: Session, organization_ids: Sequence[str]) -> str | None:
    """The supervising nakes' IHS number configured for the first of these organizations that has one."""
    for organization_id in organization_ids:
        row = session.get(SatusehatSupervisorRow, organization_id)
        if row is not None:
            return row.practitioner_ihs
    return None


def set_supervisor(session: Session, organization_id: str, practitioner_ihs: str) -> None:
    row = session.get(SatusehatSupervisorRow, organization_id)
    if row is None:
        row = SatusehatSupervisorRow(
            organization_id=organization_id, practitioner_ihs=practitioner_ihs, updated=utc_now()
        )
    else:
        row.practitioner_ihs, row.updated = practitioner_ihs, utc_now()
    session.add(row)
    session.flush()


def _has_position(location: Json) -> bool:
    position = location.get("position", {})
    return all(isinstance(position.get(axis), int | float) for axis in ("longitude", "latitude"))
