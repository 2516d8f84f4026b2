"""The ids the destinations gave local resources, shown as identifiers when those resources are read (the
``ExternalIdentifiers`` of fhir/shown_identifiers.py), each under the system its destination registered for the
type. Types no destination registered a system for cost no query."""

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy.orm import Session

from ilp_api.fhir.registry import Json, Ref
from ilp_api.integrations.outbox import repository
from ilp_api.integrations.outbox.registry import DestinationRegistry


class RemoteIdentifiers:
    def __init__(self, registry: DestinationRegistry, canonical_base: str) -> None:
        self.registry = registry
        self.canonical_base = canonical_base

    def __call__(self, session: Session, resources: Collection[Ref]) -> Mapping[Ref, Sequence[Json]]:
        systems = {
            (registration.name, resource_type): system
            for registration in self.registry
            for resource_type in {ref.type for ref in resources}
            if (system := registration.identifier_system(resource_type, self.canonical_base)) is not None
        }
        wanted = {(ref.type, ref.id) for ref in resources if any(t == ref.type for _, t in systems)}
        if not wanted:
            return {}
        shown: dict[Ref, list[Json]] = {}
        names = {name for name, _ in systems}
        for destination, resource_type, resource_id, remote_id in repository.remote_ids_of(session, names, wanted):
            system = systems.get((destination, resource_type))
            if system is not None:
                shown.setdefault(Ref(resource_type, resource_id), []).append({"system": system, "value": remote_id})
        return shown
