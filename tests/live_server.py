"""Real HTTP servers for tests that need one (races, third-party FHIR clients, the PCare simulator), a plugin of
tests/conftest.py.

Send ``live_auth`` (an ``ilp/admin`` access token issued by the live server) with requests to ``live_server``.
"""

from collections.abc import Iterator

import httpx
import pytest

from harness import served
from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.integrations.bpjs.simulator.app import SimulatorState, create_simulator
from ilp_api.integrations.bpjs.simulator.fixtures import SIMULATOR_CREDENTIALS
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings


@pytest.fixture
def live_server(db: Database, settings: Settings) -> Iterator[str]:
    """Uvicorn serving the app on the test database in a background thread; yields its base URL (no /fhir)."""
    with served(create_app(settings, db), "live-server") as url:
        yield url


@pytest.fixture(scope="module")
def pcare_simulator_url() -> Iterator[str]:
    """The PCare simulator over real HTTP for a module (left running, it would allocate under later tests that
    measure memory); each user resets it first (pcare_simulator.py)."""
    with served(create_simulator(SimulatorState(SIMULATOR_CREDENTIALS)), "pcare-simulator") as url:
        yield url


@pytest.fixture
def live_auth(live_server: str, db: Database) -> dict[str, str]:
    """Authorization header of a freshly registered ``ilp/admin`` client, with a token from ``live_server``."""
    with db.session(write=True) as session:
        admin = register_client(session, "live test admin", None, ADMIN_SCOPE)
    response = httpx.post(
        f"{live_server}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(admin.info.client_id, admin.client_secret),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
