"""The integrations' credential store: secrets encrypted at rest, found at the nearest organization above a facility;
and SATUSEHAT's configuration (URLs on or off, per-puskesmas or single-facility credentials, the CLI)."""

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import text
from typer.testing import CliRunner

from ilp_api.cli import app
from ilp_api.db.engine import Database
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore, CredentialsUnreadable
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.config import (
    credential_for,
    endpoints,
    remote_identifier_system,
    save_credential,
    status,
)
from ilp_api.integrations.satusehat.demo import connect_demo_to_simulator
from ilp_api.integrations.satusehat.repository import supervisor
from ilp_api.settings import JwtKey, Settings, get_settings

KEY = Fernet.generate_key()
SECRET = "s3cr3t-of-the-puskesmas"


def test_secrets_are_encrypted_at_rest_and_found_above_a_facility(db: Database, network: dict[str, str]) -> None:
    with db.session(write=True) as session:
        credentials = CredentialStore(session, CredentialCipher(KEY))
        credentials.save(
            "satusehat", network["puskesmas"], {"client_id": "c1", "org_id": "100011"}, {"client_secret": SECRET}
        )
        credentials.save("bpjs", network["pustu"], {"cons_id": "9"}, {"secret_key": "k"})
    with db.engine.connect() as connection:
        stored = connection.execute(text("SELECT plain_values, secret_values FROM integration_credential")).all()
    assert len(stored) == 2
    assert all(SECRET not in row.secret_values for row in stored)
    assert all("client_secret" not in row.secret_values and "secret_key" not in row.secret_values for row in stored)

    with db.session(write=False) as session:
        credentials = CredentialStore(session, CredentialCipher(KEY))
        for below in ("posyandu", "pustu", "puskesmas"):
            found = credentials.nearest("satusehat", network[below])
            assert found is not None
            assert (found.organization_id, found.secrets["client_secret"]) == (network["puskesmas"], SECRET)
        assert credentials.nearest("satusehat", network["dinkes"]) is None, "nothing above the dinkes"
        bpjs = credentials.nearest("bpjs", network["posyandu"])
        assert bpjs is not None
        assert bpjs.organization_id == network["pustu"], "the nearest, per integration"
        assert SECRET not in repr(credentials.get("satusehat", network["puskesmas"]))
        with pytest.raises(CredentialsUnreadable, match="ILP_CREDENTIALS_KEY"):
            CredentialStore(session, CredentialCipher(Fernet.generate_key())).get("satusehat", network["puskesmas"])


def test_production_requires_a_credentials_key() -> None:
    keys = [JwtKey(kid="k", secret=SecretStr("k" * 32))]
    with pytest.raises(ValidationError, match="ILP_CREDENTIALS_KEY is required in production"):
        Settings(environment="production", jwt_keys=keys)


def test_satusehat_urls_switch_the_integration_on(db: Database, network: dict[str, str]) -> None:
    keys = [JwtKey(kid="k", secret=SecretStr("k" * 32))]
    production = Settings(environment="production", jwt_keys=keys, credentials_key=SecretStr(KEY.decode()))
    assert endpoints(production) is None
    assert status(production) == "SATUSEHAT off: ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL are unset"
    with pytest.raises(ValidationError, match="set both ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL"):
        Settings(satusehat_auth_url="https://x/oauth2/v1")
    development = Settings()
    mounted = endpoints(development)
    assert mounted is not None
    assert mounted.simulator
    assert mounted.fhir_url == "http://127.0.0.1:8000/simulator/satusehat/fhir-r4/v1"

    configured = production.model_copy(
        update={"satusehat_auth_url": "https://a/oauth2/v1", "satusehat_fhir_url": "https://a/fhir-r4/v1"}
    )
    single = configured.model_copy(
        update={"satusehat_client_id": "one", "satusehat_client_secret": SecretStr("x"), "satusehat_org_id": "7"}
    )
    with db.session(write=True) as session:
        credentials = CredentialStore(session, CredentialCipher(KEY))
        assert credential_for(credentials, network["posyandu"], configured) is None, "no credentials: none"
        assert credential_for(credentials, network["posyandu"], single) == SatusehatCredential("one", "x", "7")
        simulator = credential_for(credentials, network["posyandu"], development)
        assert simulator is not None
        assert simulator.client_id == "ilp-simulator", "development: the mounted simulator's client"
        save_credential(credentials, network["puskesmas"], SatusehatCredential("c1", SECRET, "100011"))
        assert credential_for(credentials, network["posyandu"], single) == SatusehatCredential("c1", SECRET, "100011")


def test_cli_sets_credentials_and_supervisor(
    client: TestClient, db: Database, network: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ILP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ILP_CREDENTIALS_KEY", KEY.decode())
    get_settings.cache_clear()
    command = ["satusehat", "credentials", "set", "--organization", network["puskesmas"], "--client-id", "c1"]
    try:
        stored = CliRunner().invoke(app, [*command, "--client-secret", SECRET, "--org-id", "100011"])
        unknown = CliRunner().invoke(app, [*command[:4], "nope", *command[5:], "--client-secret", "x", "--org-id", "1"])
        supervised = CliRunner().invoke(
            app, ["satusehat", "supervisor", "set", "--organization", network["posyandu"], "--practitioner-ihs", "1001"]
        )
    finally:
        get_settings.cache_clear()
    assert stored.exit_code == 0, stored.output
    assert SECRET not in stored.output
    assert unknown.exit_code == 1
    assert "Organization/nope is not known" in unknown.output
    assert supervised.exit_code == 0, supervised.output
    with db.session(write=False) as session:
        found = CredentialStore(session, CredentialCipher(KEY)).nearest("satusehat", network["posyandu"])
        assert found is not None
        assert found.secrets == {"client_secret": SECRET}
        assert supervisor(session, [network["posyandu"], network["pustu"]]) == "1001"


def test_the_api_says_whether_satusehat_is_on(client: TestClient, anonymous_client: TestClient) -> None:
    response = client.get("/api/v1/satusehat")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "enabled": True,
        "simulator": True,
        "fhirUrl": "http://127.0.0.1:8000/simulator/satusehat/fhir-r4/v1",
        "status": "SATUSEHAT on: the built-in simulator (development)",
    }
    del anonymous_client.headers["Authorization"]
    assert anonymous_client.get("/api/v1/satusehat").status_code == 401


def test_satusehat_ids_are_shown_under_their_systems() -> None:
    base = "http://ilp-api.example/fhir"
    assert remote_identifier_system("Patient", base) == "https://fhir.kemkes.go.id/id/ihs-number"
    assert remote_identifier_system("Practitioner", base) == "https://fhir.kemkes.go.id/id/nakes-his-number"
    assert remote_identifier_system("Encounter", base) == f"{base}/sid/satusehat-id"


def test_the_demo_is_connected_to_the_simulator_in_development_only(db: Database, network: dict[str, str]) -> None:
    keys = [JwtKey(kid="k", secret=SecretStr("k" * 32))]
    production = Settings(environment="production", jwt_keys=keys, credentials_key=SecretStr(KEY.decode()))
    assert not connect_demo_to_simulator(db, production, [network["puskesmas"]])
    development = Settings()
    assert connect_demo_to_simulator(db, development, [network["puskesmas"]])
    with db.session(write=False) as session:
        store = CredentialStore(session, CredentialCipher.from_settings(development))
        found = store.nearest("satusehat", network["posyandu"])
        assert found is not None
        assert found.values == {"client_id": "ilp-simulator", "org_id": "100011"}
        chain = [network["posyandu"], network["pustu"], network["puskesmas"]]
        assert supervisor(session, chain) == "10009880728"
