"""Where SATUSEHAT is and whose credentials a visit goes out with.

- ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL: both set, the integration is on; both unset, it is off,
  except in development, where the simulator ``ilp serve`` mounts (at ILP_PUBLIC_BASE_URL, else
  http://127.0.0.1:8000) is used; one without the other refuses to start (settings.py).
- Credentials per puskesmas (``ilp satusehat credentials set``), found for a visit at the nearest organization at
  or above its service provider; else the single-facility ILP_SATUSEHAT_CLIENT_ID/_CLIENT_SECRET/_ORG_ID; else, in
  development against the mounted simulator, the simulator's seeded client.
"""

from dataclasses import dataclass

from ilp_api.integrations.credentials import CredentialStore
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.protocol import IHS_NUMBER, NAKES_IHS_NUMBER
from ilp_api.integrations.satusehat.simulator import mounted_urls
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT
from ilp_api.settings import Settings

INTEGRATION = "satusehat"
DEVELOPMENT_SERVER = "http://127.0.0.1:8000"  # where `ilp serve` listens by default


@dataclass(frozen=True)
class Endpoints:
    auth_url: str
    fhir_url: str
    simulator: bool  # the simulator mounted in development


def endpoints(settings: Settings) -> Endpoints | None:
    """SATUSEHAT's base URLs, or None when the integration is off."""
    auth, fhir = settings.satusehat_auth_url, settings.satusehat_fhir_url
    if auth and fhir:  # the settings refuse one without the other
        return Endpoints(auth, fhir, simulator=False)
    if settings.environment != "development":
        return None
    auth, fhir = mounted_urls((settings.public_base_url or DEVELOPMENT_SERVER).rstrip("/"))
    return Endpoints(auth, fhir, simulator=True)


def status(settings: Settings) -> str:
    """One line for operators: whether the integration is on, and against what."""
    found = endpoints(settings)
    if found is None:
        return "SATUSEHAT off: ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL are unset"
    where = "the built-in simulator (development)" if found.simulator else found.fhir_url
    return f"SATUSEHAT on: {where}"


def remote_identifier_system(resource_type: str, canonical_base: str) -> str:
    """How a local resource shows the id SATUSEHAT gave it (the outbox's read side, per destination): a Patient its
    IHS number, a Practitioner its nakes IHS number, anything else ``{canonical base}/sid/satusehat-id`` (the
    system an Organization's SATUSEHAT id is registered under already)."""
    systems = {"Patient": IHS_NUMBER, "Practitioner": NAKES_IHS_NUMBER}
    return systems.get(resource_type, f"{canonical_base}/sid/satusehat-id")


def save_credential(store: CredentialStore, organization_id: str, credential: SatusehatCredential) -> None:
    store.save(
        INTEGRATION,
        organization_id,
        {"client_id": credential.client_id, "org_id": credential.organization_id},
        {"client_secret": credential.client_secret},
    )


def credential_for(store: CredentialStore, organization_id: str, settings: Settings) -> SatusehatCredential | None:
    """The credential a visit at ``organization_id`` (its service provider) goes out with, or None."""
    stored = store.nearest(INTEGRATION, organization_id)
    if stored is not None:
        return SatusehatCredential(stored.values["client_id"], stored.secrets["client_secret"], stored.values["org_id"])
    secret = settings.satusehat_client_secret
    if settings.satusehat_client_id and secret is not None and settings.satusehat_org_id:
        return SatusehatCredential(settings.satusehat_client_id, secret.get_secret_value(), settings.satusehat_org_id)
    found = endpoints(settings)
    if found is not None and found.simulator:
        return SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, SEED_CLIENT.organization_id)
    return None
