"""ILP_JWT_KEYS: required in production, a random per-process key (with a warning) in development."""

import logging

import pytest
from pydantic import SecretStr, ValidationError

from ilp_api.security.tokens import InvalidToken, KeyRing, TokenClaims
from ilp_api.settings import JwtKey, Settings


def test_production_refuses_to_start_without_keys() -> None:
    with pytest.raises(ValidationError, match="ILP_JWT_KEYS is required in production"):
        Settings(environment="production", jwt_keys=[])


def test_production_with_keys() -> None:
    keys = [JwtKey(kid="2026-11", secret="k" * 32)]
    settings = Settings(environment="production", jwt_keys=keys, credentials_key=SecretStr("c" * 44))
    assert settings.jwt_keys == keys


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        ([{"kid": "a", "secret": "short"}], "at least 32"),
        ([{"kid": "a", "secret": "x" * 32}, {"kid": "a", "secret": "y" * 32}], "unique"),
    ],
)
def test_bad_keys_are_refused(keys: list[dict[str, str]], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        Settings(jwt_keys=keys)


def test_development_without_keys_uses_a_random_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ilp_api.security.tokens"):
        first = KeyRing.from_settings(Settings(jwt_keys=[]))
    assert "ILP_JWT_KEYS is not set" in caplog.text
    claims = TokenClaims("client", "org", ("system/*.rs",))
    assert first.verify(first.issue(claims)) == claims
    with pytest.raises(InvalidToken, match="not signed by a key"):
        KeyRing.from_settings(Settings(jwt_keys=[])).verify(first.issue(claims))
