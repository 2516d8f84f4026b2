"""One transaction of an interaction, the changes written in it, and who made them.

The unit of work is what the pipeline (fhir/pipeline.py) opens for each interaction: the repository that sees
what the caller may see, the domain rules' context, and the list of every resource created, updated or deleted
so far, which the write hooks receive before the transaction commits.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from ilp_api.fhir.registry import Json, Ref, ResourceDefinition, WriteContext
from ilp_api.fhir.repository import ResourceRepository, SearchPage, Stored

WriteInteraction = Literal["create", "update", "delete"]
PURPOSE_HEADER = "X-Purpose-Of-Use"  # where a client states its purpose of use (an HL7 v3 ActReason code)


class RefusalLimit(Protocol):
    """How often the caller may be told that an identifier it sent is held outside its area.

    Each such refusal tells it that the identifier (a NIK) is registered somewhere: unlimited, that is an
    existence oracle. The limit is per client; security/refusals.py implements it and app.py installs it.
    """

    def check(self) -> None:
        """Raise TooManyRequests (429 with Retry-After) once the caller has used up its refusals."""

    def record(self) -> None:
        """Count one refusal."""


class Caller(Protocol):
    """The authenticated client an interaction acts for (security.auth.Principal)."""

    @property
    def client_id(self) -> str: ...

    @property
    def organization_id(self) -> str | None:
        """None only for ilp/admin clients, which see every organization's data."""

    def require(self, resource_type: str, permission: str) -> None:
        """Raise Forbidden unless the caller's SMART scopes allow ``permission`` (c r u d s) on the type."""

    def can(self, resource_type: str, permission: str) -> bool:
        """Whether the caller's SMART scopes allow ``permission`` (c r u d s) on the type."""


@dataclass(frozen=True)
class Origin:
    """Who asks, from where and why, as the audit trail records it."""

    caller: Caller
    source_ip: str | None
    purpose: str | None  # as stated in PURPOSE_HEADER, when well-formed
    path: str  # as sent, percent-encoded; a Bundle entry's own (/fhir/Patient/123)
    query: str | None

    def at(self, path: str) -> "Origin":
        """The same origin for a Bundle entry, audited with its own path."""
        return replace(self, path=path, query=None)


@dataclass(frozen=True)
class Access:
    """One access to audit: an interaction of ``origin``, its HTTP status, and the resources it touched."""

    origin: Origin
    interaction: str
    status: int
    entities: tuple[Ref, ...]


@dataclass(frozen=True)
class Change:
    """One resource written: its JSON before (None on a create) and after (None on a delete), and the version
    stored. Not to be modified."""

    resource_type: str
    id: str
    interaction: WriteInteraction
    before: Json | None
    after: Json | None
    stored: Stored


class Resources(Protocol):
    """Searches and stores resources through the domain rules, as a client's interactions would
    (fhir.service.ResourceService): for a write hook that derives resources from what was written."""

    def search(
        self, repository: ResourceRepository, definition: ResourceDefinition, query: Sequence[tuple[str, str]]
    ) -> tuple[SearchPage, int, int]: ...

    def create(
        self,
        unit: "UnitOfWork",
        definition: ResourceDefinition,
        body: bytes,
        if_none_exist: str | None = None,
        resource_id: str | None = None,
    ) -> object: ...

    def update(
        self, unit: "UnitOfWork", definition: ResourceDefinition, resource_id: str, body: bytes, if_match: str | None
    ) -> object: ...


@dataclass(frozen=True)
class UnitOfWork:
    """The repository, the rules' context and the refusal limit of one transaction, what it has written, and
    the accesses to audit once the write hooks have run; ``resources`` serves the write hooks."""

    repository: ResourceRepository
    rules: WriteContext
    resources: Resources
    identifier_refusals: RefusalLimit | None = None
    changes: list[Change] = field(default_factory=list)
    accesses: list[Access] = field(default_factory=list)

    def record(self, change: Change) -> None:
        self.changes.append(change)

    def audit(self, access: Access) -> None:
        self.accesses.append(access)

    def unscoped(self) -> "UnitOfWork":
        """The same transaction (and list of changes) without the caller's organization scope; see
        ``WriteContext.unscoped``."""
        return replace(self, repository=ResourceRepository(self.repository.session), rules=self.rules.unscoped())
