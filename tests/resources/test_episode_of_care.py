"""EpisodeOfCare: a resident's klaster assignment or pregnancy, its checked references and its search parameters."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    CANONICAL,
    KLASTER_SYSTEM,
    assert_refused,
    changed,
    condition_json,
    create,
    episode_of_care_json,
    match_ids,
    nik,
    patient_json,
    search,
    service_request_json,
)
from ilp_api.db.engine import Database

EPISODE_SYSTEM = "https://puskesmas-app.example/episode"


@pytest.fixture
def patient(client: TestClient) -> dict[str, Any]:
    return create(
        client, patient_json(nik("2004-02-11", "female"), given="Ani", gender="female", birth_date="2004-02-11")
    )


def test_an_episode_is_found_by_patient_type_status_organization_date_condition_referral_and_identifier(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    hypertension = create(client, condition_json(patient["id"]))
    referral = create(
        client, service_request_json(patient["id"], requester=network["posyandu"], performer=network["puskesmas"])
    )
    klaster_3 = create(
        client,
        episode_of_care_json(
            patient["id"],
            network["puskesmas"],
            identifier=[{"system": EPISODE_SYSTEM, "value": "E-0001"}],
            diagnosis=[{"condition": {"reference": f"Condition/{hypertension['id']}"}, "rank": 1}],
            referralRequest=[{"reference": f"ServiceRequest/{referral['id']}"}],
            # The role and the rules that assigned the klaster, as the module's docstring describes them.
            extension=[
                {"url": f"{CANONICAL}/StructureDefinition/klaster-role", "valueCode": "primary"},
                {"url": f"{CANONICAL}/StructureDefinition/rule", "valueString": "3-R3-siklus-hidup"},
            ],
        ),
    )
    pregnancy = create(
        client,
        episode_of_care_json(
            patient["id"],
            network["posyandu"],
            klaster="kehamilan",
            status="finished",
            period={"start": "2025-01-10", "end": "2025-10-20"},
        ),
    )

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "EpisodeOfCare", query)))

    assert found(f"patient={patient['id']}") == sorted([klaster_3["id"], pregnancy["id"]])
    assert found("type=klaster-3") == [klaster_3["id"]]
    assert found(f"type={KLASTER_SYSTEM}|kehamilan") == [pregnancy["id"]]
    assert found("status=finished") == [pregnancy["id"]]
    assert found(f"organization={network['puskesmas']}") == [klaster_3["id"]]
    assert found("date=lt2026-01-01") == [pregnancy["id"]]
    assert found("date=ge2027-01-01") == [klaster_3["id"]], "an episode without an end runs on"
    assert found(f"condition={hypertension['id']}") == [klaster_3["id"]]
    assert found(f"incoming-referral={referral['id']}") == [klaster_3["id"]]
    assert found(f"identifier={EPISODE_SYSTEM}|E-0001") == [klaster_3["id"]]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"patient": {"reference": "Patient/nobody"}}, "EpisodeOfCare (patient)"),
        ({"managingOrganization": {"reference": "Location/x"}}, "EpisodeOfCare (organization)"),
        ({"diagnosis": [{"condition": {"reference": "Observation/x"}}]}, "EpisodeOfCare (condition)"),
        ({"careManager": {"reference": "Practitioner/nobody"}}, "EpisodeOfCare (care-manager)"),
        ({"team": [{"reference": "CareTeam/x"}]}, "EpisodeOfCare.team"),
        ({"status": "open"}, "EpisodeOfCare.status"),
        ({"patient": None}, "EpisodeOfCare.patient"),
    ],
    ids=[
        "unknown-patient",
        "organization-a-location",
        "condition-an-observation",
        "unknown-care-manager",
        "care-team-not-served",
        "status",
        "no-patient",
    ],
)
def test_an_invalid_episode_is_refused_and_nothing_stored(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    patient: dict[str, Any],
    change: dict[str, Any],
    expression: str,
) -> None:
    assert_refused(client, db, changed(episode_of_care_json(patient["id"], network["puskesmas"]), change), expression)
