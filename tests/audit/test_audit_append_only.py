"""The database itself refuses to change or remove audit rows: UPDATE, DELETE, and TRUNCATE on PostgreSQL."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ilp_api.audit.records import SUCCESS, AuditRecord
from ilp_api.audit.repository import AuditRepository
from ilp_api.audit.tables import APPEND_ONLY_TABLES
from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import Ref


def append_one(db: Database) -> None:
    record = AuditRecord(
        "audit-1", utc_now(), "read", SUCCESS, 200, "client-1", None, "127.0.0.1", None, "/fhir/Patient/p1", None,
        (Ref("Patient", "p1"),),
    )  # fmt: skip
    with db.session(write=True) as session:
        AuditRepository(session).append([record])


def statements(db: Database) -> list[str]:
    changes = ["UPDATE audit_event SET status = 500", "DELETE FROM audit_entity", "DELETE FROM audit_event"]
    if db.dialect == "postgresql":
        changes += [f"TRUNCATE {table} CASCADE" for table in APPEND_ONLY_TABLES]
    return changes


def test_audit_rows_cannot_be_changed_or_removed(db: Database) -> None:
    append_one(db)
    for statement in statements(db):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_event WHERE status = 200")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM audit_entity")).scalar_one() == 1
