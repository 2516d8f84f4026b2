"""``POST /fhir/Patient/$daftar-dari-bpjs``: a resident registered from BPJS's member data, flagged as such."""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from factories import FHIR_JSON, NIK_SYSTEM, TEST_NIK, build_network
from ilp_api.integrations.bpjs.errors import BpjsOutcome
from ilp_api.integrations.bpjs.mapping import BPJS_SOURCE
from ilp_api.integrations.bpjs.simulator.fixtures import UNKNOWN
from ilp_api.resources.indonesia import bpjs_system
from pcare_simulator import Simulator

CARD = "0004000000001"
MEMBER = {
    "noKartu": CARD,
    "nama": "BUDI SANTOSO",
    "sex": "L",
    "tglLahir": "03-12-2000",
    "noKTP": TEST_NIK,
    "noHP": "081298765432",
    "aktif": True,
}


@pytest.fixture(autouse=True)
def member(simulator: Simulator) -> None:
    httpx.put(f"{simulator.url}/_simulator/members/{CARD}", json=MEMBER).raise_for_status()


def register(client: TestClient, *parameters: dict[str, Any]) -> httpx.Response:
    body = {"resourceType": "Parameters", "parameter": list(parameters)}
    return client.post("/fhir/Patient/$daftar-dari-bpjs", json=body, headers=FHIR_JSON)


def test_a_resident_registered_from_bpjs(bpjs_client: TestClient) -> None:
    posyandu = build_network(bpjs_client)["posyandu"]
    where = {"name": "managingOrganization", "valueReference": {"reference": f"Organization/{posyandu}"}}
    response = register(bpjs_client, {"name": "noKartu", "valueString": CARD}, where)
    assert response.status_code == 200, response.text
    patient = response.json()
    canonical_base = bpjs_client.app.state.settings.canonical_base
    assert patient["meta"]["source"] == BPJS_SOURCE
    assert patient["identifier"] == [
        {"system": NIK_SYSTEM, "value": TEST_NIK},
        {"system": bpjs_system(canonical_base), "value": CARD},
    ]
    assert (patient["name"][0]["text"], patient["gender"], patient["birthDate"]) == (
        "BUDI SANTOSO",
        "male",
        "2000-12-03",
    )
    assert patient["telecom"] == [{"system": "phone", "value": "081298765432", "use": "mobile"}]
    assert patient["managingOrganization"] == {"reference": f"Organization/{posyandu}"}
    again = register(bpjs_client, {"name": "nik", "valueString": TEST_NIK})
    assert again.json()["id"] == patient["id"]  # already registered: answered as it is


def test_a_person_bpjs_does_not_know_is_not_registered(bpjs_client: TestClient) -> None:
    response = register(bpjs_client, {"name": "noKartu", "valueString": UNKNOWN})
    assert response.status_code == 422
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == BpjsOutcome.MEMBER_NOT_FOUND
    assert bpjs_client.get("/fhir/Patient").json().get("entry") is None


@pytest.mark.parametrize(
    "parameters",
    [
        [],
        [{"name": "noKartu", "valueString": CARD}, {"name": "nik", "valueString": TEST_NIK}],
        [{"name": "noKartu", "valueString": "12"}],
        [{"name": "noKartu", "valueInteger": 1}],
        [{"name": "nama", "valueString": "BUDI"}],
        [{"name": "nik", "valueString": TEST_NIK}, {"name": "managingOrganization", "valueString": "x"}],
        [
            {"name": "nik", "valueString": TEST_NIK},
            {"name": "managingOrganization", "valueReference": {"reference": "Organization/unknown"}},
        ],
    ],
)
def test_malformed_parameters(bpjs_client: TestClient, simulator: Simulator, parameters: list[dict[str, Any]]) -> None:
    seen = simulator.requests_seen()
    response = register(bpjs_client, *parameters)
    assert response.status_code in (400, 422), response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert simulator.requests_seen() == seen  # refused before BPJS was asked
