"""``ilp demo`` in development: the demo's puskesmas deliver to the built-in simulator."""

from collections.abc import Sequence

from ilp_api.db.engine import Database
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.config import endpoints, save_credential
from ilp_api.integrations.satusehat.repository import set_supervisor
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT, SEED_PRACTITIONERS
from ilp_api.settings import Settings


def connect_demo_to_simulator(database: Database, settings: Settings, puskesmas_ids: Sequence[str]) -> bool:
    """Against the mounted simulator (development, SATUSEHAT URLs unset): each demo puskesmas gets the simulator's
    seeded client as its credentials, and its seeded nakes as the supervising nakes of the posyandu below it (the
    demo's visits are kader's, who have no IHS number). Whether it did (not against a real SATUSEHAT)."""
    found = endpoints(settings)
    if found is None or not found.simulator:
        return False
    credential = SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, SEED_CLIENT.organization_id)
    with database.session(write=True) as session:
        store = CredentialStore(session, CredentialCipher.from_settings(settings))
        for puskesmas in puskesmas_ids:
            save_credential(store, puskesmas, credential)
            set_supervisor(session, puskesmas, SEED_PRACTITIONERS[0]["ihs"])
    return True
