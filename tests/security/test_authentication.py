"""authenticate and require, through a small protected route: tokens, keys, expiry, revocation, rate limit."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from security_helpers import NEW_KEY, MakeClient, TokenFor, basic_auth

from ilp_api.app import create_app
from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.security.auth import CurrentPrincipal, Principal, require
from ilp_api.security.clients import revoke_client
from ilp_api.settings import JwtKey, Settings

ProtectedApp = Callable[..., TestClient]


def _protected(app: FastAPI) -> FastAPI:
    @app.get("/test/whoami")
    def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "client_id": principal.client_id,
            "organization_id": principal.organization_id,
            "scopes": sorted(principal.scopes),
            "is_admin": principal.is_admin,
        }

    @app.get("/test/{resource_type}/{interaction}")
    def check(principal: CurrentPrincipal, resource_type: str, interaction: str) -> dict[str, bool]:
        require(principal, resource_type, interaction)
        return {"allowed": True}

    return app


@pytest.fixture
def protected(db: Database, settings: Settings) -> Iterator[ProtectedApp]:
    """``protected(**setting_overrides)``: the app plus /test routes that authenticate and require."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            app = _protected(create_app(settings.model_copy(update=overrides), db))
            return stack.enter_context(TestClient(app))

        yield make


@pytest.fixture
def key(settings: Settings) -> JwtKey:
    """The signing key the test settings configure."""
    return settings.jwt_keys[0]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _forged(key: JwtKey, **changes: Any) -> str:
    now = utc_now()
    claims = {
        "iss": "ilp-api",
        "sub": "someone",
        "aud": "ilp-api",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "x",
        "scope": "system/*.cruds",
    } | changes
    return jwt.encode(claims, key.secret.get_secret_value(), algorithm="HS256", headers={"kid": key.kid})


def _assert_invalid_token(response: Any, description: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "login"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="ilp-api", error="invalid_token", error_description="')
    assert description in challenge


def test_principal_from_token(
    protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id, "system/Patient.rs system/Encounter.cruds")
    response = protected().get("/test/whoami", headers=_bearer(token_for(client_id, secret)))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "client_id": client_id,
        "organization_id": organization_id,
        "scopes": ["system/Encounter.cruds", "system/Patient.rs"],
        "is_admin": False,
    }


def test_admin_principal_has_no_organization(
    protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor
) -> None:
    response = protected().get("/test/whoami", headers=_bearer(token_for(*make_client(None, "ilp/admin"))))
    assert response.json()["organization_id"] is None
    assert response.json()["is_admin"] is True


def test_missing_token(protected: ProtectedApp) -> None:
    response = protected().get("/test/whoami")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="ilp-api"'


@pytest.mark.parametrize("authorization", ["Basic abc", "Bearer", "Bearer not.a.jwt", "Bearer abc"])
def test_malformed_authorization(protected: ProtectedApp, authorization: str) -> None:
    response = protected().get("/test/whoami", headers={"Authorization": authorization})
    _assert_invalid_token(response, "")


def test_require(protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor, organization_id: str) -> None:
    app = protected()
    headers = _bearer(token_for(*make_client(organization_id, "system/Patient.rs")))
    assert app.get("/test/Patient/r", headers=headers).status_code == 200
    assert app.get("/test/Patient/s", headers=headers).status_code == 200

    response = app.get("/test/Patient/c", headers=headers)
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="ilp-api", error="insufficient_scope", scope="system/Patient.c"'
    )
    assert app.get("/test/Encounter/r", headers=headers).status_code == 403


def test_token_narrowed_by_requested_scope(
    protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id, "system/*.cruds")
    headers = _bearer(token_for(client_id, secret, scope="system/Patient.rs"))
    app = protected()
    assert app.get("/test/Patient/r", headers=headers).status_code == 200
    assert app.get("/test/Patient/u", headers=headers).status_code == 403


def test_key_rotation(key: JwtKey, protected: ProtectedApp, make_client: MakeClient, organization_id: str) -> None:
    new_key, old_key = NEW_KEY, key
    credentials = basic_auth(*make_client(organization_id))
    form = {"grant_type": "client_credentials"}

    before = protected(jwt_keys=[old_key])
    old_token = before.post("/oauth2/token", data=form, headers=credentials).json()["access_token"]
    assert jwt.get_unverified_header(old_token)["kid"] == old_key.kid

    during = protected(jwt_keys=[new_key, old_key])
    new_token = during.post("/oauth2/token", data=form, headers=credentials).json()["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    assert during.get("/test/whoami", headers=_bearer(old_token)).status_code == 200
    assert during.get("/test/whoami", headers=_bearer(new_token)).status_code == 200

    after = protected(jwt_keys=[new_key])
    assert after.get("/test/whoami", headers=_bearer(new_token)).status_code == 200
    _assert_invalid_token(after.get("/test/whoami", headers=_bearer(old_token)), "not signed by a key this server")


def test_unknown_kid(protected: ProtectedApp) -> None:
    token = _forged(JwtKey(kid="elsewhere", secret="c" * 32))
    _assert_invalid_token(protected().get("/test/whoami", headers=_bearer(token)), "not signed by a key")


def test_known_kid_wrong_secret(key: JwtKey, protected: ProtectedApp) -> None:
    token = _forged(JwtKey(kid=key.kid, secret="c" * 32))
    _assert_invalid_token(protected().get("/test/whoami", headers=_bearer(token)), "InvalidSignatureError")


def test_expired_token(key: JwtKey, protected: ProtectedApp) -> None:
    long_ago = utc_now() - timedelta(hours=1)
    token = _forged(key, iat=long_ago, exp=long_ago + timedelta(minutes=5))
    _assert_invalid_token(protected().get("/test/whoami", headers=_bearer(token)), "has expired")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"aud": "someone-else"}, "InvalidAudienceError"),
        ({"iss": "someone-else"}, "InvalidIssuerError"),
    ],
)
def test_wrong_audience_or_issuer(key: JwtKey, protected: ProtectedApp, changes: dict[str, str], error: str) -> None:
    token = _forged(key, **changes)
    _assert_invalid_token(protected().get("/test/whoami", headers=_bearer(token)), error)


def test_none_algorithm_rejected(key: JwtKey, protected: ProtectedApp) -> None:
    now = utc_now()
    claims = {"iss": "ilp-api", "sub": "x", "aud": "ilp-api", "iat": now, "exp": now + timedelta(minutes=5)}
    token = jwt.encode(
        claims | {"jti": "x", "scope": "system/*.cruds"}, None, algorithm="none", headers={"kid": "test-2"}
    )
    _assert_invalid_token(protected().get("/test/whoami", headers=_bearer(token)), "")


def test_tampered_token(
    protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor, organization_id: str
) -> None:
    token = token_for(*make_client(organization_id, "system/Patient.rs"))
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged_payload = jwt.utils.base64url_encode(
        jwt.api_jws.json.dumps(claims | {"scope": "system/*.cruds"}, separators=(",", ":")).encode()
    ).decode()
    response = protected().get("/test/whoami", headers=_bearer(f"{header}.{forged_payload}.{signature}"))
    _assert_invalid_token(response, "InvalidSignatureError")


def test_revoked_client_within_bound(
    db: Database, protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id)
    headers = _bearer(token_for(client_id, secret))
    immediate = protected(client_status_cache_seconds=0)
    cached = protected(client_status_cache_seconds=3600)
    assert immediate.get("/test/whoami", headers=headers).status_code == 200
    assert cached.get("/test/whoami", headers=headers).status_code == 200

    with db.session(write=True) as session:
        revoke_client(session, client_id)

    _assert_invalid_token(immediate.get("/test/whoami", headers=headers), "revoked")
    # A process that looked within the bound keeps its answer until the bound has passed: that is the bound.
    assert cached.get("/test/whoami", headers=headers).status_code == 200


def test_rate_limit(
    protected: ProtectedApp, make_client: MakeClient, token_for: TokenFor, organization_id: str
) -> None:
    app = protected(rate_limit_per_minute=6, rate_limit_burst=2)
    first = _bearer(token_for(*make_client(organization_id)))
    second = _bearer(token_for(*make_client(organization_id)))
    assert app.get("/test/whoami", headers=first).status_code == 200
    assert app.get("/test/whoami", headers=first).status_code == 200

    response = app.get("/test/whoami", headers=first)
    assert response.status_code == 429
    assert response.json()["issue"][0]["code"] == "throttled"
    assert 1 <= int(response.headers["Retry-After"]) <= 10
    # The bucket is the client's: another client is unaffected.
    assert app.get("/test/whoami", headers=second).status_code == 200


def test_principal_helpers() -> None:
    principal = Principal("c", "org", frozenset({"system/Patient.rs"}))
    assert principal.can("Patient", "r")
    assert not principal.can("Patient", "d")
    assert not principal.is_admin
    admin = Principal("a", None, frozenset({"ilp/admin"}))
    assert admin.is_admin
    assert admin.can("Patient", "d")
