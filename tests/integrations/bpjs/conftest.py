"""The BPJS tests' simulator: the session's, reset before each test."""

import pytest

from pcare_simulator import Simulator


@pytest.fixture
def simulator(pcare_simulator_url: str) -> Simulator:
    simulator = Simulator(pcare_simulator_url)
    simulator.reset()
    return simulator
