"""All SQL of the audit trail: append, and search by entity and date. There is no update or delete."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from ilp_api.audit.records import AuditRecord
from ilp_api.audit.table import AuditEntityRow, AuditEventRow
from ilp_api.fhir.registry import Ref

event = AuditEventRow.__table__  # type: ignore[attr-defined]
entity = AuditEntityRow.__table__  # type: ignore[attr-defined]

_EVENT_COLUMNS = tuple(column.name for column in event.columns)
_APPEND_SQL = f"""\
WITH appended AS (
    INSERT INTO audit_event ({", ".join(_EVENT_COLUMNS)})
    VALUES ({", ".join(f"%({column})s" for column in _EVENT_COLUMNS)}))
INSERT INTO audit_entity (audit_id, entity_type, entity_id)
SELECT %(id)s, * FROM unnest(%(entity_type)s::text[], %(entity_id)s::text[])"""


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, record: AuditRecord) -> None:
        event_values = {
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
        if self.session.get_bind().dialect.name == "postgresql":
            # One round trip for the event and its entities (the foreign key is checked at the statement's end).
            self.session.connection().exec_driver_sql(
                _APPEND_SQL,
                event_values
                | {
                    "entity_type": [ref.type for ref in record.entities],
                    "entity_id": [ref.id for ref in record.entities],
                },
            )
            return
        self.session.execute(insert(event).values(event_values))
        if record.entities:
            self.session.execute(
                insert(entity),
                [{"audit_id": record.id, "entity_type": r.type, "entity_id": r.id} for r in record.entities],
            )

    def search(
        self,
        entity_ref: Ref | None,
        since: datetime | None,
        before: datetime | None,
        count: int,
        offset: int,
    ) -> tuple[list[AuditRecord], int]:
        conditions = []
        if entity_ref is not None:
            conditions.append(
                event.c.id.in_(
                    select(entity.c.audit_id).where(
                        entity.c.entity_type == entity_ref.type, entity.c.entity_id == entity_ref.id
                    )
                )
            )
        if since is not None:
            conditions.append(event.c.recorded >= since)
        if before is not None:
            conditions.append(event.c.recorded < before)
        where = and_(True, *conditions)
        total = self.session.execute(select(func.count()).select_from(event).where(where)).scalar_one()
        rows = self.session.execute(
            select(event).where(where).order_by(event.c.recorded.desc(), event.c.id).limit(count).offset(offset)
        ).all()
        entities = self._entities([row.id for row in rows])
        return [_record(row, entities.get(row.id, ())) for row in rows], total

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
