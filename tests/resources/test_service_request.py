"""ServiceRequest: referrals, their checked references and their search parameters."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    FACILITY_TYPE_SYSTEM,
    PATIENT_REFERRAL,
    SNOMED,
    assert_refused,
    changed,
    condition_json,
    create,
    encounter_json,
    match_ids,
    observation_json,
    search,
    service_request_json,
)
from ilp_api.db.engine import Database

REFERRAL_SYSTEM = "http://sys-ids.kemkes.go.id/servicerequest/100011"
REFERRAL_TO_SERVICE = "306206005"


def test_a_referral_is_found_by_each_of_its_parameters(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    visit = create(client, encounter_json(patient["id"], network["posyandu"]))
    blood_pressure = create(client, observation_json(patient["id"], "85354-9"))
    hypertension = create(client, condition_json(patient["id"]))
    first = create(
        client,
        service_request_json(
            patient["id"],
            requester=network["posyandu"],
            performer=network["puskesmas"],
            status="revoked",
            occurrenceDateTime="2026-11-04",
        ),
    )
    urgent = create(
        client,
        service_request_json(
            patient["id"],
            requester=network["posyandu"],
            performer=network["puskesmas"],
            identifier=[{"system": REFERRAL_SYSTEM, "value": "R-0001"}],
            replaces=[{"reference": f"ServiceRequest/{first['id']}"}],
            intent="original-order",
            priority="urgent",
            code={"coding": [{"system": SNOMED, "code": REFERRAL_TO_SERVICE}]},
            performerType={"coding": [{"system": FACILITY_TYPE_SYSTEM, "code": "puskesmas"}]},
            encounter={"reference": f"Encounter/{visit['id']}"},
            authoredOn="2026-11-05T09:00:00+07:00",
            occurrencePeriod={"start": "2026-11-05", "end": "2026-11-06"},
            reasonReference=[{"reference": f"Condition/{hypertension['id']}"}],
            supportingInfo=[{"reference": f"Observation/{blood_pressure['id']}"}],
            patientInstruction="Bawa kartu BPJS dan buku catatan tekanan darah.",
        ),
    )
    follow_up = create(
        client,
        service_request_json(
            patient["id"],
            basedOn=[{"reference": f"ServiceRequest/{urgent['id']}"}],
            status="draft",
            occurrenceTiming={"event": ["2026-12-05"]},
        ),
    )

    mine = {first["id"], urgent["id"], follow_up["id"]}

    def found(query: str) -> list[str]:
        """Which of the three requests the search finds (evaluating the visit may derive referrals of its own)."""
        return sorted(set(match_ids(search(client, "ServiceRequest", query))) & mine)

    assert found(f"patient={patient['id']}") == sorted(mine)
    assert found(f"subject=Patient/{patient['id']}&status=active") == [urgent["id"]]
    assert found(f"identifier={REFERRAL_SYSTEM}|R-0001") == [urgent["id"]]
    assert found("intent=original-order") == [urgent["id"]]
    assert found("priority=urgent") == [urgent["id"]]
    assert found(f"category={SNOMED}|{PATIENT_REFERRAL}") == sorted(mine)
    assert found(f"code={REFERRAL_TO_SERVICE}") == [urgent["id"]]
    assert found("performer-type=puskesmas") == [urgent["id"]]
    assert found(f"encounter={visit['id']}") == [urgent["id"]]
    assert found(f"requester=Organization/{network['posyandu']}") == sorted([first["id"], urgent["id"]])
    assert found(f"performer=Organization/{network['puskesmas']}&status=revoked") == [first["id"]]
    assert found("authored=2026-11-05") == [urgent["id"]]
    assert found("occurrence=2026-11-04") == [first["id"]]
    assert found("occurrence=ge2026-12-01") == [follow_up["id"]], "a Timing is found by its events"
    assert found(f"based-on={urgent['id']}") == [follow_up["id"]]
    assert found(f"replaces={first['id']}") == [urgent["id"]]
    assert found(f"reason-reference=Condition/{hypertension['id']}") == [urgent["id"]]
    assert found(f"supporting-info=Observation/{blood_pressure['id']}") == [urgent["id"]]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"subject": {"reference": "Patient/nobody"}}, "ServiceRequest (subject)"),
        ({"performer": [{"reference": "Location/x"}]}, "ServiceRequest (performer)"),
        ({"requester": {"reference": "Organization/nowhere"}}, "ServiceRequest (requester)"),
        ({"replaces": [{"reference": "ServiceRequest/nothing"}]}, "ServiceRequest (replaces)"),
        ({"supportingInfo": [{"reference": "Patient/x"}]}, "ServiceRequest (supporting-info)"),
        ({"priority": "segera"}, "ServiceRequest.priority"),
        ({"intent": None}, "ServiceRequest.intent"),
    ],
    ids=[
        "unknown-patient",
        "performer-a-location",
        "unknown-requester",
        "unknown-replaced",
        "supporting-info-a-patient",
        "priority-not-r4",
        "no-intent",
    ],
)
def test_an_invalid_referral_is_refused_and_nothing_stored(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    patient: dict[str, Any],
    change: dict[str, Any],
    expression: str,
) -> None:
    referral = service_request_json(patient["id"], requester=network["posyandu"], performer=network["puskesmas"])
    assert_refused(client, db, changed(referral, change), expression)
