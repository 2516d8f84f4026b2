"""The token endpoint under attack and malformed input: failures limited per client id and per address (429
before any secret check), legacy argon2 hashes upgraded, control characters refused (no 500)."""

import base64
import secrets
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from security_helpers import MakeClient, basic_auth
from sqlalchemy import select

from ilp_api.db.engine import Database
from ilp_api.security.auth import SecurityState
from ilp_api.security.repository import client as client_table
from ilp_api.settings import Settings

GRANT = {"grant_type": "client_credentials"}
From = Callable[[str], TestClient]


@pytest.fixture
def from_address(app: FastAPI, anonymous_client: TestClient) -> From:
    """``from_address("10.0.0.7")``: the API as seen from that source address."""
    return lambda address: TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def _post(api: TestClient, client_id: str, client_secret: str) -> int:
    form = GRANT | {"client_id": client_id, "client_secret": client_secret}
    return api.post("/oauth2/token", data=form).status_code


def _assert_slow_down(response: object) -> None:
    assert response.status_code == 429, response.text  # type: ignore[attr-defined]
    assert int(response.headers["Retry-After"]) >= 1  # type: ignore[attr-defined]
    assert response.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == "slow_down"
    assert "Retry-After" in body["error_description"]


def _security(app: FastAPI) -> SecurityState:
    state: SecurityState = app.state.security
    return state


def test_failures_per_client_id_are_limited_from_any_address(
    app: FastAPI, settings: Settings, from_address: From, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id)
    burst = settings.token_failures_burst
    # An attacker spreads wrong secrets for one client over many addresses.
    assert [_post(from_address(f"10.1.0.{n}"), client_id, "wrong") for n in range(burst)] == [401] * burst

    # From a fresh address, even the right secret is refused now: no secret is checked.
    response = from_address("10.1.1.1").post(
        "/oauth2/token", data=GRANT | {"client_id": client_id, "client_secret": secret}
    )
    _assert_slow_down(response)
    # Other clients are not affected.
    other_id, other_secret = make_client(organization_id)
    assert _post(from_address("10.1.1.1"), other_id, other_secret) == 200

    assert _security(app).token_failures.by_client_id.refusals == 1


def test_failures_per_address_are_limited_across_client_ids(
    app: FastAPI, settings: Settings, from_address: From, make_client: MakeClient, organization_id: str
) -> None:
    attacker = from_address("10.2.0.1")
    burst = settings.token_failures_burst
    # One address tries many client ids, unknown and known alike.
    known_id, known_secret = make_client(organization_id)
    attempts = [_post(attacker, secrets.token_hex(16), "guess") for _ in range(burst - 1)]
    attempts.append(_post(attacker, known_id, "guess"))
    assert attempts == [401] * burst

    _assert_slow_down(attacker.post("/oauth2/token", data=GRANT, headers=basic_auth(secrets.token_hex(16), "guess")))
    assert _post(attacker, known_id, known_secret) == 429  # the address is refused before any check
    assert _post(from_address("10.2.0.2"), known_id, known_secret) == 200  # the client itself is not locked
    assert _security(app).token_failures.by_address.refusals == 2


def test_successes_do_not_count(
    settings: Settings, from_address: From, make_client: MakeClient, organization_id: str
) -> None:
    client_id, secret = make_client(organization_id, "system/Patient.rs")
    api = from_address("10.3.0.1")
    twice_the_burst = 2 * settings.token_failures_burst
    assert [_post(api, client_id, secret) for _ in range(twice_the_burst)] == [200] * twice_the_burst
    # A right secret asking for a scope the client lacks is the client's mistake, not a failed authentication.
    for _ in range(twice_the_burst):
        response = api.post(
            "/oauth2/token", data=GRANT | {"scope": "system/*.cruds"}, headers=basic_auth(client_id, secret)
        )
        assert response.status_code == 400
    assert _post(api, client_id, secret) == 200


def test_legacy_argon2_secret_is_upgraded_on_first_success(
    anonymous_client: TestClient, db: Database, make_client: MakeClient, organization_id: str
) -> None:
    client_id, _ = make_client(organization_id)
    secret = secrets.token_urlsafe(32)
    legacy = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(secret)  # as stored before

    def stored_hash() -> str:
        with db.session(write=False) as session:
            value: str = session.execute(
                select(client_table.c.secret_hash).where(client_table.c.client_id == client_id)
            ).scalar_one()
        return value

    with db.engine.begin() as connection:
        connection.execute(
            client_table.update().where(client_table.c.client_id == client_id).values(secret_hash=legacy)
        )

    assert _post(anonymous_client, client_id, "wrong") == 401
    assert stored_hash() == legacy
    assert _post(anonymous_client, client_id, secret) == 200
    upgraded = stored_hash()
    assert upgraded.startswith("hmac-sha256$")
    assert _post(anonymous_client, client_id, secret) == 200
    assert _post(anonymous_client, client_id, "wrong") == 401
    assert stored_hash() == upgraded


CONTROL = ["\x00", "\x01", "\n", "\x7f", "\x9f"]


@pytest.mark.parametrize("character", CONTROL)
@pytest.mark.parametrize("field", ["client_id", "client_secret", "scope", "grant_type"])
def test_control_characters_in_the_form_are_invalid_request(
    anonymous_client: TestClient, make_client: MakeClient, organization_id: str, field: str, character: str
) -> None:
    client_id, secret = make_client(organization_id)
    form = GRANT | {"client_id": client_id, "client_secret": secret, "scope": "system/*.rs"}
    form[field] = form[field] + character
    response = anonymous_client.post("/oauth2/token", data=form)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["error_description"]


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [
        ("\x00", "secret"),
        ("nobody", "se\x00cret"),
        ("nobody", "se%00cret"),  # percent-encoded inside Basic (RFC 6749 §2.3.1)
        ("nobody", "rahasia-dalam-bahasa-ïndonesia"),
        ("x" * 65, "secret"),
        ("nobody", "s" * 257),
    ],
)
def test_malformed_basic_credentials_are_invalid_request(
    anonymous_client: TestClient, client_id: str, client_secret: str
) -> None:
    encoded = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    response = anonymous_client.post("/oauth2/token", data=GRANT, headers={"Authorization": f"Basic {encoded}"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


def test_nul_in_the_raw_body_is_invalid_request(anonymous_client: TestClient) -> None:
    response = anonymous_client.post(
        "/oauth2/token",
        content=b"grant_type=client_credentials&client_id=%00&client_secret=x\x00y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
