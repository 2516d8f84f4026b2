"""/api/v1 errors as helpful as the FHIR ones: where the JSON breaks and what was expected, which request a
field is unknown to and the field that was probably meant."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import FHIR_JSON, outcome, patient_json

EVALUATE = "/api/v1/screening/evaluate"
JSON = {"Content-Type": "application/json"}
ADULT = {"birthDate": "1980-01-01", "sex": "male", "visitDate": "2026-06-01", "site": "posyandu"}


def _diagnostics(response: Any, status: int) -> str:
    issues = outcome(response, status)["issue"]
    assert len(issues) == 1, issues
    diagnostics: str = issues[0]["diagnostics"]
    return diagnostics


@pytest.mark.parametrize(
    ("body", "diagnostics"),
    [
        (
            b'{"sex": "male",\n "site": "posyandu",\n}',
            "The request body is not valid JSON: trailing comma is not allowed: line 3 column 1 (char 37)",
        ),
        (
            b'{"weights": [{"date": "2026-05-01"},]}',
            "The request body is not valid JSON: trailing comma is not allowed: line 1 column 37 (char 36)",
        ),
        (
            b'{"sex": "male" "site": "posyandu"}',
            "The request body is not valid JSON: Expecting ',' delimiter: line 1 column 16 (char 15)",
        ),
        (b'{"sex": ', "The request body is not valid JSON: Expecting value: line 1 column 9 (char 8)"),
    ],
    ids=["trailing-comma-in-object", "trailing-comma-in-array", "missing-comma", "truncated"],
)
def test_malformed_json_is_a_400_with_line_column_and_what_was_expected(
    client: TestClient, body: bytes, diagnostics: str
) -> None:
    response = client.post(EVALUATE, content=body, headers=JSON)

    assert _diagnostics(response, 400) == diagnostics
    assert "expression" not in response.json()["issue"][0]


def test_an_unknown_field_names_the_request_and_the_field_meant(client: TestClient) -> None:
    response = client.post(EVALUATE, json=ADULT | {"brithDate": "1980-01-01"})

    assert _diagnostics(response, 422) == "The evaluate request has no field 'brithDate'; did you mean 'birthDate'?"
    assert response.json()["issue"][0]["expression"] == ["brithDate"]


def test_a_nested_unknown_field_is_matched_against_its_own_object(client: TestClient) -> None:
    response = client.post(EVALUATE, json=ADULT | {"measurements": {"sistolik": 120}})

    assert _diagnostics(response, 422) == (
        "The evaluate request has no field 'measurements.sistolik'; did you mean 'systolic'?"
    )


def test_an_unknown_field_like_no_known_one_is_named_alone(client: TestClient) -> None:
    response = client.post(EVALUATE, json=ADULT | {"xyz": 1})

    assert _diagnostics(response, 422) == "The evaluate request has no field 'xyz'"


def test_a_missing_body_says_what_to_send(client: TestClient) -> None:
    response = client.post(EVALUATE, content=b"", headers=JSON)

    assert _diagnostics(response, 422) == "The request has no body: send the evaluate request as JSON"


def test_a_fhir_body_without_resource_type_says_so(client: TestClient) -> None:
    patient = patient_json()
    del patient["resourceType"]

    response = client.post("/fhir/Patient", json=patient, headers=FHIR_JSON)

    assert _diagnostics(response, 400) == (
        'The body has no resourceType; send a FHIR Patient resource with "resourceType": "Patient"'
    )


def test_a_fhir_body_of_another_type_says_which_was_sent(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient_json(resourceType="Practitioner"), headers=FHIR_JSON)

    assert _diagnostics(response, 400) == (
        'The body has resourceType \'Practitioner\'; send a FHIR Patient resource with "resourceType": "Patient"'
    )


def test_a_misspelt_fhir_element_is_answered_with_the_known_one(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient_json(birthdate="2000-12-03"), headers=FHIR_JSON)

    assert _diagnostics(response, 422) == (
        "Unknown element 'Patient.birthdate': it is not part of this Patient as ILP API supports it; "
        "did you mean 'birthDate'?"
    )
