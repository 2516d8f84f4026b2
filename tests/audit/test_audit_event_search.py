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


def test_the_trail_pages_newest_first_and_counts_with_summary(client: TestClient) -> None:
    patient = create(client, patient_json())
    for _ in range(2):
        client.get(f"/fhir/Patient/{patient['id']}")
    entity = f"entity=Patient/{patient['id']}"

    first = client.get(f"/fhir/AuditEvent?{entity}&_count=2").json()
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    last = client.get(following.removeprefix("http://testserver")).json()
    oldest_first = client.get(f"/fhir/AuditEvent?{entity}&_sort=date").json()
    summary = client.get(f"/fhir/AuditEvent?{entity}&_summary=count").json()

    assert first["total"] == 3
    assert [e["resource"]["subtype"][0]["code"] for e in last["entry"]] == ["create"]
    assert oldest_first["entry"][0]["resource"]["subtype"][0]["code"] == "create"
    assert summary["total"] == 3
    assert "entry" not in summary
