"""The BPJS tests' simulator (the session's, reset before each test) and the API with BPJS pointed at it."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from pcare_simulator import Simulator, bpjs_settings


@pytest.fixture
def simulator(pcare_simulator_url: str) -> Simulator:
    simulator = Simulator(pcare_simulator_url)
    simulator.reset()
    return simulator


@pytest.fixture(scope="module")
def bpjs_app(database: Database, settings: Settings, pcare_simulator_url: str) -> FastAPI:
    """The API with BPJS at the simulator, one per module and database (building an app costs most of a test).
    Shared, so its breaker never opens and clients are not limited: tests of those make apps of their own."""
    shared = bpjs_settings(settings, Simulator(pcare_simulator_url), bpjs_breaker_failures=10**6)
    return create_app(shared.model_copy(update={"bpjs_lookups_per_minute": 0}), database)


@pytest.fixture
def bpjs_client(db: Database, bpjs_app: FastAPI, simulator: Simulator, issue_token: Any) -> Iterator[TestClient]:
    """``bpjs_app`` as an admin client."""
    with TestClient(bpjs_app) as client:
        client.headers["Authorization"] = f"Bearer {issue_token(None, ADMIN_SCOPE)}"
        yield client
