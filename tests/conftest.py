"""Test harness: every database test runs on SQLite and on PostgreSQL, with the schema built by Alembic.

PostgreSQL comes from ILP_TEST_POSTGRES_URL (default: the local server, trust auth). Each run creates its own
database and drops it afterwards. Without PostgreSQL the PostgreSQL half is skipped, visibly; with CI=true an
unreachable PostgreSQL ends the run with a failure instead.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from audit_expectations import ExchangeLog, recorded_events
from factories import build_network, create, patient_json
from harness import empty_database, mint_token
from ilp_api.app import create_app
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.security.auth import SecurityState
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import JwtKey, Settings

pytest_plugins = ["live_server"]  # a real HTTP server, for races and third-party clients

POSTGRES_URL = os.environ.get("ILP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip()


POSTGRES_PROBLEM = _postgres_problem()


def pytest_sessionstart(session: pytest.Session) -> None:
    if POSTGRES_PROBLEM and IN_CI:
        pytest.exit(f"CI=true and PostgreSQL at {POSTGRES_URL} is unreachable: {POSTGRES_PROBLEM}", returncode=1)


def _fresh_postgres_database() -> tuple[str, str]:
    name = f"ilp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated database per backend for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ilp.db'}"
        upgrade(url)
        database = Database(create_database_engine(url))
        yield database
        database.engine.dispose()
        return
    if POSTGRES_PROBLEM:
        pytest.skip(f"PostgreSQL unreachable ({POSTGRES_PROBLEM}); set CI=true to make this a failure")
    name, url = _fresh_postgres_database()
    try:
        upgrade(Settings(database_url=url).database_url)
        database = Database(create_database_engine(Settings(database_url=url).database_url))
        yield database
        database.engine.dispose()
    finally:
        _drop_postgres_database(name)


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The session's database, emptied after each test (tests commit for real: concurrency is tested too)."""
    yield database
    empty_database(database)


@pytest.fixture(scope="session")
def settings(database: Database) -> Settings:
    return Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        log_json=True,
        jwt_keys=[JwtKey(kid="test-key", secret=SecretStr("test-signing-key-" + "x" * 32))],
    )


TokenFactory = Callable[[str | None, str], str]


@pytest.fixture
def issue_token(db: Database, settings: Settings) -> TokenFactory:
    """Register a client and mint its access token: ``issue_token(organization_id, "system/*.cruds")``.

    The client row carries no usable secret and the token is signed directly with the configured key: this
    skips a round trip to the token endpoint per test. The token endpoint itself is tested in tests/security.
    """

    def issue(organization_id: str | None, scopes: str) -> str:
        return mint_token(db, settings, organization_id, scopes)

    return issue


@pytest.fixture(scope="session")
def app(database: Database, settings: Settings) -> FastAPI:
    """One application per database for the whole session: building its routes costs ~0.15 s."""
    return create_app(settings, database)


@pytest.fixture
def anonymous_client(db: Database, app: FastAPI) -> Iterator[TestClient]:
    """The API with no credentials: only public endpoints answer.

    Every exchange is recorded; after the test the audit trail must hold exactly one AuditEvent per request
    that touched patient data (see audit_expectations.py).
    """
    exchanges = ExchangeLog()
    # The app lives for the whole session: each test starts with fresh rate limits (token endpoint included).
    app.state.security = SecurityState.from_settings(app.state.settings)
    # A server error comes back as a 500 response (its traceback is logged), so it is recorded and audited too.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.event_hooks = {"request": [], "response": [exchanges.record]}
        yield test_client
    assert recorded_events(db) == exchanges.expected_events(), "the audit trail differs from the requests made"


@pytest.fixture
def client(anonymous_client: TestClient, issue_token: TokenFactory) -> TestClient:
    """The API as an ``ilp/admin`` client (no organization, so no scoping): for tests about the FHIR API itself.

    Access control is tested with organization-bound clients in tests/security.
    """
    anonymous_client.headers["Authorization"] = f"Bearer {issue_token(None, ADMIN_SCOPE)}"
    return anonymous_client


@pytest.fixture
def network(client: TestClient) -> dict[str, str]:
    """Dinkes → puskesmas → pustu → posyandu (RW 001, 002), created by an admin client: their ids."""
    return build_network(client)


@pytest.fixture
def patient(client: TestClient) -> dict[str, Any]:
    """A resident registered by NIK (factories.patient_json), as stored."""
    return create(client, patient_json())


@pytest.fixture(scope="session")
def repository_root() -> Path:
    return Path(__file__).resolve().parents[1]
