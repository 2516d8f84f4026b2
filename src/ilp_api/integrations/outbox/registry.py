"""The destinations the outbox delivers to, by name: each integration registers its own when imported (wiring.py
imports them), so that the worker, the operations view and the read side know none of them by name."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.destination import Destination
from ilp_api.settings import Settings


@dataclass(frozen=True)
class Registration:
    name: str
    # Builds the destination for a worker (it reads what it needs from the database, in sessions of its own).
    build: Callable[[Database, Settings], Destination]
    # Local resource type → the identifier system under which a read shows the id this destination gave it.
    identifier_systems: Mapping[str, str] = field(default_factory=dict)


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
