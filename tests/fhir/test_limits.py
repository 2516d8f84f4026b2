"""Bounds on expensive requests (issue 7, item 6): each refused up front with an OperationOutcome, nothing written.

The defaults are those of ``Limits()``/``Settings()``; the tests stay just past them so they stay cheap.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from factories import FHIR_JSON, create, expressions, outcome, patient_json, stored_rows
from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.fhir.limits import Limits
from ilp_api.settings import Settings

LIMITS = Limits()


def nested_extensions(depth: int) -> dict[str, Any]:
    extension: dict[str, Any] = {"url": "urn:x", "valueString": "x"}
    for _ in range(depth):
        extension = {"url": "urn:x", "extension": [extension]}
    return extension


@pytest.fixture
def small_body_client(client: TestClient, settings: Settings, database: Database) -> Iterator[TestClient]:
    """The API with a 4 KiB body bound, so that a too-large body is cheap to send."""
    app: FastAPI = create_app(settings.model_copy(update={"max_body_bytes": 4096}), database)
    with TestClient(app) as small:
        small.headers.update(client.headers)
        yield small


def test_a_body_declared_too_large_is_413_before_it_is_read(small_body_client: TestClient, db: Database) -> None:
    response = small_body_client.post("/fhir/Patient", json=patient_json(family="a" * 5000), headers=FHIR_JSON)

    assert outcome(response, 413)["issue"][0]["code"] == "too-long"
    assert stored_rows(db, "Patient") == 0


def test_a_streamed_body_that_grows_too_large_is_413(small_body_client: TestClient, db: Database) -> None:
    chunks = iter([b'{"resourceType": "Patient", "name": [{"text": "', b"a" * 5000, b'"}]}'])

    response = small_body_client.post("/fhir/Patient", content=chunks, headers=FHIR_JSON)

    outcome(response, 413)
    assert stored_rows(db, "Patient") == 0


def test_json_nested_deeper_than_the_bound_is_400(client: TestClient, db: Database) -> None:
    resident = patient_json(nik=None, extension=[nested_extensions(200)])

    response = client.post("/fhir/Patient", json=resident, headers=FHIR_JSON)

    assert str(LIMITS.json_depth) in outcome(response, 400)["issue"][0]["diagnostics"]
    assert stored_rows(db, "Patient") == 0


def test_a_thousand_nested_arrays_are_400(client: TestClient) -> None:
    body = '{"resourceType": "Patient", "x": ' + "[" * 1000 + "]" * 1000 + "}"

    outcome(client.post("/fhir/Patient", content=body, headers=FHIR_JSON), 400)


def test_a_string_longer_than_the_bound_is_422_naming_it(client: TestClient) -> None:
    resident = patient_json(nik=None, family="a" * (LIMITS.string_length + 1))

    body = outcome(client.post("/fhir/Patient", json=resident, headers=FHIR_JSON), 422)

    assert expressions(body) == ["Patient.name[0].family"]
    assert body["issue"][0]["code"] == "too-long"


def test_an_array_longer_than_the_bound_is_422_naming_it(client: TestClient) -> None:
    resident = patient_json(nik=None, name=[{"given": ["a"] * (LIMITS.array_items + 1)}])

    body = outcome(client.post("/fhir/Patient", json=resident, headers=FHIR_JSON), 422)

    assert expressions(body) == ["Patient.name[0].given"]


def test_more_identifiers_than_the_bound_are_422(client: TestClient, db: Database) -> None:
    identifiers = [{"system": "urn:x", "value": str(n)} for n in range(LIMITS.identifiers + 1)]

    body = outcome(client.post("/fhir/Patient", json=patient_json(identifiers=identifiers), headers=FHIR_JSON), 422)

    assert expressions(body) == ["Patient.identifier"]
    assert stored_rows(db, "Patient") == 0


def test_a_parameter_repeated_beyond_the_bound_is_400(client: TestClient) -> None:
    query = "&".join(["gender=male"] * (LIMITS.parameter_repeats + 1))

    body = outcome(client.get(f"/fhir/Patient?{query}"), 400)

    assert body["issue"][0]["code"] == "too-costly"
    assert expressions(body) == ["gender"]


def test_repeats_within_the_bound_are_searched(client: TestClient) -> None:
    create(client, patient_json())
    query = "&".join(["gender=male"] * LIMITS.parameter_repeats)

    assert client.get(f"/fhir/Patient?{query}").json()["total"] == 1


def test_more_or_values_than_the_bound_are_400(client: TestClient) -> None:
    values = ",".join(["male"] * (LIMITS.values_per_parameter + 1))

    assert outcome(client.get(f"/fhir/Patient?gender={values}"), 400)["issue"][0]["code"] == "too-costly"


def test_more_sort_keys_than_the_bound_are_400(client: TestClient) -> None:
    keys = ",".join(["name"] * (LIMITS.sort_keys + 1))

    assert expressions(outcome(client.get(f"/fhir/Patient?_sort={keys}"), 400)) == ["_sort"]
