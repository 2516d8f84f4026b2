"""GET /fhir/AuditEvent: the trail of one resident, narrowed by date with FHIR's prefixes."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from factories import create, expressions, outcome, patient_json


def events(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/fhir/AuditEvent?{query}")
    assert response.status_code == 200, response.text
    return [entry["resource"]["subtype"][0]["code"] for entry in response.json().get("entry", [])]


def test_the_trail_of_a_resident_narrowed_by_date(client: TestClient) -> None:
    today = datetime.now(UTC).date()  # before the events: a test across midnight still holds
    patient = create(client, patient_json())
    client.get(f"/fhir/Patient/{patient['id']}")
    entity = f"entity=Patient/{patient['id']}"
    day_after_tomorrow = today + timedelta(days=2)

    assert sorted(events(client, entity)) == ["create", "read"]
    assert sorted(events(client, f"{entity}&date=ge{today}&date=lt{day_after_tomorrow}")) == ["create", "read"]
    assert events(client, f"{entity}&date=gt{day_after_tomorrow}") == []
    assert events(client, f"{entity}&date=lt{today}") == []


@pytest.mark.parametrize("value", ["ne2026-11-01", "2023-02-30", "0000", "soon"])
def test_a_date_the_trail_cannot_take_is_400_naming_it(client: TestClient, value: str) -> None:
    assert expressions(outcome(client.get(f"/fhir/AuditEvent?date={value}"), 400)) == ["date"]
