"""All SQL for stored resources: versions, history, search indexes, identifier claims and search.

Queries use SQLAlchemy Core rather than ORM objects: a write is a handful of INSERTs, which keeps the
per-request cost close to a bare driver call.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    delete,
    event,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.schema import Table
from sqlalchemy.sql.selectable import CTE

from ilp_api.fhir.compartment import COMPARTMENT_TYPE, Membership
from ilp_api.fhir.registry import (
    COLUMN_PARAMETERS,
    IndexValue,
    Ref,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    Text,
    Token,
)
from ilp_api.fhir.search import DateValue, Filter, Include, SearchRequest, SortKey, TokenValue
from ilp_api.fhir.tables import (
    DateIndexRow,
    IdentifierClaimRow,
    PatientCompartmentRow,
    PatientPlacementRow,
    ReferenceIndexRow,
    ResourceRow,
    ResourceVersionRow,
    StringIndexRow,
    TokenIndexRow,
)
from ilp_api.fhir.visibility_rules import (
    InPatientCompartment,
    InSubtree,
    Listed,
    Placement,
    ReferencesSubtree,
    Scope,
    ScopeRule,
    reach_depends_on,
)

resource = ResourceRow.__table__  # type: ignore[attr-defined]
version = ResourceVersionRow.__table__  # type: ignore[attr-defined]
token_index = TokenIndexRow.__table__  # type: ignore[attr-defined]
string_index = StringIndexRow.__table__  # type: ignore[attr-defined]
date_index = DateIndexRow.__table__  # type: ignore[attr-defined]
reference_index = ReferenceIndexRow.__table__  # type: ignore[attr-defined]
claim = IdentifierClaimRow.__table__  # type: ignore[attr-defined]
compartment = PatientCompartmentRow.__table__  # type: ignore[attr-defined]
placement = PatientPlacementRow.__table__  # type: ignore[attr-defined]

INDEX_TABLES = {
    SearchType.TOKEN: token_index,
    SearchType.STRING: string_index,
    SearchType.DATE: date_index,
    SearchType.REFERENCE: reference_index,
}

# The columns of each index table after (resource_type, resource_id, param), in the order of the IndexValue's
# fields (Token, Text, DateRange and Ref are named tuples).
INDEX_VALUE_COLUMNS = {
    SearchType.TOKEN: ("system", "code"),
    SearchType.STRING: ("value", "exact"),
    SearchType.DATE: ("low", "high"),
    SearchType.REFERENCE: ("target_type", "target_id"),
}
IndexRow = tuple[Any, ...]  # (param, *value columns)


@dataclass(frozen=True)
class Stored:
    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    deleted: bool
    content: str


@dataclass(frozen=True)
class _Write:
    stored: Stored
    method: str
    expected_version: int | None  # None: a create
    # None: a deletion, which keeps the index and compartment rows (for the 410 of who could see the resource)
    index_rows: dict[SearchType, list[IndexRow]] | None
    claims: list[Token]
    membership: Membership | None  # None: a type outside every patient compartment

    @property
    def deferrable(self) -> bool:
        """A create that claims no identifier and places no Patient: one that nothing but a broken database refuses."""
        return self.expected_version is None and not self.claims and self.placement is None

    @property
    def placement(self) -> Placement | None:
        return self.membership.placement if self.membership and self.index_rows is not None else None

    @property
    def compartment_patients(self) -> list[str] | None:
        """The patients to record, or None to leave the rows as they are (outside every compartment, a deletion)."""
        if self.membership is None or self.index_rows is None:
            return None
        return sorted(self.membership.patients)


@dataclass(frozen=True)
class SearchPage:
    matches: list[Stored]
    included: list[Stored]
    total: int | None


@dataclass(frozen=True)
class Page:
    """A page of a search as it was asked for: what was found, the page size and the offset (for paging links)."""

    found: SearchPage
    count: int
    offset: int


class IdentifierTaken(Exception):
    """Another active resource already holds a unique identifier."""

    def __init__(self, system: str, value: str, holder_id: str) -> None:
        super().__init__(f"{system}|{value}")
        self.system, self.value, self.holder_id = system, value, holder_id


class ConcurrentClaim(Exception):
    """A concurrent transaction was claiming or releasing the same identifier; sent again, the request settles.

    Raised when PostgreSQL ends a claim's wait in a deadlock (two resources swapping identifiers) and when
    the holder released the identifier between our attempt and our look at who holds it.
    """


# PostgreSQL's deadlock_detected and serialization_failure: this transaction lost to a concurrent one.
CONTENTION_SQLSTATES = frozenset({"40P01", "40001"})


class VersionConflict(Exception):
    """The row changed between our read and our write (a concurrent update won)."""


@contextmanager
def _claims_contended(resource_type: str) -> Iterator[None]:
    """A claim's wait that ends in a deadlock or serialization failure becomes ConcurrentClaim."""
    try:
        yield
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) in CONTENTION_SQLSTATES:
            raise ConcurrentClaim(resource_type) from None
        raise


def _stored(row: Any) -> Stored:
    return Stored(row.resource_type, row.id, row.version_id, row.last_updated, row.deleted, row.content)


_COLUMNS = (
    resource.c.resource_type,
    resource.c.id,
    resource.c.version_id,
    resource.c.last_updated,
    resource.c.deleted,
    resource.c.content,
)


_IN_TRANSACTION = "ilp_api.fhir.repository"  # the key of a session's ``_InTransaction`` in ``Session.info``
ScopeKey = str | None  # the organization a scope is of (its rules and area follow from it); None: unscoped


class _InTransaction:
    """What the repositories of one transaction share: the rows it has read or written, and its deferred creates.

    Rows: a visit's rules read its Encounter for each of its Observations, and every reference of a derived
    resource points at something the visit just read or wrote: asked once per transaction, not once per use. Kept
    by what each scope saw, and only rows found (a resource not found may come into view later in the
    transaction). A write replaces its own entry; a write that can change what a scope reaches of *other*
    resources (fhir/visibility_rules.py, ``reach_depends_on``: an Organization, a Patient) forgets what every
    scope saw.

    Deferred creates (``ResourceRepository.store``): written together, one statement per table, before the
    transaction's next statement of any kind, and at the latest before it commits (``_flush_before_commit``).

    All of it is forgotten when the transaction ends, and the rows when a savepoint ends: a rolled-back write must
    not be remembered (no create is deferred inside a savepoint, nor across its start).
    """

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[ScopeKey, Stored]] = {}
        self.scopes = set[ScopeKey]()
        self.reach_depends_on = frozenset[str]()  # of those scopes
        self.deferred: list[_Write] = []

    def get(self, scope: Scope | None, resource_type: str, resource_id: str) -> Stored | None:
        return self.rows.get((resource_type, resource_id), {}).get(_key(scope))

    def saw(self, scope: Scope | None, stored: Stored) -> None:
        key = _key(scope)
        if scope is not None and key not in self.scopes:
            self.scopes.add(key)
            self.reach_depends_on |= reach_depends_on(scope.rules)
        self.rows.setdefault((stored.resource_type, stored.id), {})[key] = stored

    def wrote(self, stored: Stored) -> None:
        if stored.resource_type in self.reach_depends_on:
            self.rows = {key: {None: seen[None]} for key, seen in self.rows.items() if None in seen}
        # Unscoped, a write is seen as written; what a scope sees of it is asked again (it may have left the scope).
        self.rows[(stored.resource_type, stored.id)] = {None: stored}


def _key(scope: Scope | None) -> ScopeKey:
    return scope.organization_id if scope else None


@event.listens_for(Session, "after_transaction_create")
def _nothing_deferred_across_a_savepoint(session: Session, transaction: SessionTransaction) -> None:
    state = session.info.get(_IN_TRANSACTION)
    if transaction.nested and state is not None and state.deferred:
        # Written after the SAVEPOINT, they would be undone with it: call ResourceRepository.flush() first.
        raise RuntimeError("a savepoint begun with creates deferred")


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    ResourceRepository(session).flush()


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    state = session.info.get(_IN_TRANSACTION)
    if state is not None and transaction.nested:
        state.rows.clear()
    elif transaction.parent is None:
        session.info.pop(_IN_TRANSACTION, None)


class ResourceRepository:
    """Reads and writes stored resources. With a ``scope``, every read sees only what the scope allows."""

    def __init__(self, session: Session, scope: Scope | None = None) -> None:
        self.session = session
        self.scope = scope
        self._subtree: CTE | None = None

    @property
    def _seen(self) -> _InTransaction:
        state = self.session.info.get(_IN_TRANSACTION)
        if state is None:
            state = self.session.info[_IN_TRANSACTION] = _InTransaction()
        return state

    def _execute(self, statement: Executable) -> Result[Any]:
        """A read, once the deferred creates are written: what is sent next sees them."""
        self.flush()
        return self.session.execute(statement)

    # ---- reads ----

    def get(self, resource_type: str, resource_id: str) -> Stored | None:
        seen = self._seen.get(self.scope, resource_type, resource_id)
        if seen is not None:
            return seen
        row = self._execute(
            select(*_COLUMNS).where(
                resource.c.resource_type == resource_type,
                resource.c.id == resource_id,
                self._visible(resource_type, resource.c.id),
            )
        ).first()
        if row is None:
            return None
        stored = _stored(row)
        self._seen.saw(self.scope, stored)
        return stored

    def is_visible(self, resource_type: str, resource_id: str) -> bool:
        return self.scope is None or self.get(resource_type, resource_id) is not None

    def get_version(self, resource_type: str, resource_id: str, version_id: int) -> Stored | None:
        row = self._execute(
            select(version).where(
                version.c.resource_type == resource_type,
                version.c.id == resource_id,
                version.c.version_id == version_id,
                self._visible(resource_type, version.c.id),
            )
        ).first()
        return _stored(row) if row else None

    def history(self, resource_type: str, resource_id: str, count: int, offset: int) -> tuple[list[Stored], int]:
        where = (
            version.c.resource_type == resource_type,
            version.c.id == resource_id,
            self._visible(resource_type, version.c.id),
        )
        total = self._execute(select(func.count()).select_from(version).where(*where)).scalar_one()
        rows = self._execute(
            select(version).where(*where).order_by(version.c.version_id.desc()).limit(count).offset(offset)
        ).all()
        return [_stored(row) for row in rows], total

    def existing_ids(self, refs: Iterable[Ref]) -> set[Ref]:
        """Which of ``refs`` point at stored, undeleted resources."""
        scope, seen = self.scope, self._seen
        known = {ref: seen.get(scope, ref.type, ref.id) for ref in set(refs)}
        unknown = [ref for ref, stored in known.items() if stored is None]
        if unknown:
            for row in self._execute(select(*_COLUMNS).where(self._any_of(unknown))):
                stored = _stored(row)
                seen.saw(scope, stored)
                known[Ref(stored.resource_type, stored.id)] = stored
        return {ref for ref, stored in known.items() if stored is not None and not stored.deleted}

    def _any_of(self, refs: Iterable[Ref]) -> ColumnElement[bool]:
        """Rows that are one of ``refs`` and visible in the scope."""
        return or_(
            *(
                and_(
                    resource.c.resource_type == ref.type,
                    resource.c.id == ref.id,
                    self._visible(ref.type, resource.c.id),
                )
                for ref in refs
            )
        )

    # ---- writes ----

    def store(
        self,
        stored: Stored,
        method: str,
        *,
        expected_version: int | None,
        index_values: Iterable[tuple[SearchParameter, IndexValue]] | None,
        claims: Sequence[Token],
        membership: Membership | None = None,
    ) -> None:
        """Write one version of a resource: its current row, its history row, its search index rows, its patient
        compartment (and a Patient's placement), and exactly ``claims`` as its unique identifiers, all or (on an
        error) nothing of it.

        ``expected_version`` None creates the resource; otherwise the current row must still be at that version
        (VersionConflict if not). ``index_values`` None keeps the index and compartment rows as they are: a
        deletion, whose resource stays visible to whoever could see it (to be told it is gone, 410). Raises
        IdentifierTaken if another resource holds one of ``claims``, and ConcurrentClaim if a concurrent claim of
        the same identifier got in the way.
        """
        rows = index_rows(index_values) if index_values is not None else None
        write = _Write(stored, method, expected_version, rows, sorted(set(claims)), membership)
        if write.deferrable and self.scope is None and not self.session.in_nested_transaction():
            # Nothing of it can be refused, and the caller sees everything: written with the next statement.
            self._seen.deferred.append(write)
            self._seen.wrote(stored)
            return
        self.flush()
        refused = self._store_in_one_statement(write) if self._postgresql else self._store_table_by_table(write)
        if refused is not None:
            holder = self.claim_holder(stored.resource_type, refused)
            if holder is None:  # released between the insert and this look (read committed)
                raise ConcurrentClaim(stored.resource_type)
            raise IdentifierTaken(refused.system, refused.code, holder)
        self._seen.wrote(stored)

    def flush(self) -> None:
        """Write the transaction's deferred creates: on PostgreSQL in one statement, on SQLite a statement per table."""
        state: _InTransaction | None = self.session.info.get(_IN_TRANSACTION)
        if state is None or not state.deferred:
            return
        deferred, state.deferred = state.deferred, []
        rows = _deferred_rows(deferred)
        if self._postgresql:
            as_json = {table.name: orjson.dumps(table_rows).decode() for table, table_rows in rows.items()}
            self.session.connection().exec_driver_sql(_CREATE_ALL_SQL, as_json)
            return
        for table, table_rows in rows.items():
            if table_rows:
                self.session.execute(insert(table), table_rows)

    @property
    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _store_in_one_statement(self, write: _Write) -> Token | None:
        """PostgreSQL: the whole write in one round trip (two for an update), built by ``_postgresql_store_sql``.

        An update first moves the current row, version-checked: that locks it, so of two concurrent updates of
        one resource the second waits and then fails the version check (VersionConflict), instead of finding the
        first one's claims and taking its own resource for the holder.
        """
        connection = self.session.connection()
        stored = write.stored
        if write.expected_version is not None:
            moved = connection.exec_driver_sql(
                _MOVE_CURRENT_SQL, _current_parameters(stored) | {"expected_version": write.expected_version}
            )
            if moved.rowcount != 1:
                raise VersionConflict(stored.id)
        parameters = _current_parameters(stored) | {
            "method": write.method,
            "claim_system": [token.system for token in write.claims],
            "claim_value": [token.code for token in write.claims],
        }
        for kind, rows in (write.index_rows or {}).items():
            columns = ("param", *INDEX_VALUE_COLUMNS[kind])
            parameters[f"{kind}_rows"] = orjson.dumps([dict(zip(columns, row, strict=True)) for row in rows]).decode()
        patients = write.compartment_patients
        if patients is not None:
            parameters["compartment_patients"] = patients
        placed = write.placement
        if placed is not None:
            parameters |= {
                "placement_organization": placed.managing_organization_id,
                "placement_village": placed.village,
                "placement_rw": placed.rw,
            }
        statement = _postgresql_store_sql(
            new=write.expected_version is None,
            indexed=write.index_rows is not None,
            in_compartment=patients is not None,
            placed=placed is not None,
        )
        with _claims_contended(stored.resource_type):
            refused = connection.exec_driver_sql(statement, parameters).first()
        return Token(refused.system, refused.value) if refused else None

    def _store_table_by_table(self, write: _Write) -> Token | None:
        """SQLite, which has no INSERT inside WITH: a statement per table (round trips cost nothing in-process)."""
        stored = write.stored
        owner = {"resource_type": stored.resource_type, "resource_id": stored.id}
        values = _current_parameters(stored)
        new = write.expected_version is None
        if new:
            # Claims first: a taken identifier is found before anything is written.
            refused = self._replace_claims(stored.resource_type, stored.id, write.claims, new=True)
            if refused is not None:
                return refused
            self.session.execute(insert(resource).values(values))
        else:
            # The version-checked row update first, for the reason given in _store_in_one_statement.
            moved = self.session.execute(
                update(resource)
                .where(
                    resource.c.resource_type == stored.resource_type,
                    resource.c.id == stored.id,
                    resource.c.version_id == write.expected_version,
                )
                .values(values)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise VersionConflict(stored.id)
            refused = self._replace_claims(stored.resource_type, stored.id, write.claims, new=False)
            if refused is not None:
                return refused
        self.session.execute(insert(version).values(**values, method=write.method))
        if write.index_rows is not None:
            for kind, rows in write.index_rows.items():
                table = INDEX_TABLES[kind]
                if not new:
                    self.session.execute(
                        delete(table).where(
                            table.c.resource_type == stored.resource_type, table.c.resource_id == stored.id
                        )
                    )
                if rows:
                    columns = ("param", *INDEX_VALUE_COLUMNS[kind])
                    self.session.execute(insert(table), [owner | dict(zip(columns, row, strict=True)) for row in rows])
        self._replace_compartment(write, new=new)
        return None

    def _replace_compartment(self, write: _Write, *, new: bool) -> None:
        stored, patients, placed = write.stored, write.compartment_patients, write.placement
        if patients is not None:
            if not new:
                self.session.execute(
                    delete(compartment).where(
                        compartment.c.resource_type == stored.resource_type, compartment.c.resource_id == stored.id
                    )
                )
            if patients:
                owner = {"resource_type": stored.resource_type, "resource_id": stored.id}
                self.session.execute(insert(compartment), [owner | {"patient_id": patient} for patient in patients])
        if placed is not None:
            self.session.execute(delete(placement).where(placement.c.patient_id == stored.id))
            self.session.execute(
                insert(placement).values(
                    patient_id=stored.id,
                    managing_organization_id=placed.managing_organization_id,
                    village=placed.village,
                    rw=placed.rw,
                )
            )

    def _replace_claims(
        self, resource_type: str, resource_id: str, identifiers: Sequence[Token], *, new: bool
    ) -> Token | None:
        """Hold exactly ``identifiers``; returns the first one another resource holds (then some may be held)."""
        if not new:
            self.session.execute(
                delete(claim).where(claim.c.resource_type == resource_type, claim.c.resource_id == resource_id)
            )
        for identifier in identifiers:
            # ON CONFLICT DO NOTHING instead of a savepoint: a taken identifier inserts no row and the
            # transaction stays usable.
            claimed = self.session.execute(
                sqlite.insert(claim)
                .on_conflict_do_nothing()
                .values(
                    resource_type=resource_type,
                    system=identifier.system,
                    value=identifier.code,
                    resource_id=resource_id,
                )
                .returning(claim.c.resource_id)
            ).first()
            if claimed is None:
                return identifier
        return None

    def claim_holder(self, resource_type: str, identifier: Token) -> str | None:
        return self._execute(
            select(claim.c.resource_id).where(
                claim.c.resource_type == resource_type,
                claim.c.system == identifier.system,
                claim.c.value == identifier.code,
            )
        ).scalar_one_or_none()

    # ---- search ----

    def search(
        self, definition: ResourceDefinition, request: SearchRequest, *, patient_id: str | None = None
    ) -> SearchPage:
        """``patient_id``: only members of that Patient's compartment (``GET /Patient/{id}/{type}``)."""
        conditions = [
            resource.c.resource_type == definition.type,
            resource.c.deleted == false(),
            self._visible(definition.type, resource.c.id),
            *(_filter_condition(definition.type, f) for f in request.filters),
        ]
        if patient_id is not None:
            conditions.append(_in_compartment_of(patient_id))
        matches: list[Stored] = []
        if request.count:
            statement: Select[Any] = select(*_COLUMNS).where(*conditions)
            statement = statement.order_by(*_order_by(definition.type, request.sort), resource.c.id)
            rows = self._execute(statement.limit(request.count).offset(request.offset)).all()
            matches = [_stored(row) for row in rows]
        total = None
        if request.with_total:
            if request.offset == 0 and len(matches) < request.count:
                total = len(matches)  # the first page holds every match: no need to count them again
            else:
                total = self._execute(select(func.count()).select_from(resource).where(*conditions)).scalar_one()
        included = self._included(matches, request.includes, request.revincludes)
        return SearchPage(matches, included, total)

    def everything(
        self, patient_id: str, types: Sequence[str], since: datetime | None, count: int, offset: int
    ) -> tuple[list[Stored], int]:
        """The visible, undeleted members of a Patient's compartment of ``types`` (updated at or after ``since``):
        the Patient first, then by type and last update; with how many there are in all."""
        conditions = [
            _in_compartment_of(patient_id),
            resource.c.deleted == false(),
            or_(false(), *(and_(resource.c.resource_type == t, self._visible(t, resource.c.id)) for t in types)),
        ]
        if since is not None:
            conditions.append(resource.c.last_updated >= since)
        order = (
            (resource.c.resource_type != literal(COMPARTMENT_TYPE)).asc(),
            resource.c.resource_type,
            resource.c.last_updated,
            resource.c.id,
        )
        rows = self._execute(select(*_COLUMNS).where(*conditions).order_by(*order).limit(count).offset(offset)).all()
        matches = [_stored(row) for row in rows]
        if offset == 0 and len(matches) < count:
            return matches, len(matches)
        total = self._execute(select(func.count()).select_from(resource).where(*conditions)).scalar_one()
        return matches, total

    def _included(
        self, matches: list[Stored], includes: Sequence[Include], revincludes: Sequence[Include]
    ) -> list[Stored]:
        if not matches:
            return []
        ids = [m.id for m in matches]
        searched_type = matches[0].resource_type
        wanted = set[Ref]()
        for include in includes:
            rows = self._execute(
                select(reference_index.c.target_type, reference_index.c.target_id).where(
                    reference_index.c.resource_type == include.source.type,
                    reference_index.c.param == include.parameter.name,
                    reference_index.c.resource_id.in_(ids),
                )
            ).all()
            wanted.update(Ref(row.target_type, row.target_id) for row in rows)
        for include in revincludes:
            rows = self._execute(
                select(reference_index.c.resource_id).where(
                    reference_index.c.resource_type == include.source.type,
                    reference_index.c.param == include.parameter.name,
                    reference_index.c.target_type == searched_type,
                    reference_index.c.target_id.in_(ids),
                )
            ).all()
            wanted.update(Ref(include.source.type, row.resource_id) for row in rows)
        wanted -= {Ref(m.resource_type, m.id) for m in matches}
        if not wanted:
            return []
        rows = self._execute(
            select(*_COLUMNS).where(self._any_of(wanted), resource.c.deleted == false()).order_by(resource.c.id)
        ).all()
        return [_stored(row) for row in rows]

    # ---- organization scoping: compiled from the rules in fhir/visibility_rules.py ----

    def _visible(self, resource_type: str, id_column: Any) -> ColumnElement[bool]:
        if self.scope is None:
            return true()
        rules = self.scope.rules.get(resource_type, ())
        return or_(false(), *(self._rule(resource_type, rule, id_column) for rule in rules))

    def _rule(self, resource_type: str, rule: ScopeRule, id_column: Any) -> ColumnElement[bool]:
        if isinstance(rule, InSubtree):
            in_subtree: ColumnElement[bool] = id_column.in_(select(self._subtree_ids().c.id))
            return in_subtree
        if isinstance(rule, ReferencesSubtree):
            return exists().where(
                *_owned_by(reference_index, resource_type, rule.parameter, id_column),
                reference_index.c.target_type == "Organization",
                reference_index.c.target_id.in_(select(self._subtree_ids().c.id)),
            )
        if isinstance(rule, Listed):
            return exists().where(
                *_owned_by(token_index, resource_type, rule.parameter, id_column),
                token_index.c.code == rule.code,
                token_index.c.system.endswith(rule.system_path, autoescape=True),
            )
        if isinstance(rule, InPatientCompartment):
            if resource_type == COMPARTMENT_TYPE:  # a Patient is in its own compartment only: one row to look at
                return exists().where(placement.c.patient_id == id_column, self._placed_within_reach())
            members = compartment.alias()
            return exists().where(
                members.c.resource_type == resource_type,
                members.c.resource_id == id_column,
                placement.c.patient_id == members.c.patient_id,
                self._placed_within_reach(),
            )
        source = reference_index.alias()
        source_row = resource.alias()
        return exists().where(
            source.c.resource_type == rule.source_type,
            source.c.param == rule.parameter,
            source.c.target_type == resource_type,
            source.c.target_id == id_column,
            # A deleted source keeps its index rows (for its own 410) but no longer shows what it referred to.
            source_row.c.resource_type == rule.source_type,
            source_row.c.id == source.c.resource_id,
            source_row.c.deleted == false(),
            self._visible(rule.source_type, source.c.resource_id),
        )

    def _placed_within_reach(self) -> ColumnElement[bool]:
        """A ``patient_placement`` row within the scope: managed in the subtree, or living in the area."""
        managed: ColumnElement[bool] = placement.c.managing_organization_id.in_(select(self._subtree_ids().c.id))
        area = self.scope.area if self.scope else None
        if area is None:
            return managed
        lives_in_area = placement.c.village.startswith(area.wilayah, autoescape=True)
        if area.rws:
            lives_in_area = and_(lives_in_area, placement.c.village == area.village, placement.c.rw.in_(area.rws))
        return or_(managed, lives_in_area)

    def _subtree_ids(self) -> CTE:
        """The scope's organization and every Organization below it through partOf (one CTE per repository)."""
        if self._subtree is None:
            assert self.scope is not None
            root = select(cast(literal(self.scope.organization_id), String(64)).label("id"))
            subtree = root.cte("scope_subtree", recursive=True)
            children = select(reference_index.c.resource_id).where(
                reference_index.c.resource_type == "Organization",
                reference_index.c.param == "partof",
                reference_index.c.target_type == "Organization",
                reference_index.c.target_id == subtree.c.id,
            )
            # UNION, not UNION ALL: it stops on its own even if bad data ever formed a cycle.
            self._subtree = subtree.union(children)
        return self._subtree


def _in_compartment_of(patient_id: str) -> ColumnElement[bool]:
    """The ``resource`` row belongs to the compartment of Patient ``patient_id``."""
    return exists().where(
        compartment.c.patient_id == patient_id,
        compartment.c.resource_type == resource.c.resource_type,
        compartment.c.resource_id == resource.c.id,
    )


def index_rows(values: Iterable[tuple[SearchParameter, IndexValue]]) -> dict[SearchType, list[IndexRow]]:
    rows: dict[SearchType, list[IndexRow]] = {kind: [] for kind in INDEX_TABLES}
    for parameter, value in values:
        rows[parameter.type].append((parameter.name, value) if isinstance(value, str) else (parameter.name, *value))
    return rows


_CURRENT_COLUMNS = ("resource_type", "id", "version_id", "last_updated", "deleted", "content")


def _current_parameters(stored: Stored) -> dict[str, Any]:
    values = (stored.resource_type, stored.id, stored.version_id, stored.last_updated, stored.deleted, stored.content)
    return dict(zip(_CURRENT_COLUMNS, values, strict=True))


# ---- the PostgreSQL write: one statement of data-modifying CTEs, the same text each time (so psycopg prepares it)

_MOVE_CURRENT_SQL = """\
UPDATE resource SET version_id = %(version_id)s::integer, last_updated = %(last_updated)s, deleted = %(deleted)s,
    content = %(content)s
WHERE resource_type = %(resource_type)s AND id = %(id)s AND version_id = %(expected_version)s::integer"""


# Index rows go to PostgreSQL as one JSON array per table (orjson writes it in C, where psycopg would quote each
# element of a text array in Python), typed by these columns; every other index column is text.
_COLUMN_TYPE = {"low": "timestamptz", "high": "timestamptz"}


@cache
def _postgresql_store_sql(*, new: bool, indexed: bool, in_compartment: bool, placed: bool) -> str:
    """Claims, current row (on a create), history row, index rows, compartment rows and a Patient's placement of
    one write, in one statement; each combination of parts is one text, so that psycopg prepares it.

    ``indexed`` False (a deletion) and ``in_compartment`` False leave those rows as they are. The statement
    returns the wanted identifiers that another resource holds; when there is one, nothing else is written
    (every INSERT waits on ``refused``). The sub-statements of a WITH all see the snapshot taken before it, so
    an update does not delete and re-insert a row it keeps (the insert would not see the delete): it releases
    only the claims and compartment rows it gives up, and inserts only those it does not hold yet.
    """
    unless_refused = "WHERE NOT EXISTS (SELECT FROM refused)"
    owner = "resource_type = %(resource_type)s AND resource_id = %(id)s"
    parts = [
        "wanted (system, value) AS (SELECT * FROM unnest(%(claim_system)s::text[], %(claim_value)s::text[]))",
        f"held AS (SELECT system, value FROM identifier_claim WHERE {owner})",
        """claimed AS (
    INSERT INTO identifier_claim (resource_type, system, value, resource_id)
    SELECT %(resource_type)s, system, value, %(id)s FROM wanted
    WHERE (system, value) NOT IN (SELECT system, value FROM held)
    ON CONFLICT DO NOTHING RETURNING system, value)""",
        """refused AS (
    SELECT system, value FROM wanted
    WHERE (system, value) NOT IN (SELECT system, value FROM held)
        AND (system, value) NOT IN (SELECT system, value FROM claimed))""",
        "stored_version AS (INSERT INTO resource_version (resource_type, id, version_id, last_updated, deleted, "
        "method, content) SELECT %(resource_type)s, %(id)s, %(version_id)s::integer, %(last_updated)s, "
        f"%(deleted)s, %(method)s, %(content)s {unless_refused})",
    ]
    if new:
        parts.append(
            "stored_current AS (INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content) "
            "SELECT %(resource_type)s, %(id)s, %(version_id)s::integer, %(last_updated)s, %(deleted)s, %(content)s "
            f"{unless_refused})"
        )
    else:
        parts.append(
            "released AS (DELETE FROM identifier_claim "
            f"WHERE {owner} AND (system, value) NOT IN (SELECT system, value FROM wanted))"
        )
    for kind, table in INDEX_TABLES.items() if indexed else ():
        if not new:
            parts.append(f"dropped_{kind} AS (DELETE FROM {table.name} WHERE {owner})")
        columns = ("param", *INDEX_VALUE_COLUMNS[kind])
        typed = ", ".join(f"{column} {_COLUMN_TYPE.get(column, 'text')}" for column in columns)
        parts.append(
            f"indexed_{kind} AS (INSERT INTO {table.name} (resource_type, resource_id, {', '.join(columns)}) "
            f"SELECT %(resource_type)s, %(id)s, * FROM json_to_recordset(%({kind}_rows)s::json) AS given({typed}) "
            f"{unless_refused})"
        )
    if in_compartment:
        if not new:
            parts.append(
                f"left_compartment AS (DELETE FROM {compartment.name} "
                f"WHERE {owner} AND patient_id <> ALL(%(compartment_patients)s::text[]))"
            )
        parts.append(
            f"joined_compartment AS (INSERT INTO {compartment.name} (resource_type, resource_id, patient_id) "
            f"SELECT %(resource_type)s, %(id)s, patient FROM unnest(%(compartment_patients)s::text[]) AS patient "
            f"{unless_refused} ON CONFLICT DO NOTHING)"
        )
    if placed:
        parts.append(
            f"placed AS (INSERT INTO {placement.name} (patient_id, managing_organization_id, village, rw) "
            "SELECT %(id)s, %(placement_organization)s::text, %(placement_village)s::text, %(placement_rw)s::text "
            f"{unless_refused} ON CONFLICT (patient_id) DO UPDATE SET managing_organization_id = "
            "excluded.managing_organization_id, village = excluded.village, rw = excluded.rw)"
        )
    return "WITH " + ",\n".join(parts) + "\nSELECT system, value FROM refused ORDER BY system, value"


# ---- deferred creates: the rows of each table, in one statement on PostgreSQL

_OWNER_COLUMNS = ("resource_type", "resource_id")
_DEFERRED_COLUMNS: dict[Table, tuple[str, ...]] = {
    resource: _CURRENT_COLUMNS,
    version: (*_CURRENT_COLUMNS, "method"),
    **{INDEX_TABLES[kind]: (*_OWNER_COLUMNS, "param", *columns) for kind, columns in INDEX_VALUE_COLUMNS.items()},
    compartment: (*_OWNER_COLUMNS, "patient_id"),
}
# Each table's rows as one JSON array, for the reason given at _COLUMN_TYPE.
_CREATE_ALL_SQL = (
    "WITH "
    + ",\n".join(
        f"created_{table.name} AS (INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
        f"FROM json_populate_recordset(NULL::{table.name}, %({table.name})s::json))"
        for table, columns in _DEFERRED_COLUMNS.items()
    )
    + "\nSELECT 1"
)


def _deferred_rows(writes: Sequence[_Write]) -> dict[Table, list[dict[str, Any]]]:
    rows: dict[Table, list[dict[str, Any]]] = {table: [] for table in _DEFERRED_COLUMNS}
    for write in writes:
        stored = write.stored
        current = _current_parameters(stored)
        rows[resource].append(current)
        rows[version].append(current | {"method": write.method})
        owner = dict(zip(_OWNER_COLUMNS, (stored.resource_type, stored.id), strict=True))
        for kind, index in (write.index_rows or {}).items():
            columns = ("param", *INDEX_VALUE_COLUMNS[kind])
            rows[INDEX_TABLES[kind]] += [owner | dict(zip(columns, row, strict=True)) for row in index]
        rows[compartment] += [owner | {"patient_id": patient} for patient in write.compartment_patients or ()]
    return rows


def _owned_by(table: Any, resource_type: str, parameter: str, id_column: Any) -> list[ColumnElement[bool]]:
    """Index rows of ``parameter`` belonging to the resource whose id is ``id_column``."""
    return [
        table.c.resource_type == resource_type,
        table.c.resource_id == id_column,
        table.c.param == parameter,
    ]


def _filter_condition(resource_type: str, search_filter: Filter) -> ColumnElement[bool]:
    parameter = search_filter.parameter
    if parameter.name in COLUMN_PARAMETERS:
        return _column_condition(search_filter)
    table = INDEX_TABLES[parameter.type]
    matches = [_value_condition(table, parameter, search_filter.modifier, v) for v in search_filter.values]
    found = exists().where(*_owned_by(table, resource_type, parameter.name, resource.c.id), or_(*matches))
    return not_(found) if search_filter.modifier == "not" else found


def _value_condition(table: Any, parameter: SearchParameter, modifier: str | None, value: Any) -> ColumnElement[bool]:
    if isinstance(value, TokenValue):
        parts = []
        if value.code is not None:
            parts.append(table.c.code.startswith(value.code) if parameter.match_below else table.c.code == value.code)
        if value.system is not None:
            parts.append(table.c.system == value.system)
        return and_(true(), *parts)
    if isinstance(value, DateValue):
        return _date_condition(table.c.low, table.c.high, value)
    if isinstance(value, Ref):
        return and_(true(), table.c.target_type == value.type, table.c.target_id == value.id)
    if isinstance(value, Text):  # :exact; the folded form lets the lookup index narrow the rows first
        return and_(table.c.value == value.folded, table.c.exact == value.exact)
    column: ColumnElement[str] = table.c.value
    if modifier == "contains":
        return column.contains(value, autoescape=True)
    return column.startswith(value, autoescape=True)


def _date_condition(
    low: ColumnElement[datetime], high: ColumnElement[datetime], value: DateValue
) -> ColumnElement[bool]:
    """FHIR date prefixes over ranges: the stored range [low, high) against the searched range."""
    searched = value.range
    match value.prefix:  # only the one asked for is built: each comparison costs a search measurable time
        case "lt":
            return low < searched.low
        case "le":
            return low < searched.high
        case "gt":
            return high > searched.high
        case "ge":
            return high > searched.low
    within = and_(low >= searched.low, high <= searched.high)
    return not_(within) if value.prefix == "ne" else within


def _column_condition(search_filter: Filter) -> ColumnElement[bool]:
    if search_filter.parameter.name == "_id":
        ids = [v.code for v in search_filter.values if isinstance(v, TokenValue) and v.code]
        found: ColumnElement[bool] = resource.c.id.in_(ids)
        return not_(found) if search_filter.modifier == "not" else found
    moment = resource.c.last_updated
    # An instant covers a single point in time: [t, t] compared as [t, t + ε).
    return or_(*(_date_condition(moment, moment, v) for v in search_filter.values if isinstance(v, DateValue)))


def _order_by(resource_type: str, keys: Sequence[SortKey]) -> list[Any]:
    order = []
    for key in keys:
        parameter = key.parameter
        if parameter.name == "_id":
            column: Any = resource.c.id
        elif parameter.name == "_lastUpdated":
            column = resource.c.last_updated
        else:
            table = INDEX_TABLES[parameter.type]
            # Looked up by name: each index table has only its own value column.
            column_name = {SearchType.STRING: "value", SearchType.TOKEN: "code", SearchType.DATE: "low"}[parameter.type]
            sort_column = table.c[column_name]
            aggregate = func.max if key.descending else func.min
            column = (
                select(aggregate(sort_column))
                .where(*_owned_by(table, resource_type, parameter.name, resource.c.id))
                .scalar_subquery()
            )
        order.append(column.desc().nulls_last() if key.descending else column.asc().nulls_last())
    return order
