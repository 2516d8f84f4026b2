"""Real HTTP servers for tests that need one (races, third-party FHIR clients, the PCare simulator), a plugin of
tests/conftest.py.

Send ``live_auth`` (an ``ilp/admin`` access token issued by the live server) with requests to ``live_server``.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from uvicorn._types import ASGIApplication

from harness import free_port
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
    with serving(create_app(settings, db)) as url:
        yield url


@contextmanager
def serving(app: ASGIApplication) -> Iterator[str]:
    """Uvicorn serving ``app`` in a background thread (the API, or a simulator); yields its base URL."""
    port = free_port()
    # A request still hanging (a simulated outage) may delay the shutdown by a second at most.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start within 10 s")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def pcare_simulator_url() -> Iterator[str]:
    """The PCare simulator over real HTTP for the whole session; each user resets it first (pcare_simulator.py)."""
    with serving(create_simulator(SimulatorState(SIMULATOR_CREDENTIALS))) as url:
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
