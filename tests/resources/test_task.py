"""Task: the work a referral or a follow-up asks for, its checked references and its search parameters."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    CANONICAL,
    assert_refused,
    changed,
    condition_json,
    create,
    encounter_json,
    match_ids,
    search,
    service_request_json,
    task_json,
)
from ilp_api.db.engine import Database

TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
REFERRAL_STATUS = f"{CANONICAL}/CodeSystem/status-rujukan"
GROUP_SYSTEM = "https://puskesmas-app.example/task-group"


def test_a_task_is_found_by_each_of_its_parameters(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    visit = create(client, encounter_json(patient["id"], network["posyandu"]))
    referral = create(
        client, service_request_json(patient["id"], requester=network["posyandu"], performer=network["puskesmas"])
    )
    hypertension = create(client, condition_json(patient["id"]))
    group = {"groupIdentifier": {"system": GROUP_SYSTEM, "value": "G-1"}}
    acting_on_referral = create(
        client,
        task_json(
            patient["id"],
            requester=network["posyandu"],
            owner=network["puskesmas"],
            **group,
            identifier=[{"system": "https://puskesmas-app.example/task", "value": "T-1"}],
            basedOn=[{"reference": f"ServiceRequest/{referral['id']}"}],
            focus={"reference": f"ServiceRequest/{referral['id']}"},
            status="accepted",  # a referral's businessStatus follows: diterima
            priority="urgent",
            code={"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
            encounter={"reference": f"Encounter/{visit['id']}"},
            authoredOn="2026-11-03T08:30:00+07:00",
            lastModified="2026-11-04T10:00:00+07:00",
            reasonReference={"reference": f"Condition/{hypertension['id']}"},
            input=[
                {"type": {"text": "Hasil ukur tekanan darah"}, "valueString": "150/95 mmHg"},
                {"type": {"text": "Pasien puasa"}, "valueBoolean": True},
            ],
        ),
    )
    measure_again = create(
        client,
        task_json(
            patient["id"],
            owner=network["posyandu"],
            **group,
            partOf=[{"reference": f"Task/{acting_on_referral['id']}"}],
            status="completed",
            intent="plan",
            executionPeriod={"start": "2026-12-01", "end": "2026-12-03"},
            restriction={"period": {"end": "2026-12-03"}, "recipient": [{"reference": f"Patient/{patient['id']}"}]},
            output=[{"type": {"text": "Kunjungan"}, "valueReference": {"reference": f"Encounter/{visit['id']}"}}],
        ),
    )

    both = sorted([acting_on_referral["id"], measure_again["id"]])

    def found(query: str) -> list[str]:
        """Which of the two Tasks the search finds (evaluating the visit may derive Tasks of its own)."""
        return sorted(set(match_ids(search(client, "Task", query))) & set(both))

    assert found(f"patient={patient['id']}") == both
    assert found(f"subject=Patient/{patient['id']}&status=accepted") == [acting_on_referral["id"]]
    assert found("identifier=https://puskesmas-app.example/task|T-1") == [acting_on_referral["id"]]
    assert found(f"group-identifier={GROUP_SYSTEM}|G-1") == both
    assert found(f"business-status={REFERRAL_STATUS}|diterima") == [acting_on_referral["id"]]
    assert found("intent=plan") == [measure_again["id"]]
    assert found("priority=urgent") == [acting_on_referral["id"]]
    assert found(f"code={TASK_CODE}|fulfill") == [acting_on_referral["id"]]
    assert found(f"focus=ServiceRequest/{referral['id']}") == [acting_on_referral["id"]]
    assert found(f"based-on={referral['id']}") == [acting_on_referral["id"]]
    assert found(f"part-of={acting_on_referral['id']}") == [measure_again["id"]]
    assert found(f"encounter={visit['id']}") == [acting_on_referral["id"]]
    assert found(f"owner=Organization/{network['posyandu']}") == [measure_again["id"]]
    assert found(f"requester=Organization/{network['posyandu']}") == [acting_on_referral["id"]]
    assert found("authored-on=2026-11-03") == [acting_on_referral["id"]]
    assert found("modified=ge2026-11-04") == [acting_on_referral["id"]]
    assert found("period=2026-12") == [measure_again["id"]]
    assert found(f"reason-reference=Condition/{hypertension['id']}") == [acting_on_referral["id"]]
    assert found(f"restriction-recipient=Patient/{patient['id']}") == [measure_again["id"]]
    assert found(f"output-reference=Encounter/{visit['id']}") == [measure_again["id"]]


def test_a_task_is_in_its_resident_s_compartment(client: TestClient, patient: dict[str, Any]) -> None:
    """R4 leaves Task out of the Patient compartment; the project adds it through ``Task.for``."""
    task = create(client, task_json(patient["id"]))

    assert match_ids(search(client, f"Patient/{patient['id']}/Task")) == [task["id"]]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"for": {"reference": "Organization/x"}}, "Task (patient)"),
        ({"owner": {"reference": "Location/x"}}, "Task (owner)"),
        ({"focus": {"reference": "Patient/x"}}, "Task (focus)"),
        ({"partOf": [{"reference": "Task/nothing"}]}, "Task (part-of)"),
        (
            {"input": [{"type": {"text": "Rujukan"}, "valueReference": {"reference": "Task/nothing"}}]},
            "Task (input-reference)",
        ),
        ({"input": [{"type": {"text": "Catatan"}}]}, "Task.input[0]"),
        ({"status": "sent"}, "Task.status"),
        ({"intent": None}, "Task.intent"),
    ],
    ids=[
        "for-not-a-patient",
        "owner-a-location",
        "focus-a-patient",
        "unknown-parent",
        "unknown-input",
        "input-without-value",
        "status",
        "no-intent",
    ],
)
def test_an_invalid_task_is_refused_and_nothing_stored(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    patient: dict[str, Any],
    change: dict[str, Any],
    expression: str,
) -> None:
    task = task_json(patient["id"], requester=network["posyandu"], owner=network["puskesmas"])
    assert_refused(client, db, changed(task, change), expression)
