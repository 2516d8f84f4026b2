"""The destinations the outbox delivers to, by name: each integration registers its own when imported (wiring.py
imports them), so that the worker, the operations view and the read side know none of them by name."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ilp_api.db.engine import Database
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.outbox.destination import Destination
from ilp_api.settings import Settings


def no_identifier_system(resource_type: str, canonical_base: str) -> str | None:
    return None


@dataclass(frozen=True)
class Registration:
    name: str
    # Builds the destination for a worker (it reads what it needs from the database, in sessions of its own,
    # searching through the service as configured).
    build: Callable[[Database, Settings, ResourceService], Destination]
    # The identifier system under which a read shows the id this destination gave a local resource of a type,
    # given the canonical base; None: not shown.
    identifier_system: Callable[[str, str], str | None] = no_identifier_system


class DestinationRegistry:
    def __init__(self) -> None:
        self._registrations: dict[str, Registration] = {}

    def register(self, registration: Registration) -> Registration:
        if registration.name in self._registrations:
            raise ValueError(f"an outbox destination named {registration.name!r} is registered already")
        self._registrations[registration.name] = registration
        return registration

    def unregister(self, name: str) -> None:
        del self._registrations[name]

    def get(self, name: str) -> Registration | None:
        return self._registrations.get(name)

    def names(self) -> list[str]:
        return sorted(self._registrations)

    def __iter__(self) -> Iterator[Registration]:
        return iter([self._registrations[name] for name in self.names()])


destinations = DestinationRegistry()
