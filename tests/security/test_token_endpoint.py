"""POST /oauth2/token (RFC 6749 client credentials) and /.well-known/smart-configuration."""

import base64

import jwt
import pytest
from fastapi.testclient import TestClient
from security_helpers import MakeClient, basic_auth

from ilp_api.settings import Settings

GRANT = {"grant_type": "client_credentials"}


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def _assert_oauth_error(response: object, status: int, error: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == error
    assert body["error_description"]
    assert "resourceType" not in body


def test_token_with_form_credentials(
    settings: Settings, anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id, "system/*.cruds")
    response = anonymous_client.post("/oauth2/token", data=GRANT | {"client_id": client_id, "client_secret": secret})

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "system/*.cruds"
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "HS256", "typ": "JWT", "kid": settings.jwt_keys[0].kid}
    claims = _claims(body["access_token"])
    assert claims["sub"] == client_id
    assert claims["org"] == organization_id
    assert claims["scope"] == "system/*.cruds"
    assert claims["iss"] == "ilp-api"
    assert claims["aud"] == "ilp-api"
    assert claims["exp"] == claims["iat"] + 300  # type: ignore[operator]
    assert claims["jti"]


def test_token_with_basic_credentials(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id, "system/Patient.rs system/Encounter.cruds")
    response = anonymous_client.post("/oauth2/token", data=GRANT, headers=basic_auth(client_id, secret))

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/Patient.rs system/Encounter.cruds"
    assert _claims(response.json()["access_token"])["sub"] == client_id


def test_each_token_is_unique(anonymous_client: TestClient, make_client: MakeClient, organization_id: str) -> None:
    client_id, secret = make_client(organization_id)
    form = GRANT | {"client_id": client_id, "client_secret": secret}
    first, second = (anonymous_client.post("/oauth2/token", data=form).json()["access_token"] for _ in range(2))
    assert _claims(first)["jti"] != _claims(second)["jti"]


@pytest.mark.parametrize(
    ("registered", "requested", "granted"),
    [
        ("system/*.cruds", "system/Patient.rs", "system/Patient.rs"),
        ("system/*.cruds", "system/Patient.rs system/Encounter.c", "system/Patient.rs system/Encounter.c"),
        ("system/Patient.read", "system/Patient.rs", "system/Patient.rs"),
        ("system/Patient.rs system/Encounter.rs", "", "system/Patient.rs system/Encounter.rs"),
    ],
)
def test_requested_scope_within_registered(
    anonymous_client: TestClient,
    make_client: MakeClient,
    organization_id: str,
    registered: str,
    requested: str,
    granted: str,
) -> None:
    client_id, secret = make_client(organization_id, registered)
    response = anonymous_client.post(
        "/oauth2/token", data=GRANT | {"scope": requested}, headers=basic_auth(client_id, secret)
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == granted
    assert _claims(response.json()["access_token"])["scope"] == granted


@pytest.mark.parametrize(
    "requested",
    ["system/*.cruds", "system/Patient.rs system/Patient.c", "ilp/admin", "patient/Patient.rs", "openid"],
)
def test_scope_beyond_registered_is_invalid_scope(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str, requested: str
) -> None:
    client_id, secret = make_client(organization_id, "system/Patient.rs")
    response = anonymous_client.post(
        "/oauth2/token", data=GRANT | {"scope": requested}, headers=basic_auth(client_id, secret)
    )
    _assert_oauth_error(response, 400, "invalid_scope")


def test_wrong_secret_is_invalid_client(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, _ = make_client(organization_id)
    response = anonymous_client.post("/oauth2/token", data=GRANT | {"client_id": client_id, "client_secret": "wrong"})
    _assert_oauth_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response.headers


def test_wrong_basic_secret_is_invalid_client_with_challenge(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, _ = make_client(organization_id)
    response = anonymous_client.post("/oauth2/token", data=GRANT, headers=basic_auth(client_id, "wrong"))
    _assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="ilp-api"'


def test_unknown_client_is_invalid_client(anonymous_client: TestClient) -> None:
    response = anonymous_client.post("/oauth2/token", data=GRANT, headers=basic_auth("nobody", "secret"))
    _assert_oauth_error(response, 401, "invalid_client")


def test_revoked_client_gets_no_token(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id)
    admin = make_client(None, "ilp/admin")
    admin_token = anonymous_client.post("/oauth2/token", data=GRANT, headers=basic_auth(*admin)).json()["access_token"]
    revoked = anonymous_client.post(
        f"/api/v1/clients/{client_id}/revoke", headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert revoked.status_code == 200, revoked.text

    response = anonymous_client.post("/oauth2/token", data=GRANT, headers=basic_auth(client_id, secret))
    _assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "authorization",
    ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()],
)
def test_malformed_basic_is_invalid_client(anonymous_client: TestClient, authorization: str) -> None:
    response = anonymous_client.post("/oauth2/token", data=GRANT, headers={"Authorization": authorization})
    _assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="ilp-api"'


def test_missing_credentials_is_invalid_client(anonymous_client: TestClient) -> None:
    _assert_oauth_error(anonymous_client.post("/oauth2/token", data=GRANT), 401, "invalid_client")
    _assert_oauth_error(anonymous_client.post("/oauth2/token", data=GRANT | {"client_id": "x"}), 401, "invalid_client")


def test_unsupported_grant_type(anonymous_client: TestClient, make_client: MakeClient, organization_id: str) -> None:
    client_id, secret = make_client(organization_id)
    for grant in ("password", "authorization_code", "refresh_token"):
        response = anonymous_client.post(
            "/oauth2/token", data={"grant_type": grant}, headers=basic_auth(client_id, secret)
        )
        _assert_oauth_error(response, 400, "unsupported_grant_type")


def test_missing_grant_type_is_invalid_request(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id)
    response = anonymous_client.post(
        "/oauth2/token", data={"scope": "system/*.rs"}, headers=basic_auth(client_id, secret)
    )
    _assert_oauth_error(response, 400, "invalid_request")


def test_json_body_is_invalid_request(anonymous_client: TestClient) -> None:
    response = anonymous_client.post("/oauth2/token", json={"grant_type": "client_credentials"})
    _assert_oauth_error(response, 400, "invalid_request")


def test_repeated_parameter_is_invalid_request(anonymous_client: TestClient) -> None:
    response = anonymous_client.post(
        "/oauth2/token",
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _assert_oauth_error(response, 400, "invalid_request")


def test_two_authentication_methods_is_invalid_request(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id)
    response = anonymous_client.post(
        "/oauth2/token",
        data=GRANT | {"client_id": client_id, "client_secret": secret},
        headers=basic_auth(client_id, secret),
    )
    _assert_oauth_error(response, 400, "invalid_request")


def test_smart_configuration(anonymous_client: TestClient) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        response = anonymous_client.get(path)
        assert response.status_code == 200
        config = response.json()
        assert config["token_endpoint"] == "http://testserver/oauth2/token"
        assert config["grant_types_supported"] == ["client_credentials"]
        assert config["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
        assert "client-confidential-symmetric" in config["capabilities"]
        assert {"system/*.cruds", "system/*.rs", "system/Patient.rs", "ilp/admin"} <= set(config["scopes_supported"])


def test_openapi_declares_the_security_schemes(anonymous_client: TestClient) -> None:
    document = anonymous_client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth2/token"
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /oauth2/token.",
    }
    assert document["paths"]["/api/v1/clients"]["get"]["security"] == [{"oauth2": []}, {"bearer": []}]
    for public in ("/oauth2/token", "/.well-known/smart-configuration", "/fhir/metadata", "/health"):
        for operation in document["paths"][public].values():
            assert "security" not in operation
