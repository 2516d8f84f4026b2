"""A database outage answers 503 with Retry-After, readiness follows the database, liveness does not, and the
service recovers by itself. An error that is a defect rather than unavailability stays a 500.

On PostgreSQL the outage is real: the test's database refuses connections (ALLOW_CONNECTIONS false) and the
service's backends are terminated, for at least OUTAGE_SECONDS, then it is allowed again.
"""

import time
from pathlib import Path

from fastapi.testclient import TestClient
from postgres_helpers import admin_headers, assert_unavailable, server_connection, settings_for
from sqlalchemy import text

from factories import FHIR_JSON, patient_json
from ilp_api.app import create_app
from ilp_api.db.migrate import upgrade
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.security.tokens import TokenClaims

OUTAGE_SECONDS = 5
PAUSE_SECONDS = 0.5  # between rounds of calls during the outage


def set_connections(database: str, allowed: bool) -> None:
    with server_connection() as connection:
        connection.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))


def test_postgresql_outage_answers_503_and_the_service_recovers_by_itself(
    postgres_name: str, postgres_url: str
) -> None:
    app = create_app(settings_for(postgres_url, database_connect_timeout_seconds=2))
    try:
        with TestClient(app) as http:
            headers = admin_headers(app) | FHIR_JSON
            created = http.post("/fhir/Patient", json=patient_json(), headers=headers)
            assert created.status_code == 201, created.text
            patient = f"/fhir/Patient/{created.json()['id']}"
            assert http.get("/health/ready").status_code == 200

            set_connections(postgres_name, allowed=False)
            try:
                started, rounds = time.monotonic(), 0
                while time.monotonic() - started < OUTAGE_SECONDS:
                    rounds += 1
                    assert_unavailable(http.get(patient, headers=headers))
                    assert_unavailable(http.get("/fhir/Patient?gender=male", headers=headers))
                    assert_unavailable(
                        http.post("/fhir/Patient", json=patient_json("9271060312000002"), headers=headers)
                    )
                    assert_unavailable(http.get("/health/ready"))
                    assert http.get("/health/live").status_code == 200
                    time.sleep(PAUSE_SECONDS)
                assert rounds >= 2
            finally:
                set_connections(postgres_name, allowed=True)

            # The first call after the outage is served: the dead connections were discarded, none is reused.
            assert http.get(patient, headers=headers).status_code == 200
            assert http.get("/health/ready").status_code == 200
            metrics = http.get("/metrics").text
            assert 'ilp_database_unavailable_total{kind="transient"}' in metrics
    finally:
        app.state.database.engine.dispose()


def test_an_unreachable_sqlite_database_answers_503(tmp_path: Path) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'missing' / 'ilp.db'}"))  # its folder does not exist
    token = app.state.security.keys.issue(TokenClaims("some-client", None, (ADMIN_SCOPE,)))
    with TestClient(app) as http:
        assert_unavailable(http.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}))
        assert_unavailable(http.get("/health/ready"))
        assert http.get("/health/live").status_code == 200
    app.state.database.engine.dispose()


def test_a_database_error_that_is_a_defect_stays_a_500(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ilp.db'}"
    upgrade(url)
    app = create_app(settings_for(url))
    with TestClient(app, raise_server_exceptions=False) as http:
        headers = admin_headers(app)
        with app.state.database.engine.begin() as connection:
            connection.execute(text("ALTER TABLE resource RENAME TO resource_elsewhere"))  # as a botched migration
        response = http.get("/fhir/Patient", headers=headers)
        assert response.status_code == 500
        assert "Retry-After" not in response.headers
        assert http.get("/health/ready").status_code == 200  # the database itself answers
    app.state.database.engine.dispose()
