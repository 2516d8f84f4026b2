"""The SATUSEHAT simulator over HTTP: the token endpoint as documented, lookups, creates with the documented bodies,
the validation rules with their RuleNumbers, transaction Bundles, and fault injection."""

import time
import uuid
from typing import Any

import httpx
import pytest

from ilp_api.integrations.satusehat.protocol import rule_numbers
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT
from satusehat_simulator import Simulator

ORG = SEED_CLIENT.organization_id
NIK = "https://fhir.kemkes.go.id/id/nik"
NIK_IBU = "https://fhir.kemkes.go.id/id/nik-ibu"
PATIENT = "P02478375538"  # seeded, NIK 9271060312000001
PRACTITIONER = "10009880728"  # seeded, NIK 7209061211900001


def fhir(simulator: Simulator, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{simulator.fhir_url}{path}", headers=headers, timeout=5, **kwargs)


def location(simulator: Simulator, token: str, code: str = "posyandu-1") -> str:
    body = {
        "resourceType": "Location",
        "identifier": [{"system": f"http://sys-ids.kemkes.go.id/location/{ORG}", "value": code}],
        "status": "active",
        "mode": "instance",
        "name": "Posyandu Melati",
        "position": {"longitude": 110.42, "latitude": -6.99},
        "managingOrganization": {"reference": f"Organization/{ORG}"},
    }
    response = fhir(simulator, "POST", "/Location", token, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def encounter(location_id: str, number: str = "K-1", **changes: Any) -> dict[str, Any]:
    t0, t1, t2 = "2026-11-03T01:00:00+00:00", "2026-11-03T01:10:00+00:00", "2026-11-03T01:20:00+00:00"
    resource = {
        "resourceType": "Encounter",
        "status": "finished",
        "identifier": [{"system": f"http://sys-ids.kemkes.go.id/encounter/{ORG}", "value": number}],
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "participant": [{"individual": {"reference": f"Practitioner/{PRACTITIONER}"}}],
        "period": {"start": t0, "end": t2},
        "location": [{"location": {"reference": f"Location/{location_id}"}}],
        "statusHistory": [
            {"status": "arrived", "period": {"start": t0, "end": t1}},
            {"status": "in-progress", "period": {"start": t1, "end": t2}},
            {"status": "finished", "period": {"start": t2, "end": t2}},
        ],
        "serviceProvider": {"reference": f"Organization/{ORG}"},
    }
    return {key: value for key, value in (resource | changes).items() if value is not None}


def weight(encounter_reference: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "encounter": {"reference": encounter_reference},
        "effectiveDateTime": "2026-11-03T01:05:00+00:00",
        "valueQuantity": {"value": 61.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }


def transaction(*resources: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    urls = [f"urn:uuid:{uuid.uuid4()}" for _ in resources]
    entries = [
        {"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
        for url, resource in zip(urls, resources, strict=True)
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, urls


def test_token_as_documented(simulator: Simulator) -> None:
    form = {"client_id": SEED_CLIENT.client_id, "client_secret": SEED_CLIENT.client_secret}
    response = httpx.post(f"{simulator.auth_url}/accesstoken?grant_type=client_credentials", data=form)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "BearerToken"
    assert isinstance(body["expires_in"], str)
    assert int(body["expires_in"]) > 60
    assert isinstance(body["issued_at"], str)
    assert int(body["issued_at"]) > 1_600_000_000_000
    assert fhir(simulator, "GET", f"/Patient/{PATIENT}", body["access_token"]).status_code == 200

    wrong = httpx.post(
        f"{simulator.auth_url}/accesstoken?grant_type=client_credentials", data={**form, "client_secret": "no"}
    )
    assert wrong.status_code == 401
    assert "client_secret combination is unacceptable" in wrong.json()["issue"][0]["details"]["text"]
    in_body = httpx.post(f"{simulator.auth_url}/accesstoken", data={**form, "grant_type": "client_credentials"})
    assert in_body.status_code == 400, "grant_type belongs in the query string"
    assert fhir(simulator, "GET", f"/Patient/{PATIENT}", "not-a-token").status_code == 401


def test_patient_lookup_and_create(simulator: Simulator) -> None:
    token = simulator.token()
    found = fhir(simulator, "GET", "/Patient", token, params={"identifier": f"{NIK}|9271060312000001"}).json()
    assert found["type"] == "searchset"
    assert found["total"] == 1
    patient = found["entry"][0]["resource"]
    assert patient["id"] == PATIENT
    assert {"system": NIK, "value": "9271********0001"} in patient["identifier"], "NIK masked"

    nik = "3374010101900009"
    assert fhir(simulator, "GET", "/Patient", token, params={"identifier": f"{NIK}|{nik}"}).json()["total"] == 0
    body = {"resourceType": "Patient", "identifier": [{"system": NIK, "value": nik}], "name": [{"text": "Rina"}]}
    created = fhir(simulator, "POST", "/Patient", token, json=body)
    assert created.status_code == 201
    assert created.json()["success"] is True
    assert created.json()["data"]["patient_id"].startswith("P")
    again = fhir(simulator, "POST", "/Patient", token, json=body)
    assert rule_numbers(again.json()) == ("20002",)

    newborn = {"resourceType": "Patient", "identifier": [{"system": NIK_IBU, "value": nik}], "name": [{"text": "By"}]}
    baby = fhir(simulator, "POST", "/Patient", token, json=newborn).json()["create_patient"]["data"]["patient_id"]
    by_mother = fhir(simulator, "GET", "/Patient", token, params={"identifier": f"{NIK_IBU}|{nik}"}).json()
    assert [entry["resource"]["id"] for entry in by_mother["entry"]] == [baby]

    nameless = fhir(simulator, "POST", "/Patient", token, json={**body, "name": [{"text": " "}]})
    no_nik = fhir(simulator, "POST", "/Patient", token, json={"resourceType": "Patient", "name": [{"text": "X"}]})
    assert (rule_numbers(nameless.json()), rule_numbers(no_nik.json())) == (("10168",), ("10166",))


def test_practitioner_lookup_organization_and_location(simulator: Simulator) -> None:
    token = simulator.token()
    found = fhir(simulator, "GET", "/Practitioner", token, params={"identifier": f"{NIK}|7209061211900001"})
    assert [entry["resource"]["id"] for entry in found.json()["entry"]] == [PRACTITIONER]

    posyandu = {
        "resourceType": "Organization",
        "identifier": [{"use": "official", "system": f"http://sys-ids.kemkes.go.id/organization/{ORG}", "value": "p1"}],
        "active": True,
        "name": "Posyandu Melati",
    }
    orphan = fhir(simulator, "POST", "/Organization", token, json=posyandu)
    assert orphan.status_code == 400
    assert orphan.json()["issue"][0]["expression"] == ["Organization.partOf"]
    created = fhir(
        simulator, "POST", "/Organization", token, json={**posyandu, "partOf": {"reference": f"Organization/{ORG}"}}
    )
    assert created.status_code == 201
    read = fhir(simulator, "GET", f"/Organization/{created.json()['id']}", token).json()
    assert read["partOf"] == {"reference": f"Organization/{ORG}"}

    without_position = fhir(simulator, "POST", "/Location", token, json={"resourceType": "Location", "name": "x"})
    assert "Location.position.longitude" in [e for i in without_position.json()["issue"] for e in i["expression"]]
    assert location(simulator, token)


def test_encounter_rules_and_duplicates(simulator: Simulator) -> None:
    token = simulator.token()
    place = location(simulator, token)
    foreign = encounter(place, identifier=[{"system": "http://sys-ids.kemkes.go.id/encounter/100025753", "value": "1"}])
    refused = fhir(simulator, "POST", "/Encounter", token, json=foreign).json()
    assert rule_numbers(refused) == ("10117",)
    assert refused["issue"][0]["expression"] == ["Encounter.identifier[0].system"]

    short_history = encounter(place, statusHistory=encounter(place)["statusHistory"][:2])
    assert rule_numbers(fhir(simulator, "POST", "/Encounter", token, json=short_history).json()) == ("10122",)
    local_time = encounter(place, period={"start": "2026-11-03T08:00:00+07:00", "end": "2026-11-03T08:20:00+07:00"})
    assert rule_numbers(fhir(simulator, "POST", "/Encounter", token, json=local_time).json()) == ("10173",)
    no_subject = encounter(place, subject=None)
    assert rule_numbers(fhir(simulator, "POST", "/Encounter", token, json=no_subject).json()) == ("10118",)

    simulator.admin("POST", "clients", client_id="other", client_secret="x", organization_id="100099")
    foreign_provider = encounter(place, serviceProvider={"reference": "Organization/100099"})
    business_rule = fhir(simulator, "POST", "/Encounter", token, json=foreign_provider)
    assert business_rule.status_code == 400
    assert "business rule" in business_rule.json()["issue"][0]["details"]["text"]

    created = fhir(simulator, "POST", "/Encounter", token, json=encounter(place))
    assert created.status_code == 201
    duplicate = fhir(simulator, "POST", "/Encounter", token, json=encounter(place))
    assert duplicate.status_code == 400
    assert rule_numbers(duplicate.json()) == ("20002",)
    assert created.json()["id"] in duplicate.json()["issue"][0]["details"]["text"], "names the existing id"

    updated = fhir(
        simulator, "PUT", f"/Encounter/{created.json()['id']}", token, json=encounter(place, status="finished")
    )
    assert updated.status_code == 200
    assert updated.json()["meta"]["versionId"] == "2"


def test_transaction_resolves_urn_uuids_all_or_nothing(simulator: Simulator) -> None:
    token = simulator.token()
    place = location(simulator, token)
    visit = encounter(place)
    bundle, urls = transaction(visit, weight("urn:uuid:placeholder"))
    bundle["entry"][1]["resource"]["encounter"] = {"reference": urls[0]}
    response = fhir(simulator, "POST", "", token, json=bundle)
    assert response.status_code == 200, response.text
    answers = response.json()["entry"]
    assert [answer["response"]["status"] for answer in answers] == ["201 Created", "201 Created"]
    encounter_id = answers[0]["response"]["location"].split("/")[1]
    (observation,) = simulator.resources("Observation")
    assert observation["encounter"] == {"reference": f"Encounter/{encounter_id}"}

    broken_code = weight(urls[0]) | {"code": {"coding": [{"system": "http://example.org/local", "code": "bb"}]}}
    second, second_urls = transaction(encounter(place, "K-2"), broken_code, weight("urn:uuid:x"))
    second["entry"][1]["resource"]["encounter"] = {"reference": second_urls[0]}
    second["entry"][2]["resource"]["encounter"] = {"reference": second_urls[0]}
    refused = fhir(simulator, "POST", "", token, json=second)
    assert refused.status_code == 400
    assert rule_numbers(refused.json()) == ("10010", "20013")
    assert len(simulator.resources("Encounter")) == 1, "nothing of a refused Bundle is kept"

    bad_url = {**bundle, "entry": [{**bundle["entry"][0], "fullUrl": "Encounter/1"}]}
    nested = {**bundle, "entry": [{**bundle["entry"][0], "resource": {"resourceType": "Bundle"}}]}
    dangling, _ = transaction(weight("urn:uuid:00000000-0000-4000-8000-000000000000"))
    assert rule_numbers(fhir(simulator, "POST", "", token, json=bad_url).json()) == ("20018",)
    assert rule_numbers(fhir(simulator, "POST", "", token, json=nested).json()) == ("20011",)
    assert rule_numbers(fhir(simulator, "POST", "", token, json=dangling).json()) == ("20007",)


def test_fault_injection(simulator: Simulator) -> None:
    token = simulator.token()
    simulator.inject("status", count=2, status=503)
    for _ in range(2):
        down = fhir(simulator, "GET", f"/Patient/{PATIENT}", token)
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("text/plain")
    simulator.inject("rate-limit", seconds=7)
    limited = fhir(simulator, "GET", f"/Patient/{PATIENT}", token)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    simulator.inject("hang", seconds=0.5)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{simulator.fhir_url}/Patient/{PATIENT}", headers={"Authorization": f"Bearer {token}"}, timeout=0.2)
    assert time.monotonic() - started < 0.5
    assert fhir(simulator, "GET", f"/Patient/{PATIENT}", token).status_code == 200
    simulator.admin("POST", "tokens/expire")
    assert fhir(simulator, "GET", f"/Patient/{PATIENT}", token).status_code == 401
