"""The SATUSEHAT simulator served by a real uvicorn server (one for the session, its state reset per test)."""

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from harness import free_port
from ilp_api.integrations.satusehat.simulator.app import create_simulator_app
from satusehat_simulator import Simulator


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    port = free_port()
    config = uvicorn.Config(create_simulator_app(), host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="satusehat-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the SATUSEHAT simulator did not start within 10 s")
        time.sleep(0.01)
    yield Simulator(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Simulator:
    """The simulator with its seeded state only (no faults, nothing received)."""
    simulator_server.admin("POST", "reset")
    return simulator_server
