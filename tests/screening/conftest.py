"""The evaluate API stores nothing, but like every API it needs an authenticated client (the root ``client``)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from response_reading import Evaluate

EVALUATE = "/api/v1/screening/evaluate"


@pytest.fixture
def evaluate(client: TestClient) -> Evaluate:
    """Posts a visit and returns the JSON body, asserting the expected status."""

    def post(visit: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = client.post(EVALUATE, json=visit)
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    return post
