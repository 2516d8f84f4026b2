"""Regressions from the outside probe (issue 7, items 2, 4 and 5): input a client can send is answered with a
4xx OperationOutcome naming the element, nothing is written, and valid extremes are answered normally."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    create,
    expressions,
    outcome,
    patient_json,
    practitioner_json,
    stored_rows,
)
from ilp_api.db.engine import Database


def post_patient(client: TestClient, resource: dict[str, Any], **headers: str) -> Any:
    return client.post("/fhir/Patient", json=resource, headers={**FHIR_JSON, **headers})


@pytest.mark.parametrize("birth_date", ["2023-02-30", "2023-04-31", "0000", "0000-01-01"])
def test_an_impossible_date_in_a_resource_is_422_naming_it(client: TestClient, db: Database, birth_date: str) -> None:
    body = outcome(post_patient(client, patient_json(nik=None, birth_date=birth_date)), 422)

    assert expressions(body) == ["Patient.birthDate"]
    assert stored_rows(db, "Patient") == 0


def test_an_impossible_date_time_is_422(client: TestClient) -> None:
    resident = patient_json(nik=None, deceasedDateTime="2023-02-29T10:00:00+07:00")  # 2023 is no leap year

    assert expressions(outcome(post_patient(client, resident), 422)) == ["Patient.deceasedDateTime"]


@pytest.mark.parametrize("value", ["2023-02-30", "0000", "ge0000-01", "2023-13"])
@pytest.mark.parametrize("parameter", ["birthdate", "_lastUpdated"])
def test_an_impossible_date_in_a_search_is_400(client: TestClient, parameter: str, value: str) -> None:
    assert expressions(outcome(client.get(f"/fhir/Patient?{parameter}={value}"), 400)) == [parameter]


@pytest.mark.parametrize(
    "query",
    [
        "birthdate=9999-12-31",
        "birthdate=ge9999",
        "_lastUpdated=9999-12-31",
        "_lastUpdated=lt0001-01-01T00:00:00%2B07:00",
    ],
)
def test_the_extremes_of_the_calendar_are_searched_normally(client: TestClient, query: str) -> None:
    create(client, patient_json())

    assert client.get(f"/fhir/Patient?{query}").status_code == 200


def test_an_audit_event_search_at_the_end_of_the_calendar_is_answered(client: TestClient) -> None:
    assert client.get("/fhir/AuditEvent?date=9999-12-31").status_code == 200


def test_a_conditional_create_with_an_extreme_date_is_answered(client: TestClient) -> None:
    response = post_patient(client, patient_json(), **{"If-None-Exist": "birthdate=9999-12-31"})

    assert response.status_code == 201


def test_a_future_birth_date_stays_422_while_a_practitioner_may_carry_9999(client: TestClient) -> None:
    outcome(post_patient(client, patient_json(nik=None, birth_date="9999-12-31")), 422)

    assert create(client, practitioner_json() | {"birthDate": "9999-12-31"})["birthDate"] == "9999-12-31"


@pytest.mark.parametrize(
    ("elements", "expression"),
    [
        ({"identifier": [{"system": "urn:x", "value": "a" * 256}]}, "Patient.identifier[0].value"),
        ({"identifier": [{"system": "urn:" + "a" * 300, "value": "1"}]}, "Patient.identifier[0].system"),
        ({"telecom": [{"system": "phone", "value": "1" * 300}]}, "Patient.telecom[0].value"),
        ({"meta": {"tag": [{"system": "urn:x", "code": "a" * 300}]}}, "Patient.meta.tag[0].code"),
    ],
    ids=["identifier-value", "identifier-system", "telecom", "tag"],
)
def test_a_searchable_value_longer_than_its_index_is_422_naming_it(
    client: TestClient, db: Database, elements: dict[str, Any], expression: str
) -> None:
    body = outcome(post_patient(client, patient_json(nik=None) | elements), 422)

    assert expressions(body) == [expression]
    assert stored_rows(db, "Patient") == 0


@pytest.mark.parametrize("elements", [{"multipleBirthInteger": 2**31}, {"telecom": [{"value": "1", "rank": 2**31}]}])
def test_an_integer_beyond_32_bits_is_422(client: TestClient, elements: dict[str, Any]) -> None:
    outcome(post_patient(client, patient_json(nik=None) | elements), 422)


@pytest.mark.parametrize("version", ["2147483648", "9" * 30, "²"])
def test_a_version_no_resource_can_have_is_404(client: TestClient, version: str) -> None:
    patient = create(client, patient_json())

    outcome(client.get(f"/fhir/Patient/{patient['id']}/_history/{version}"), 404)


def test_an_if_match_of_8000_digits_is_400_without_echoing_it(client: TestClient) -> None:
    patient = create(client, patient_json())
    headers = {**FHIR_JSON, "If-Match": f'W/"{"9" * 8000}"'}

    body = outcome(client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers=headers), 400)

    assert len(body["issue"][0]["diagnostics"]) < 200


def test_an_overlong_purpose_of_use_is_400_and_audited(client: TestClient) -> None:
    patient = create(client, patient_json())

    outcome(client.get(f"/fhir/Patient/{patient['id']}", headers={"X-Purpose-Of-Use": "A" * 70}), 400)
    # The client fixture checks at teardown that the refusal left its one failure AuditEvent.


@pytest.mark.parametrize(
    "path", ["/fhir/Patient?_count=", "/fhir/Patient/{id}/_history?_count=", "/fhir/AuditEvent?_offset="]
)
def test_a_paging_number_of_5000_digits_is_the_bound(client: TestClient, path: str) -> None:
    patient = create(client, patient_json())

    assert client.get(path.format(id=patient["id"]) + "9" * 5000).status_code == 200


def test_nul_in_an_id_is_404(client: TestClient) -> None:
    outcome(client.get("/fhir/Patient/ab%00c"), 404)


@pytest.mark.parametrize(
    "elements",
    [{"active": "true"}, {"active": 1}, {"multipleBirthInteger": "2"}, {"deceasedBoolean": "no"}],
    ids=["active-string", "active-number", "integer-string", "boolean-string"],
)
def test_loose_json_types_are_422(client: TestClient, db: Database, elements: dict[str, Any]) -> None:
    body = outcome(post_patient(client, patient_json(nik=None) | elements), 422)

    assert expressions(body) == [f"Patient.{next(iter(elements))}"]
    assert stored_rows(db, "Patient") == 0


def test_return_minimal_sends_no_body_and_says_so(client: TestClient) -> None:
    response = post_patient(client, patient_json(), Prefer="return=minimal")

    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert response.headers["location"]
