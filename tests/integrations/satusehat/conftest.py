"""The SATUSEHAT simulator served by a real uvicorn server, one per test module (its state reset per test): a
server left running would allocate under later tests that measure memory (tests/security/test_client_secrets.py)."""

from collections.abc import Iterator

import pytest

from harness import served
from ilp_api.integrations.satusehat.simulator.app import create_simulator_app
from satusehat_simulator import Simulator


@pytest.fixture(scope="module")
def simulator_server() -> Iterator[Simulator]:
    with served(create_simulator_app(), "satusehat-simulator") as url:
        yield Simulator(url)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Simulator:
    """The simulator with its seeded state only (no faults, nothing received)."""
    simulator_server.admin("POST", "reset")
    return simulator_server
