"""The BPJS settings: a trimmed URL, the integration off until every credential is set, and the audit hash key
required in production."""

import pytest
from pydantic import SecretStr, ValidationError

from ilp_api.integrations.bpjs.config import pcare_settings, settings_credentials
from ilp_api.settings import JwtKey, Settings

KEYS = [JwtKey(kid="k", secret=SecretStr("x" * 32))]
CREDENTIALS = {
    "bpjs_cons_id": "16800",
    "bpjs_secret": SecretStr("s"),
    "bpjs_user_key": SecretStr("u"),
    "bpjs_username": "pkm",
    "bpjs_password": SecretStr("p"),
}


def test_a_configured_url_is_trimmed() -> None:
    configured = pcare_settings(Settings(bpjs_pcare_url=" https://apijkn.example/pcare-rest/ "))
    assert configured is not None
    assert configured.base_url == "https://apijkn.example/pcare-rest"


def test_the_integration_is_off_until_url_and_every_credential_are_set() -> None:
    assert pcare_settings(Settings()) is None
    assert settings_credentials(Settings(**{**CREDENTIALS, "bpjs_password": None})) is None
    credentials = settings_credentials(Settings(**CREDENTIALS))
    assert credentials is not None
    assert (credentials.cons_id, credentials.secret, credentials.kd_aplikasi) == ("16800", "s", "095")


def test_production_with_bpjs_needs_the_identifier_hash_key() -> None:
    with pytest.raises(ValidationError, match="ILP_IDENTIFIER_HASH_KEY"):
        Settings(environment="production", jwt_keys=KEYS, bpjs_pcare_url="https://apijkn.example/pcare-rest")
    Settings(environment="production", jwt_keys=KEYS)  # BPJS off: not needed
    Settings(
        environment="production",
        jwt_keys=KEYS,
        bpjs_pcare_url="https://apijkn.example/pcare-rest",
        identifier_hash_key=SecretStr("k" * 32),
    )
