"""Least privilege on PostgreSQL: the service's role changes the data but can only add to append-only tables.

The migrations run as the tables' owner (``ilp db upgrade``); the service connects as another role, granted
here: SELECT, INSERT, UPDATE, DELETE on every table of the schema, only SELECT and INSERT on the append-only
ones (the audit trail), SELECT on Alembic's version table (for the start-up check) and the use of sequences.
Not being the owner, the role can neither TRUNCATE nor drop nor disable the triggers that refuse changes to the
audit trail; not being a superuser, it cannot set ``session_replication_role`` to skip them. Grants cover the
tables that exist, so the owner runs this again after each upgrade.
"""

from collections.abc import Collection

from sqlalchemy import Connection, Engine, text

VERSION_TABLE = "alembic_version"
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY = "SELECT, INSERT"


class RoleNotUsable(ValueError):
    """The role does not exist, or would hold more than the grants give (superuser, owner)."""


def grant_service_role(engine: Engine, role: str, append_only: Collection[str]) -> dict[str, str]:
    """Give ``role`` exactly the service's privileges on the current schema; returns table → privileges."""
    with engine.begin() as connection:
        _check_role(connection, role)
        quoted = connection.dialect.identifier_preparer.quote(role)
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        quoted_schema = connection.dialect.identifier_preparer.quote(schema)
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"), {"schema": schema}
        ).scalars()
        granted = {
            table: "SELECT" if table == VERSION_TABLE else APPEND_ONLY if table in append_only else READ_WRITE
            for table in tables
        }
        connection.execute(text(f"GRANT USAGE ON SCHEMA {quoted_schema} TO {quoted}"))
        # From scratch, so a table that became append-only loses what it had.
        connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quoted_schema} FROM {quoted}"))
        for table, privileges in granted.items():
            quoted_table = connection.dialect.identifier_preparer.quote(table)
            connection.execute(text(f"GRANT {privileges} ON {quoted_schema}.{quoted_table} TO {quoted}"))
        connection.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {quoted}"))
    return granted


def _check_role(connection: Connection, role: str) -> None:
    found = connection.execute(
        text(
            "SELECT rolsuper, EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
            "AND tableowner = :role) AS owns FROM pg_roles WHERE rolname = :role"
        ),
        {"role": role},
    ).one_or_none()
    if found is None:
        raise RoleNotUsable(f"No role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD '…')")
    if found.rolsuper:
        raise RoleNotUsable(f"{role!r} is a superuser, which no grant restricts: use a role without SUPERUSER")
    if found.owns:
        raise RoleNotUsable(f"{role!r} owns tables of this schema, and an owner may do anything to them")
