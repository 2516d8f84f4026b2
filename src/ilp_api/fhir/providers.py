"""What the server serves besides the stored types of fhir/registry.py: read-only types and operations.

A read-only type's resources come from a source of their own (the audit table, the package's code systems);
an operation (``$pindah-masuk``, ``$everything`` …) runs a handler of the package that owns it. Both are
declared here and registered by their owners; the HTTP edge (api/) generates their routes, and fhir/capability.py
their CapabilityStatement entries, from this registry. Every call goes through the pipeline (fhir/pipeline.py):
authorized by the caller's scopes, run in one unit of work that sees what the caller may see, and audited when
it touches patient data. A read-only type's search is parsed by fhir/search.py like any other, so it takes the
same typed parameters, dates, paging and result parameters.

Beside the registry of stored types rather than in it: their handlers run in a unit of work, and the unit of
work (through its repository and the search it compiles) depends on the registry.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ilp_api.fhir.pipeline import READ, SEARCH, Interaction
from ilp_api.fhir.registry import Json, Ref, SearchParameter
from ilp_api.fhir.repository import Page, Stored
from ilp_api.fhir.search import SearchRequest
from ilp_api.fhir.service import ResourceService
from ilp_api.fhir.unit_of_work import Caller, UnitOfWork


@dataclass(frozen=True)
class Found:
    """A page of a read-only type's matches, and how many there are in all (None with ``_total=none``)."""

    matches: list[Json]
    total: int | None


@dataclass(frozen=True)
class ReadOnlyType:
    type: str
    description: str
    # Declared in full: the stored types' _id, _lastUpdated and _tag are only there when a source declares them.
    search_parameters: tuple[SearchParameter, ...]
    # search-type: the page of matches the request asks for (its filters, sort, _count, _offset, _total).
    search: Callable[[UnitOfWork, SearchRequest], Found] | None = None
    # read: the resource with this id, or a NotFound naming what is known.
    read: Callable[[UnitOfWork, str], Json] | None = None
    # Who may search, beyond the SMART scopes the pipeline checks: raises a FhirError for a caller who may not.
    check_search: Callable[[UnitOfWork, SearchRequest], None] | None = None
    default_sort: tuple[str, ...] = ()
    # Read-only types hold no patient data of their own: their accesses are not audited.
    patient_data: bool = False
    parameters_by_name: Mapping[str, SearchParameter] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters_by_name", {p.name: p for p in self.search_parameters})

    @property
    def interactions(self) -> tuple[Interaction, ...]:
        return tuple(interaction for interaction, served in ((READ, self.read), (SEARCH, self.search)) if served)

    def find(self, unit: UnitOfWork, request: SearchRequest) -> Found:
        if self.search is None:
            raise TypeError(f"{self.type} is not searchable")
        if self.check_search is not None:
            self.check_search(unit, request)
        return self.search(unit, request)


class OperationLevel(StrEnum):
    SYSTEM = "system"  # /fhir/$name
    TYPE = "type"  # /fhir/Patient/$name
    INSTANCE = "instance"  # /fhir/Patient/{id}/$name


# FHIR primitive types an operation's input may have, so that it can be sent in a GET's query string.
PRIMITIVE_TYPES = frozenset({"string", "code", "uri", "instant", "date", "dateTime", "integer", "boolean"})


@dataclass(frozen=True)
class OperationParameter:
    """One input or output of an operation, as its OperationDefinition would list it."""

    name: str
    use: str  # "in" or "out"
    type: str  # a FHIR type: string, Identifier, Reference, Patient, Bundle …
    documentation: str
    min: int = 0
    max: str = "1"


@dataclass(frozen=True)
class OperationCall:
    """One invocation: who calls, the addressed resource (instance level), the request body, the query, the stated
    purpose of use (a well-formed one, or None) and the FHIR base URL the request came to, for links in the answer."""

    caller: Caller
    resource_id: str | None
    body: bytes
    query: Sequence[tuple[str, str]]
    purpose: str | None
    base: str
    # What the operation's ``consult`` brought back from outside (see Operation.consult); None without one.
    consulted: object = None


@dataclass(frozen=True)
class Answer:
    """What an operation returns: a stored resource (answered with its ETag), one built for the answer or a page of
    stored ones (a searchset Bundle with paging links, as ``$everything``'s), and the resources it touched, for the
    audit trail."""

    resource: Stored | Json | Page
    entities: tuple[Ref, ...] = ()


OperationHandler = Callable[[UnitOfWork, ResourceService, OperationCall], Answer]
# Reads, in a read-only unit of work, what a call to an outside system needs, and returns that call.
Consultation = Callable[[UnitOfWork, ResourceService, OperationCall], Callable[[], object]]


@dataclass(frozen=True)
class Operation:
    name: str  # without the $: "pindah-masuk"
    level: OperationLevel
    # The type it is invoked on; at system level, the type whose SMART scopes guard it and under which it is audited.
    resource_type: str
    summary: str
    description: str
    # Whether it changes state: then it is POST only and needs the scope's write permission.
    affects_state: bool
    # The SMART v2 permission letter it needs on resource_type (c r u d s).
    permission: str
    handler: OperationHandler
    parameters: tuple[OperationParameter, ...] = ()
    # The canonical URL of its OperationDefinition; None: the project's own, under the canonical base.
    definition: str | None = None
    # A request body to show in the API documentation.
    example: Json | None = None
    # For an operation that asks an outside system (BPJS) before it writes: no transaction may stay open while
    # that system answers (SQLite has one writer; PostgreSQL a pool). ``consult`` reads what the call needs in a
    # read-only unit of work and returns the call, which runs once that unit has closed; its result reaches
    # ``handler``, in the unit of work that writes, as ``call.consulted``. Refusals of either are audited once.
    consult: Consultation | None = None

    @property
    def code(self) -> str:
        return f"${self.name}"

    @property
    def by_get(self) -> bool:
        """FHIR lets an operation be invoked by GET when it changes nothing and takes only primitive inputs."""
        return not self.affects_state and all(p.type in PRIMITIVE_TYPES for p in self.parameters if p.use == "in")

    @property
    def interaction(self) -> Interaction:
        return Interaction("operation", self.permission, writes=self.affects_state)

    def canonical(self, canonical_base: str) -> str:
        prefix = "" if self.level is OperationLevel.SYSTEM else f"{self.resource_type}-"
        return self.definition or f"{canonical_base}/OperationDefinition/{prefix}{self.name}"


class Providers:
    def __init__(self) -> None:
        self._types: dict[str, ReadOnlyType] = {}
        self._operations: dict[tuple[str, str, str], Operation] = {}

    def register_type(self, definition: ReadOnlyType) -> ReadOnlyType:
        self._types[definition.type] = definition
        return definition

    def register_operation(self, operation: Operation) -> Operation:
        self._operations[(operation.level, operation.resource_type, operation.name)] = operation
        return operation

    def get_type(self, resource_type: str) -> ReadOnlyType | None:
        return self._types.get(resource_type)

    def types(self) -> Iterator[ReadOnlyType]:
        return iter(sorted(self._types.values(), key=lambda d: d.type))

    def operations(self) -> Iterator[Operation]:
        return iter(sorted(self._operations.values(), key=lambda o: (o.resource_type, o.level, o.name)))


providers = Providers()
