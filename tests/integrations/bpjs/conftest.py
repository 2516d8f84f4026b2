"""A PCare simulator over real HTTP for the BPJS tests: one server per module, reset before each test."""

from collections.abc import Iterator

import httpx
import pytest
from pcare_simulator import Simulator

from ilp_api.integrations.bpjs.simulator.app import SimulatorState, create_simulator
from ilp_api.integrations.bpjs.simulator.fixtures import SIMULATOR_CREDENTIALS
from live_server import serving


@pytest.fixture(scope="module")
def simulator_server() -> Iterator[str]:
    with serving(create_simulator(SimulatorState(SIMULATOR_CREDENTIALS))) as url:
        yield url


@pytest.fixture
def simulator(simulator_server: str) -> Simulator:
    httpx.post(f"{simulator_server}/_simulator/reset").raise_for_status()
    return Simulator(simulator_server)
