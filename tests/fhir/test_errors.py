"""Every error is a FHIR OperationOutcome with the right status, never FastAPI's bare ``{"detail": ...}``."""

import pytest
from fastapi.testclient import TestClient

from factories import FHIR_JSON, create, outcome, patient_json


def test_unknown_resource_type_is_404(client: TestClient) -> None:
    body = outcome(client.get("/fhir/Basic/1"), 404)

    assert body["issue"][0]["code"] == "not-found"


def test_unknown_id_is_404_naming_it(client: TestClient) -> None:
    body = outcome(client.get("/fhir/Patient/no-such-id"), 404)

    assert "Patient/no-such-id" in body["issue"][0]["diagnostics"]


def test_unknown_route_is_404(client: TestClient) -> None:
    outcome(client.get("/no/such/route"), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/fhir/Patient/1", "DELETE, GET, PATCH, PUT"),
        ("DELETE", "/fhir/Patient", "GET, POST"),
        ("PUT", "/fhir/Patient", "GET, POST"),
        ("POST", "/fhir/metadata", "GET"),
        ("DELETE", "/fhir/metadata", "GET"),
    ],
    ids=["post-instance", "delete-type", "put-type", "post-metadata", "delete-metadata"],
)
def test_unsupported_method_is_405_allowing_what_the_path_serves(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    """Allow lists the methods of every route of the path (GET and POST of a type are two routes)."""
    response = client.request(method, path)

    body = outcome(response, 405)
    assert body["issue"][0]["code"] == "not-supported"
    assert response.headers["allow"] == allowed
    assert allowed in body["issue"][0]["diagnostics"]


def test_duplicate_nik_is_409(client: TestClient) -> None:
    create(client, patient_json())

    assert outcome(client.post("/fhir/Patient", json=patient_json(), headers=FHIR_JSON), 409)["issue"][0]["code"] == (
        "conflict"
    )


def test_read_of_a_deleted_resource_is_410(client: TestClient) -> None:
    patient = create(client, patient_json())
    client.delete(f"/fhir/Patient/{patient['id']}")

    outcome(client.get(f"/fhir/Patient/{patient['id']}"), 410)
    outcome(client.get(f"/fhir/Patient/{patient['id']}/_history/2"), 410)


def test_stale_if_match_is_412(client: TestClient) -> None:
    patient = create(client, patient_json())

    response = client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers={**FHIR_JSON, "If-Match": 'W/"9"'})

    outcome(response, 412)


def test_malformed_if_match_is_400(client: TestClient) -> None:
    patient = create(client, patient_json())

    response = client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers={**FHIR_JSON, "If-Match": "latest"})

    assert outcome(response, 400)["issue"][0]["expression"] == ["If-Match"]


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "application/x-www-form-urlencoded"])
def test_unsupported_content_type_is_415(client: TestClient, content_type: str) -> None:
    response = client.post("/fhir/Patient", content=b"{}", headers={"Content-Type": content_type})

    outcome(response, 415)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/fhir/Patient", {"Accept": "application/fhir+xml"}, id="accept-xml"),
        pytest.param("/fhir/Patient?_format=xml", {}, id="format-xml"),
        pytest.param("/fhir/metadata", {"Accept": "text/html"}, id="metadata-html"),
    ],
)
def test_unacceptable_format_is_406(client: TestClient, path: str, headers: dict[str, str]) -> None:
    outcome(client.get(path, headers=headers), 406)


@pytest.mark.parametrize(
    "accept",
    ["application/fhir+json", "application/json", "*/*", "application/fhir+json;q=0.9, text/html"],
    ids=["fhir-json", "json", "any", "with-quality"],
)
def test_json_accept_headers_are_served(client: TestClient, accept: str) -> None:
    assert client.get("/fhir/Patient", headers={"Accept": accept}).status_code == 200


def test_invalid_resource_is_422(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient_json(gender="pria"), headers=FHIR_JSON)

    assert outcome(response, 422)["issue"][0]["expression"] == ["Patient.gender"]


def test_fastapi_s_own_request_validation_is_an_operation_outcome(client: TestClient) -> None:
    response = client.post("/api/v1/screening/evaluate", json={"unexpected": True})

    body = outcome(response, 422)
    assert all(issue.get("expression") for issue in body["issue"])


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Patient/%00",
        "/fhir/Patient/x%00/_history",
        "/fhir/Patient?name=%00",
        "/fhir/Patient?identifier=a%00|b",
        "/fhir/Organization?_id=%00",
        "/fhir/AuditEvent?entity=Patient/%00",
    ],
    ids=["read", "history", "string-search", "token-search", "id-search", "audit-entity"],
)
def test_control_characters_in_urls_are_client_errors(client: TestClient, path: str) -> None:
    """PostgreSQL refuses NUL in text: the request must be answered before it reaches the database."""
    response = client.get(path)

    assert 400 <= response.status_code < 500
    assert response.json()["resourceType"] == "OperationOutcome"


def test_control_characters_in_a_resource_are_named(client: TestClient) -> None:
    body = outcome(client.post("/fhir/Patient", json=patient_json(family="Santo\u0000so"), headers=FHIR_JSON), 422)

    assert body["issue"][0]["expression"] == ["Patient.name[0].family"]


@pytest.mark.parametrize("path", ["/fhir/Patient", "/fhir/Patient/x/_history", "/fhir/AuditEvent"])
@pytest.mark.parametrize("parameter", ["_count=abc", "_count=-1", "_offset=1.5"])
def test_paging_parameters_must_be_whole_numbers(client: TestClient, path: str, parameter: str) -> None:
    body = outcome(client.get(f"{path}?{parameter}"), 400)

    assert body["issue"][0]["expression"] == [parameter.split("=")[0]]
