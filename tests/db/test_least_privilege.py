"""The service can run as a least-privilege role: it serves patients, and cannot touch the audit trail.

The migrations run as the owner (here the test superuser); ``ilp db grant-service-role`` gives a fresh role the
service's privileges; the app then runs as that role.
"""

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from postgres_helpers import admin_headers, database_url, server_connection, settings_for
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from factories import FHIR_JSON, patient_json
from ilp_api import cli
from ilp_api.app import create_app
from ilp_api.db.engine import create_database_engine
from ilp_api.db.migrate import check_schema_current
from ilp_api.settings import get_settings

FORBIDDEN_TO_THE_SERVICE = [
    "UPDATE audit_event SET status = 500",
    "DELETE FROM audit_entity",
    "DELETE FROM audit_event",
    "TRUNCATE audit_entity",
    "TRUNCATE audit_event CASCADE",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE audit_entity DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_event_no_truncate ON audit_event",
    "SET session_replication_role = replica",
]


@pytest.fixture
def service_role(postgres_name: str) -> Iterator[str]:
    """A login role with no privileges of its own (cluster-wide, so dropped after the test)."""
    role = f"ilp_service_{uuid.uuid4().hex[:8]}"
    with server_connection() as connection:
        connection.execute(f'CREATE ROLE "{role}" LOGIN')
    yield role
    owner = create_database_engine(database_url(postgres_name))
    with owner.begin() as connection:
        connection.execute(text(f'DROP OWNED BY "{role}"'))  # its grants in the test's database
    owner.dispose()
    with server_connection() as connection:
        connection.execute(f'DROP ROLE "{role}"')


def test_the_service_role_serves_patients_and_may_only_add_to_the_audit_trail(
    postgres_name: str, postgres_url: str, service_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ILP_DATABASE_URL", postgres_url)  # the owner's
    get_settings.cache_clear()
    granted = CliRunner().invoke(cli.app, ["db", "grant-service-role", service_role])
    get_settings.cache_clear()
    assert granted.exit_code == 0, granted.output
    assert "audit_event: SELECT, INSERT\n" in granted.output
    assert "resource: SELECT, INSERT, UPDATE, DELETE\n" in granted.output

    service_url = database_url(postgres_name, user=service_role)
    check_schema_current(service_url)  # the start-up check works as the role
    app = create_app(settings_for(service_url))
    try:
        with TestClient(app) as http:
            headers = admin_headers(app) | FHIR_JSON
            created = http.post("/fhir/Patient", json=patient_json(), headers=headers)
            assert created.status_code == 201, created.text
            read = http.get(f"/fhir/Patient/{created.json()['id']}", headers=headers)
            assert read.status_code == 200, read.text

        with app.state.database.engine.connect() as connection:
            events = connection.execute(text("SELECT interaction FROM audit_event ORDER BY recorded")).scalars().all()
            assert events == ["create", "read"]
        for statement in FORBIDDEN_TO_THE_SERVICE:
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                app.state.database.engine.begin() as connection,
            ):
                connection.execute(text(statement))
    finally:
        app.state.database.engine.dispose()


def test_a_superuser_is_refused_as_the_service_role(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ILP_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    refused = CliRunner().invoke(cli.app, ["db", "grant-service-role", "postgres"])
    missing = CliRunner().invoke(cli.app, ["db", "grant-service-role", "no_such_role"])
    get_settings.cache_clear()
    assert refused.exit_code == 1
    assert "superuser" in refused.output
    assert missing.exit_code == 1
    assert "CREATE ROLE" in missing.output
