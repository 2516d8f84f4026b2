"""The evaluate API needs no database: one app for the whole module, posting plain JSON."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from response_reading import Evaluate

from ilp_api.app import create_app
from ilp_api.settings import Settings

EVALUATE = "/api/v1/screening/evaluate"


@pytest.fixture(scope="module")
def screening_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as client:
        yield client


@pytest.fixture
def evaluate(screening_client: TestClient) -> Evaluate:
    """Posts a visit and returns the JSON body, asserting the expected status."""

    def post(visit: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = screening_client.post(EVALUATE, json=visit)
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    return post
