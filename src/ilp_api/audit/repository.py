"""All SQL of the audit trail: append, and search by entity and date. There is no update or delete."""

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, true
from sqlalchemy.orm import Session

from ilp_api.audit.records import AuditRecord, record_of
from ilp_api.audit.tables import AuditEntityRow, AuditEventRow
from ilp_api.fhir.registry import Ref
from ilp_api.fhir.search import DateValue
from ilp_api.fhir.unit_of_work import Access

event = AuditEventRow.__table__  # type: ignore[attr-defined]
entity = AuditEntityRow.__table__  # type: ignore[attr-defined]

# PostgreSQL: the events and their entities of a unit of work in one round trip, each table's rows as one JSON array
# (the entities' foreign key is checked at the statement's end, after the events are in).
_APPEND_SQL = """\
WITH appended AS (
    INSERT INTO audit_event SELECT * FROM json_populate_recordset(NULL::audit_event, %(events)s::json))
INSERT INTO audit_entity (audit_id, entity_type, entity_id)
SELECT audit_id, entity_type, entity_id FROM json_populate_recordset(NULL::audit_entity, %(entities)s::json)"""


def append_accesses(session: Session, accesses: Sequence[Access]) -> None:
    """The pipeline's audit writer (``fhir.pipeline.AuditWriter``)."""
    AuditRepository(session).append([record_of(access) for access in accesses])


@dataclass(frozen=True)
class Page:
    """Which page of the trail to return, in which order, and whether to count all matches."""

    count: int
    offset: int
    with_total: bool
    newest_first: bool


@dataclass(frozen=True)
class FoundRecords:
    records: list[AuditRecord]
    total: int | None


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, records: Sequence[AuditRecord]) -> None:
        events = [
            {
                "id": record.id,
                "recorded": record.recorded,
                "interaction": record.interaction,
                "action": record.action,
                "outcome": record.outcome,
                "status": record.status,
                "client_id": record.client_id,
                "organization_id": record.organization_id,
                "source_ip": record.source_ip,
                "purpose": record.purpose,
                "path": record.path,
                "query": record.query,
            }
            for record in records
        ]
        entities = [
            {"audit_id": record.id, "entity_type": ref.type, "entity_id": ref.id}
            for record in records
            for ref in record.entities
        ]
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.connection().exec_driver_sql(
                _APPEND_SQL, {"events": orjson.dumps(events).decode(), "entities": orjson.dumps(entities).decode()}
            )
            return
        self.session.execute(insert(event), events)
        if entities:
            self.session.execute(insert(entity), entities)

    def search(
        self, entities: Sequence[Sequence[Ref]], dates: Sequence[Sequence[DateValue]], page: Page
    ) -> FoundRecords:
        """Events about any of each group of ``entities`` and recorded within any of each group of ``dates``.

        Each date is an instant (the moment of recording) compared with a FHIR date's range; ``ne`` is not
        offered (the caller refuses it). Ordered by when they were recorded, then by id.
        """
        conditions = [
            event.c.id.in_(
                select(entity.c.audit_id).where(
                    or_(*(and_(entity.c.entity_type == r.type, entity.c.entity_id == r.id) for r in refs))
                )
            )
            for refs in entities
        ]
        conditions += [or_(*(_recorded_within(value) for value in values)) for values in dates]
        where = and_(true(), *conditions)
        records: list[AuditRecord] = []
        if page.count:
            recorded = event.c.recorded.desc() if page.newest_first else event.c.recorded.asc()
            statement = select(event).where(where).order_by(recorded, event.c.id).limit(page.count)
            rows = self.session.execute(statement.offset(page.offset)).all()
            found = self._entities([row.id for row in rows])
            records = [_record(row, found.get(row.id, ())) for row in rows]
        total = None
        if page.with_total and page.offset == 0 and len(records) < page.count:
            total = len(records)  # the first page holds every match: no need to count them again
        elif page.with_total:
            total = self.session.execute(select(func.count()).select_from(event).where(where)).scalar_one()
        return FoundRecords(records, total)

    def _entities(self, audit_ids: Sequence[str]) -> dict[str, tuple[Ref, ...]]:
        if not audit_ids:
            return {}
        found: dict[str, list[Ref]] = {}
        rows = self.session.execute(
            select(entity.c.audit_id, entity.c.entity_type, entity.c.entity_id)
            .where(entity.c.audit_id.in_(audit_ids))
            .order_by(entity.c.pk)
        )
        for row in rows:
            found.setdefault(row.audit_id, []).append(Ref(row.entity_type, row.entity_id))
        return {audit_id: tuple(refs) for audit_id, refs in found.items()}


def _recorded_within(value: DateValue) -> ColumnElement[bool]:
    """The moment of recording against a FHIR date's range [low, high), per its prefix."""
    period = value.range
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": and_(event.c.recorded >= period.low, event.c.recorded < period.high),
        "lt": event.c.recorded < period.low,
        "le": event.c.recorded < period.high,
        "gt": event.c.recorded >= period.high,
        "ge": event.c.recorded >= period.low,
    }
    return conditions[value.prefix]


def _record(row: object, entities: tuple[Ref, ...]) -> AuditRecord:
    fields = row._mapping  # type: ignore[attr-defined]
    return AuditRecord(
        id=fields["id"],
        recorded=fields["recorded"],
        interaction=fields["interaction"],
        outcome=fields["outcome"],
        status=fields["status"],
        client_id=fields["client_id"],
        organization_id=fields["organization_id"],
        source_ip=fields["source_ip"],
        purpose=fields["purpose"],
        path=fields["path"],
        query=fields["query"],
        entities=entities,
    )
