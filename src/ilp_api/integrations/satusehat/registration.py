"""SATUSEHAT as a destination of the outbox: registered when this module is imported (wiring.load_definitions
imports it), so that ``ilp worker``, the operations view, the metrics and the read side know it. Its write hook is
installed with the outbox's ``enqueue`` by wiring.build_pipeline, and only when the integration is configured."""

from ilp_api.db.engine import Database
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.outbox.registry import Registration, destinations
from ilp_api.integrations.outbox.repository import remote_ids
from ilp_api.integrations.satusehat.config import remote_identifier_system
from ilp_api.integrations.satusehat.destination import DESTINATION, SatusehatDestination
from ilp_api.integrations.satusehat.mapping import SENT_TYPES
from ilp_api.settings import Settings

# The local types SATUSEHAT gives ids to: only their reads look the ids up.
GIVEN_IDS = frozenset({"Patient", "Practitioner", "Organization", "Location", "Encounter", *SENT_TYPES})


def build(database: Database, settings: Settings, service: ResourceService) -> SatusehatDestination:
    return SatusehatDestination(database, service, settings, remote_ids=remote_ids)


def identifier_system(resource_type: str, canonical_base: str) -> str | None:
    return remote_identifier_system(resource_type, canonical_base) if resource_type in GIVEN_IDS else None


destinations.register(Registration(DESTINATION, build, identifier_system))
