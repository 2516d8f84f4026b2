"""The SATUSEHAT simulator served by a real uvicorn server (one for the session, its state reset per test)."""

from collections.abc import Iterator

import pytest

from harness import served
from ilp_api.integrations.satusehat.simulator.app import create_simulator_app
from satusehat_simulator import Simulator


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    with served(create_simulator_app(), "satusehat-simulator") as url:
        yield Simulator(url)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Simulator:
    """The simulator with its seeded state only (no faults, nothing received)."""
    simulator_server.admin("POST", "reset")
    return simulator_server
