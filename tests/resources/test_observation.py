"""Observation: measurements and findings of a visit, kept to the visit's patient."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    BODY_HEIGHT,
    BODY_WEIGHT,
    FHIR_JSON,
    LOINC,
    assert_refused,
    build_network,
    changed,
    create,
    encounter_json,
    expressions,
    match_ids,
    nik,
    observation_json,
    outcome,
    patient_json,
    search,
    stored_rows,
)
from ilp_api.db.engine import Database
from ilp_api.fhir.datatypes import UCUM

PREGNANCY_STATUS, PREGNANT = "82810-3", "LA15173-0"


def mm_hg(value: float) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}


def weight(kilograms: float) -> dict[str, Any]:
    return {"valueQuantity": {"value": kilograms, "unit": "kg", "system": UCUM, "code": "kg"}}


@pytest.fixture
def visit(client: TestClient) -> dict[str, Any]:
    network = build_network(client)
    patient = create(
        client, patient_json(nik("2004-02-11", "female"), given="Ani", gender="female", birth_date="2004-02-11")
    )
    return create(client, encounter_json(patient["id"], network["posyandu"]))


def test_observations_of_a_visit_are_found_by_patient_code_encounter_date_and_coded_value(
    client: TestClient, visit: dict[str, Any]
) -> None:
    patient = visit["subject"]["reference"].removeprefix("Patient/")
    of_visit = {"encounter": {"reference": f"Encounter/{visit['id']}"}, "effectiveDateTime": "2026-11-03"}
    weighed = create(client, observation_json(patient, BODY_WEIGHT, **of_visit, **weight(52.4)))
    pregnant = create(
        client,
        observation_json(
            patient,
            PREGNANCY_STATUS,
            **of_visit,
            valueCodeableConcept={"coding": [{"system": LOINC, "code": PREGNANT}]},
        ),
    )
    earlier = create(client, observation_json(patient, BODY_HEIGHT, effectiveDateTime="2026-06-01"))

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Observation", query)))

    assert found(f"patient={patient}") == sorted([weighed["id"], pregnant["id"], earlier["id"]])
    assert found(f"encounter={visit['id']}") == sorted([weighed["id"], pregnant["id"]])
    assert found(f"code={LOINC}|{BODY_WEIGHT}") == [weighed["id"]]
    assert found(f"value-concept={LOINC}|{PREGNANT}") == [pregnant["id"]]
    assert found("date=lt2026-11-01") == [earlier["id"]]


def test_an_observation_of_a_visit_must_be_about_the_visits_patient(
    client: TestClient, db: Database, visit: dict[str, Any]
) -> None:
    someone_else = create(client, patient_json(nik(serial=2), given="Budi"))
    body = observation_json(someone_else["id"], encounter={"reference": f"Encounter/{visit['id']}"}, **weight(12.5))

    problem = outcome(client.post("/fhir/Observation", json=body, headers=FHIR_JSON), 422)

    assert expressions(problem) == ["Observation.subject"]
    assert visit["subject"]["reference"] in problem["issue"][0]["diagnostics"]
    assert stored_rows(db, "Observation") == 0


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"encounter": {"reference": "Encounter/nowhere"}}, "Observation (encounter)"),
        ({"subject": {"reference": "Organization/x"}}, "Observation (patient)"),
        ({"valueString": "52", **weight(52)}, "Observation"),
        ({"valueQuantity": {"value": 52, "code": "kg"}}, "Observation.valueQuantity"),
        ({"code": None}, "Observation.code"),
        (weight(900), "Observation.valueQuantity.value"),
        ({"valueQuantity": {"value": 52400, "system": UCUM, "code": "g"}}, "Observation.valueQuantity.code"),
        (
            {
                "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
                "component": [
                    {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, **mm_hg(150)},
                    {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, **mm_hg(95.5)},
                ],
            },
            "Observation.component[1].valueQuantity.value",
        ),
    ],
    ids=[
        "unknown-encounter",
        "subject-not-a-patient",
        "two-value-types",
        "unit-without-system",
        "no-code",
        "implausible-weight",
        "weight-in-grams",
        "diastolic-not-whole",
    ],
)
def test_an_invalid_observation_is_refused_and_nothing_stored(
    client: TestClient, db: Database, visit: dict[str, Any], change: dict[str, Any], expression: str
) -> None:
    patient = visit["subject"]["reference"].removeprefix("Patient/")
    assert_refused(client, db, changed(observation_json(patient), change), expression)
