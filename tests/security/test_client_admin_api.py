"""The admin API for clients (/api/v1/clients, ilp/admin only) and the demo clients."""

import pytest
from fastapi.testclient import TestClient
from security_helpers import Bearer, basic_auth, insert_organization

from ilp_api.db.engine import Database
from ilp_api.security.clients import create_demo_clients, list_clients


def test_register_list_revoke(anonymous_client: TestClient, bearer: Bearer, organization_id: str) -> None:
    admin = bearer("ilp/admin", None)
    registration = {"name": "SIMPUS Sukamaju", "organization_id": organization_id, "scope": "system/*.cruds"}
    created = anonymous_client.post("/api/v1/clients", json=registration, headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["Cache-Control"] == "no-store"
    new = created.json()
    assert new["name"] == "SIMPUS Sukamaju"
    assert new["organization_id"] == organization_id
    assert new["scope"] == "system/*.cruds"
    assert new["revoked_at"] is None

    token = anonymous_client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(new["client_id"], new["client_secret"]),
    )
    assert token.status_code == 200, token.text

    listed = anonymous_client.get("/api/v1/clients", headers=admin)
    assert listed.status_code == 200
    assert new["client_id"] in [entry["client_id"] for entry in listed.json()]
    assert all("client_secret" not in entry and "secret_hash" not in entry for entry in listed.json())

    revoked = anonymous_client.post(f"/api/v1/clients/{new['client_id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = anonymous_client.post(f"/api/v1/clients/{new['client_id']}/revoke", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_admin_scope_required(anonymous_client: TestClient, bearer: Bearer, organization_id: str) -> None:
    headers = bearer("system/*.cruds", organization_id)
    for response in (
        anonymous_client.get("/api/v1/clients", headers=headers),
        anonymous_client.post("/api/v1/clients", json={"name": "x", "scope": "ilp/admin"}, headers=headers),
        anonymous_client.post("/api/v1/clients/anything/revoke", headers=headers),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
        assert response.headers["WWW-Authenticate"] == (
            'Bearer realm="ilp-api", error="insufficient_scope", scope="ilp/admin"'
        )
    assert anonymous_client.get("/api/v1/clients").status_code == 401


def test_registration_rules(anonymous_client: TestClient, bearer: Bearer, organization_id: str) -> None:
    admin = bearer("ilp/admin", None)
    cases = [
        ({"name": "x", "organization_id": "nope", "scope": "system/*.rs"}, "organization_id"),
        ({"name": "x", "scope": "system/*.rs"}, "organization_id"),  # only admins may have no organization
        ({"name": "x", "scope": "ilp/admin system/*.rs"}, "organization_id"),
        ({"name": "x", "organization_id": organization_id, "scope": "patient/*.rs"}, "scope"),
        ({"name": "x", "organization_id": organization_id, "scope": " "}, "scope"),
        ({"name": " ", "organization_id": organization_id, "scope": "system/*.rs"}, "name"),
    ]
    for registration, expression in cases:
        response = anonymous_client.post("/api/v1/clients", json=registration, headers=admin)
        assert response.status_code == 422, (registration, response.text)
        assert response.json()["issue"][0]["expression"] == [expression]

    admin_client = anonymous_client.post("/api/v1/clients", json={"name": "ops", "scope": "ilp/admin"}, headers=admin)
    assert admin_client.status_code == 201
    assert admin_client.json()["organization_id"] is None


def test_revoke_unknown_client(anonymous_client: TestClient, bearer: Bearer) -> None:
    response = anonymous_client.post("/api/v1/clients/nobody/revoke", headers=bearer("ilp/admin", None))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_create_demo_clients(anonymous_client: TestClient, db: Database) -> None:
    organizations = {label: insert_organization(db, label) for label in ("dinkes", "puskesmas", "posyandu")}
    with db.session(write=True) as session:
        first = create_demo_clients(session, organizations)
    with db.session(write=True) as session:
        second = create_demo_clients(session, organizations)  # a re-run replaces, not adds

    assert [entry["label"] for entry in second] == ["dinkes", "puskesmas", "posyandu"]
    assert [entry["organization_id"] for entry in second] == list(organizations.values())
    with db.session(write=False) as session:
        registered = {client.client_id for client in list_clients(session)}
    assert {entry["client_id"] for entry in second} <= registered
    assert not {entry["client_id"] for entry in first} & registered
    for entry in second:
        response = anonymous_client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers=basic_auth(entry["client_id"], entry["client_secret"]),
        )
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == entry["scope"] == "system/*.cruds"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "SIMPUS\x00Sukamaju"),
        ("name", "SIMPUS\nSukamaju"),
        ("name", "SIMPUS\x1b[31m"),
        ("name", "x" * 256),
        ("organization_id", "\x00"),
        ("organization_id", "x" * 65),
        ("organization_id", "abc\n"),
        ("scope", "system/*.rs\x00"),
    ],
)
def test_control_characters_and_overlong_values_are_refused(
    anonymous_client: TestClient, bearer: Bearer, organization_id: str, field: str, value: str
) -> None:
    registration = {"name": "SIMPUS", "organization_id": organization_id, "scope": "system/*.rs"} | {field: value}
    response = anonymous_client.post("/api/v1/clients", json=registration, headers=bearer("ilp/admin", None))
    assert response.status_code == 422, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["expression"] == [field]


@pytest.mark.parametrize("client_id", ["%00", "a%00b", "%1B", "%7F", "x" * 65, "%C3%AF"])
def test_revoke_malformed_client_id_is_not_found(anonymous_client: TestClient, bearer: Bearer, client_id: str) -> None:
    response = anonymous_client.post(f"/api/v1/clients/{client_id}/revoke", headers=bearer("ilp/admin", None))
    assert response.status_code == 404, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
