"""The BPJS settings: a trimmed URL, the integration off until every credential is set, and the audit hash key
required in production; per-puskesmas credentials stored with `ilp bpjs credentials set`."""

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from ilp_api.cli import app
from ilp_api.db.engine import Database
from ilp_api.integrations.bpjs.config import pcare_settings, settings_credentials
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.settings import JwtKey, Settings, get_settings

KEYS = [JwtKey(kid="k", secret=SecretStr("x" * 32))]
KEY = Fernet.generate_key()
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
    production = {"environment": "production", "jwt_keys": KEYS, "credentials_key": SecretStr(KEY.decode())}
    with pytest.raises(ValidationError, match="ILP_IDENTIFIER_HASH_KEY"):
        Settings(**production, bpjs_pcare_url="https://apijkn.example/pcare-rest")
    Settings(**production)  # BPJS off: not needed
    Settings(**production, bpjs_pcare_url="https://apijkn.example/pcare-rest", identifier_hash_key=SecretStr("k" * 32))


def test_cli_stores_a_puskesmas_pcare_credentials(
    client: TestClient, db: Database, network: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ILP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ILP_CREDENTIALS_KEY", KEY.decode())
    get_settings.cache_clear()
    command = ["bpjs", "credentials", "set", "--organization", network["puskesmas"], "--cons-id", "1234"]
    secrets = ["--secret", "consumer-secret", "--user-key", "user-key", "--username", "pkm", "--password", "pw"]
    try:
        stored = CliRunner().invoke(app, [*command, *secrets])
    finally:
        get_settings.cache_clear()
    assert stored.exit_code == 0, stored.output
    assert "consumer-secret" not in stored.output
    with db.session(write=False) as session:
        found = CredentialStore(session, CredentialCipher(KEY)).nearest("bpjs", network["posyandu"])
    assert found is not None
    assert (found.values, found.secrets) == (
        {"cons_id": "1234", "username": "pkm", "kd_aplikasi": "095"},
        {"secret": "consumer-secret", "user_key": "user-key", "password": "pw"},
    )
