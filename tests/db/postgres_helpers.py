"""Helpers for tests on dedicated databases (see conftest.py): URLs, settings, an admin token, a 503 check."""

import os
import uuid
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import make_url

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.outcome import DATABASE_RETRY_AFTER_SECONDS
from ilp_api.security.repository import ClientRecord, ClientRepository
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.security.tokens import TokenClaims
from ilp_api.settings import JwtKey, Settings

SERVER_URL = os.environ.get("ILP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def server_connection() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the server's maintenance database, as the test superuser."""
    return psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=3)


def database_url(name: str, user: str | None = None) -> str:
    """The SQLAlchemy URL of database ``name`` on the test server, as ``user`` (default: the test superuser)."""
    url = make_url(Settings(database_url=SERVER_URL).database_url).set(database=name)
    if user is not None:
        url = url.set(username=user, password=None)
    return url.render_as_string(hide_password=False)


def settings_for(url: str, **overrides: object) -> Settings:
    return Settings(
        database_url=url,
        jwt_keys=[JwtKey(kid="test-key", secret=SecretStr("test-signing-key-" + "x" * 32))],
        **overrides,  # type: ignore[arg-type]
    )


def admin_headers(app: FastAPI) -> dict[str, str]:
    """Register an ``ilp/admin`` client in the app's database and return the headers of a token for it."""
    database: Database = app.state.database
    client_id = f"test-{uuid.uuid4().hex[:12]}"
    with database.session(write=True) as session:
        ClientRepository(session).add(
            ClientRecord(client_id, client_id, None, ADMIN_SCOPE, "no-secret", utc_now(), None)
        )
    token = app.state.security.keys.issue(TokenClaims(client_id, None, (ADMIN_SCOPE,)))
    return {"Authorization": f"Bearer {token}"}


def assert_unavailable(response: httpx.Response, issue_code: str = "transient") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == issue_code
