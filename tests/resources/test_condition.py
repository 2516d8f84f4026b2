"""Condition: a resident's problems and diagnoses, their checked references and their search parameters."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    CONDITION_CLINICAL,
    ICD_10,
    assert_refused,
    build_network,
    changed,
    condition_json,
    create,
    encounter_json,
    match_ids,
    nik,
    observation_json,
    patient_json,
    search,
)
from ilp_api.db.engine import Database

VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
TUBERCULOSIS = "A15.0"


@pytest.fixture
def visit(client: TestClient) -> dict[str, Any]:
    network = build_network(client)
    return create(client, encounter_json(create(client, patient_json())["id"], network["puskesmas"]))


def test_a_condition_is_found_by_patient_status_category_code_visit_dates_and_evidence(
    client: TestClient, visit: dict[str, Any]
) -> None:
    patient = visit["subject"]["reference"].removeprefix("Patient/")
    sputum = create(client, observation_json(patient, "11545-1", encounter={"reference": f"Encounter/{visit['id']}"}))
    tuberculosis = create(
        client,
        condition_json(
            patient,
            TUBERCULOSIS,
            verificationStatus={"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
            category=[{"coding": [{"system": CATEGORY, "code": "encounter-diagnosis"}]}],
            encounter={"reference": f"Encounter/{visit['id']}"},
            onsetDateTime="2026-10",
            evidence=[{"detail": [{"reference": f"Observation/{sputum['id']}"}]}],
        ),
    )
    old_hypertension = create(
        client,
        condition_json(
            patient,
            clinicalStatus={"coding": [{"system": CONDITION_CLINICAL, "code": "resolved"}]},
            onsetPeriod={"start": "2019-03-01", "end": "2020-01-15"},
            abatementDateTime="2020-01-15",
            recordedDate="2019-03-01",
        ),
    )

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Condition", query)))

    assert found(f"patient={patient}") == sorted([tuberculosis["id"], old_hypertension["id"]])
    assert found(f"subject=Patient/{patient}") == sorted([tuberculosis["id"], old_hypertension["id"]])
    assert found("clinical-status=resolved") == [old_hypertension["id"]]
    assert found("verification-status=confirmed") == [tuberculosis["id"]]
    assert found("category=encounter-diagnosis") == [tuberculosis["id"]]
    assert found(f"code={ICD_10}|{TUBERCULOSIS}") == [tuberculosis["id"]]
    assert found(f"encounter={visit['id']}") == [tuberculosis["id"]]
    assert found("onset-date=2026-10") == [tuberculosis["id"]]
    assert found("onset-date=lt2019-06-01") == [old_hypertension["id"]]
    assert found("recorded-date=lt2026-01-01") == [old_hypertension["id"]]
    assert found(f"evidence-detail=Observation/{sputum['id']}") == [tuberculosis["id"]]


def test_a_condition_a_resident_tells_of_is_also_in_their_compartment(client: TestClient) -> None:
    """A mother telling of her child's condition asserts it: R4 puts it in her compartment as well."""
    child = create(client, patient_json(nik("2024-05-02", serial=1), birth_date="2024-05-02"))
    mother = create(
        client, patient_json(nik("1998-07-09", "female", serial=2), gender="female", birth_date="1998-07-09")
    )
    told = create(client, condition_json(child["id"], "R50.9", asserter={"reference": f"Patient/{mother['id']}"}))

    for patient in (child, mother):
        assert match_ids(search(client, f"Patient/{patient['id']}/Condition")) == [told["id"]]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"encounter": {"reference": "Encounter/nowhere"}}, "Condition (encounter)"),
        ({"subject": {"reference": "Organization/x"}}, "Condition (patient)"),
        ({"evidence": [{"detail": [{"reference": "Patient/x"}]}]}, "Condition (evidence-detail)"),
        ({"recorder": {"reference": "Location/x"}}, "Condition (recorder)"),
        ({"onsetDateTime": "2026-10", "onsetString": "bulan lalu"}, "Condition"),
        ({"subject": None}, "Condition.subject"),
    ],
    ids=[
        "unknown-encounter",
        "subject-not-a-patient",
        "evidence-a-patient",
        "recorder-a-location",
        "two-onset-types",
        "no-subject",
    ],
)
def test_an_invalid_condition_is_refused_and_nothing_stored(
    client: TestClient, db: Database, visit: dict[str, Any], change: dict[str, Any], expression: str
) -> None:
    patient = visit["subject"]["reference"].removeprefix("Patient/")
    assert_refused(client, db, changed(condition_json(patient), change), expression)
