"""Helpers to get authenticated: an Organization to own a client, registered clients, access tokens, and the
scoping tests' network of organizations with a client each (``network``).

    def test_read(anonymous_client, organization_id, bearer):
        response = anonymous_client.get("/fhir/Patient", headers=bearer("system/Patient.rs", organization_id))

Unlike ``issue_token`` (tests/conftest.py), these go through the real token endpoint and the stored secret hash
(HMAC-SHA256: cheap, so no test needs to make it cheaper).
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from scoped_network import Network, scoped_network
from security_helpers import Bearer, MakeClient, TokenFor, insert_organization

from ilp_api.db.engine import Database
from ilp_api.security.clients import register_client


@pytest.fixture
def organization_id(db: Database) -> str:
    return insert_organization(db)


@pytest.fixture
def make_client(db: Database) -> MakeClient:
    """``make_client(organization_id, scopes="system/*.cruds", name="test client") -> (client_id, secret)``."""

    def make(organization_id: str | None, scopes: str = "system/*.cruds", name: str = "test client") -> tuple[str, str]:
        with db.session(write=True) as session:
            new = register_client(session, name, organization_id, scopes)
        return new.info.client_id, new.client_secret

    return make


@pytest.fixture
def token_for(anonymous_client: TestClient) -> TokenFor:
    """``token_for(client_id, secret, scope=None) -> access token`` from the token endpoint."""

    def token(client_id: str, client_secret: str, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if scope is not None:
            form["scope"] = scope
        response = anonymous_client.post("/oauth2/token", data=form)
        assert response.status_code == 200, response.text
        access_token: str = response.json()["access_token"]
        return access_token

    return token


@pytest.fixture
def bearer(make_client: MakeClient, token_for: TokenFor) -> Bearer:
    """``bearer(scopes, organization_id) -> {"Authorization": "Bearer ..."}`` for a newly registered client."""

    def headers(scopes: str, organization_id: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(*make_client(organization_id, scopes))}"}

    return headers


@pytest.fixture
def network(client: TestClient, issue_token: Any) -> Network:
    """The scoping tests' network (scoped_network.py), built by an admin client, with a client per organization."""
    return scoped_network(client, issue_token)
