"""The one path of every interaction: authorize → unit of work → domain rules → store → write hooks → audit → commit.

A single request, each entry of a Bundle, an operation and the CLI's loaders all run here. ``interact`` is one
interaction of a client: its permission is checked, one transaction opens whose repository sees only what the
client's organization may see, the work runs (the service applies the rules and stores), the write hooks see
every change, and access to patient data leaves exactly one audit record: in the same transaction when the
interaction succeeds, on its own after the rollback when it fails. ``unit_of_work`` is that transaction alone,
for the Bundle processor (fhir/bundle.py) and the loaders, which compose their interactions from it.

What this needs from security and audit is declared here as Protocols (a ``Caller``, its ``Visibility``, its
identifier-refusal allowance, an ``AuditWriter``); security/ and audit/ implement them and wiring.py installs
them. Synchronous: the HTTP edge (api/) runs it in the thread pool.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from ilp_api.db.cancellation import outside_cancellation
from ilp_api.db.engine import Database
from ilp_api.fhir.datatypes import ID_PATTERN
from ilp_api.fhir.hooks import WriteHooks
from ilp_api.fhir.outcome import status_of
from ilp_api.fhir.registry import Ref, Registry, WriteContext
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.service import IdentifierHeldElsewhere, ResourceService, WriteResult
from ilp_api.fhir.unit_of_work import Access, Caller, Origin, RefusalLimit, UnitOfWork
from ilp_api.fhir.visibility_rules import Scope

T = TypeVar("T")


@dataclass(frozen=True)
class Interaction:
    code: str  # FHIR restful-interaction code, as audited
    permission: str  # SMART v2 permission letter: c r u d s
    writes: bool


CREATE = Interaction("create", "c", True)
READ = Interaction("read", "r", False)
VREAD = Interaction("vread", "r", False)
HISTORY = Interaction("history-instance", "r", False)
SEARCH = Interaction("search-type", "s", False)
UPDATE = Interaction("update", "u", True)
PATCH = Interaction("patch", "u", True)
DELETE = Interaction("delete", "d", True)


class Subject(Protocol):
    """The type an interaction is about: a stored one (``ResourceDefinition``), a read-only one, or the type an
    operation is invoked on (fhir/providers.py)."""

    @property
    def type(self) -> str: ...

    @property
    def patient_data(self) -> bool:
        """Whether its accesses leave an AuditEvent."""


class Visibility(Protocol):
    """What the caller's organization may see (security/visibility.py); None: everything."""

    def __call__(self, session: Session, caller: Caller) -> Scope | None: ...


RefusalLimits = Callable[[str], RefusalLimit]  # a client id → its allowance
RulesContext = Callable[[ResourceRepository], WriteContext]  # the rules' context over a transaction's repository


class AuditWriter(Protocol):
    """Appends the audit records of ``accesses`` in ``session``'s transaction (audit/repository.py)."""

    def __call__(self, session: Session, accesses: Sequence[Access]) -> None: ...


class Pipeline:
    def __init__(
        self,
        database: Database,
        registry: Registry,
        service: ResourceService,
        hooks: WriteHooks,
        *,
        rules_context: RulesContext,
        visibility: Visibility,
        identifier_refusals: RefusalLimits,
        audit: AuditWriter,
    ) -> None:
        self.database = database
        self.registry = registry
        self.service = service
        self.hooks = hooks
        self.rules_context = rules_context
        self.visibility = visibility
        self.identifier_refusals = identifier_refusals
        self.audit = audit

    @contextmanager
    def unit_of_work(
        self, caller: Caller | None, *, write: bool, settled: Callable[[UnitOfWork], None] | None = None
    ) -> Iterator[UnitOfWork]:
        """One transaction whose repository sees what ``caller``'s organization may see (None: the CLI, all).

        When the block ends normally the write hooks see its changes, ``settled`` sees everything written (the
        hooks' writes included), the accesses queued with ``unit.audit`` are written, and it commits; any
        exception rolls all of it back.
        """
        with self.database.session(write=write) as session:
            scope = self.visibility(session, caller) if caller is not None else None
            repository = ResourceRepository(session, scope)
            refusals = self.identifier_refusals(caller.client_id) if caller is not None else None
            unit = UnitOfWork(repository, self.rules_context(repository), self.service, refusals)
            yield unit
            self.hooks.run(unit)
            if settled is not None:
                settled(unit)
            if unit.accesses:
                self.audit(session, unit.accesses)

    def interact(
        self,
        origin: Origin,
        definition: Subject,
        interaction: Interaction,
        work: Callable[[UnitOfWork], T],
        *,
        entities: Callable[[T], list[Ref]],
        target: str | None = None,
        admit: Callable[[], None] = lambda: None,
    ) -> T:
        """Authorize, run and audit one interaction; ``admit`` runs the edge's own checks after the permission's.

        Any access to patient data leaves exactly one audit record, a refused or failed one included.
        """
        try:
            origin.caller.require(definition.type, interaction.permission)
            admit()
            # Patient data is audited in the interaction's own transaction, reads included: one commit covers both.
            with self.unit_of_work(origin.caller, write=interaction.writes or definition.patient_data) as unit:
                result = work(unit)
                touched = tuple(ref for ref in entities(result) if self.is_patient_data(ref))
                if definition.patient_data:
                    status = 201 if isinstance(result, WriteResult) and result.created else 200
                    unit.audit(Access(origin, interaction.code, status, touched))
            if touched and not definition.patient_data:  # e.g. Organization?_revinclude=Patient:organization
                self.audit_alone(Access(origin, interaction.code, 200, touched))
            return result
        except Exception as error:
            if definition.patient_data:
                refs = self.failure_entities(error, definition, target)
                self.audit_alone(Access(origin, interaction.code, status_of(error), refs))
            raise

    def audit_alone(self, access: Access) -> None:
        """In a transaction of its own: after a rollback, or when the interaction wrote nothing to commit it with.

        Written even when the client has gone and its own work was cancelled.
        """
        with outside_cancellation(), self.database.session(write=True) as session:
            self.audit(session, [access])

    def is_patient_data(self, ref: Ref) -> bool:
        definition = self.registry.get(ref.type)
        return definition is not None and definition.patient_data

    @staticmethod
    def failure_entities(error: Exception, definition: Subject, target: str | None) -> tuple[Ref, ...]:
        """What a failed interaction's audit record names: the resource addressed, if its id is one, and the holder
        of an identifier refused as held elsewhere, so that the record's owners see who asked about it."""
        refs = [Ref(definition.type, target)] if target and ID_PATTERN.match(target) else []
        if isinstance(error, IdentifierHeldElsewhere) and error.holder:
            refs.append(error.holder)
        return tuple(refs)
