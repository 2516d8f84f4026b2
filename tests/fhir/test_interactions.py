"""The FHIR interactions every registered type gets: create, read, update, vread, history, delete.

Patient stands in for all types: the router, service and repository are shared.
"""

from datetime import datetime

from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    NIK_SYSTEM,
    TEST_NIK,
    create,
    nik,
    organization_json,
    outcome,
    patient_json,
    total,
)


def test_create_answers_201_with_location_etag_and_server_meta(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient_json(), headers=FHIR_JSON)

    assert response.status_code == 201
    patient = response.json()
    assert patient["meta"]["versionId"] == "1"
    datetime.fromisoformat(patient["meta"]["lastUpdated"].replace("Z", "+00:00"))
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["location"] == f"http://testserver/fhir/Patient/{patient['id']}/_history/1"
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["last-modified"].endswith("GMT")


def test_client_sent_id_and_meta_are_replaced_by_the_server(client: TestClient) -> None:
    sent = patient_json(id="chosen-by-client", meta={"versionId": "7", "lastUpdated": "2020-01-01T00:00:00Z"})

    patient = create(client, sent)

    assert patient["id"] != "chosen-by-client"
    assert patient["meta"]["versionId"] == "1"
    assert patient["meta"]["lastUpdated"] != "2020-01-01T00:00:00Z"


def test_read_returns_the_stored_resource_with_its_etag(client: TestClient) -> None:
    patient = create(client, patient_json())

    response = client.get(f"/fhir/Patient/{patient['id']}")

    assert response.status_code == 200
    assert response.json() == patient
    assert response.headers["etag"] == 'W/"1"'


def test_update_with_matching_if_match_creates_version_2(client: TestClient) -> None:
    patient = create(client, patient_json())
    patient["name"][0]["family"] = "Wibowo"

    response = client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers={**FHIR_JSON, "If-Match": 'W/"1"'})

    assert response.status_code == 200, response.text
    assert response.json()["meta"]["versionId"] == "2"
    assert response.json()["name"][0]["family"] == "Wibowo"
    assert response.headers["etag"] == 'W/"2"'


def test_update_with_a_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    patient = create(client, patient_json())
    patient["name"][0]["family"] = "Wibowo"
    client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers=FHIR_JSON)  # now at version 2
    patient["name"][0]["family"] = "Kusuma"

    response = client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers={**FHIR_JSON, "If-Match": 'W/"1"'})

    assert "If-Match" in outcome(response, 412)["issue"][0]["expression"]
    current = client.get(f"/fhir/Patient/{patient['id']}").json()
    assert (current["meta"]["versionId"], current["name"][0]["family"]) == ("2", "Wibowo")


def test_update_of_an_unknown_id_is_404(client: TestClient) -> None:
    body = patient_json(id="does-not-exist")

    response = client.put("/fhir/Patient/does-not-exist", json=body, headers=FHIR_JSON)

    outcome(response, 404)


def test_update_whose_body_id_differs_from_the_url_is_400(client: TestClient) -> None:
    patient = create(client, patient_json())

    response = client.put(f"/fhir/Patient/{patient['id']}", json={**patient, "id": "other"}, headers=FHIR_JSON)

    assert outcome(response, 400)["issue"][0]["expression"] == ["Patient.id"]


def test_vread_returns_each_version_as_it_was(client: TestClient) -> None:
    patient = create(client, patient_json())
    client.put(f"/fhir/Patient/{patient['id']}", json={**patient, "gender": "male", "active": False}, headers=FHIR_JSON)

    first = client.get(f"/fhir/Patient/{patient['id']}/_history/1")
    second = client.get(f"/fhir/Patient/{patient['id']}/_history/2")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["active"] is True
    assert second.json()["active"] is False
    assert (first.headers["etag"], second.headers["etag"]) == ('W/"1"', 'W/"2"')
    outcome(client.get(f"/fhir/Patient/{patient['id']}/_history/3"), 404)


def test_history_lists_every_version_newest_first_including_the_deletion(client: TestClient) -> None:
    patient = create(client, patient_json())
    client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers=FHIR_JSON)
    client.delete(f"/fhir/Patient/{patient['id']}")

    history = client.get(f"/fhir/Patient/{patient['id']}/_history").json()

    assert (history["resourceType"], history["type"], history["total"]) == ("Bundle", "history", 3)
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "PUT", "POST"]
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert "resource" not in history["entry"][0]


def test_conditional_create_returns_the_existing_resource_with_200(client: TestClient) -> None:
    first = create(client, patient_json())

    response = client.post(
        "/fhir/Patient",
        json=patient_json(given="Budiman"),
        headers={**FHIR_JSON, "If-None-Exist": f"identifier={NIK_SYSTEM}|{TEST_NIK}"},
    )

    assert response.status_code == 200
    assert response.json() == first
    assert total(client, "Patient") == 1


def test_conditional_create_without_a_match_creates(client: TestClient) -> None:
    other = nik(serial=2)

    response = client.post(
        "/fhir/Patient",
        json=patient_json(other),
        headers={**FHIR_JSON, "If-None-Exist": f"identifier={NIK_SYSTEM}|{other}"},
    )

    assert response.status_code == 201
    assert total(client, "Patient") == 1


def test_conditional_create_matching_several_resources_is_412(client: TestClient) -> None:
    create(client, patient_json(nik(serial=1)))
    create(client, patient_json(nik(serial=2)))

    response = client.post(
        "/fhir/Patient", json=patient_json(nik(serial=3)), headers={**FHIR_JSON, "If-None-Exist": "family=santoso"}
    )

    outcome(response, 412)
    assert total(client, "Patient") == 2


def test_delete_makes_reads_410_and_hides_it_from_search(client: TestClient) -> None:
    patient = create(client, patient_json())

    deleted = client.delete(f"/fhir/Patient/{patient['id']}")

    assert deleted.status_code == 204
    assert outcome(client.get(f"/fhir/Patient/{patient['id']}"), 410)["issue"][0]["code"] == "deleted"
    assert total(client, "Patient") == 0
    assert client.delete(f"/fhir/Patient/{patient['id']}").status_code == 204  # idempotent


def test_a_deleted_patient_frees_its_nik_for_a_new_registration(client: TestClient) -> None:
    patient = create(client, patient_json())
    client.delete(f"/fhir/Patient/{patient['id']}")

    again = create(client, patient_json())

    assert again["id"] != patient["id"]


def test_prefer_return_minimal_answers_without_a_body(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient_json(), headers={**FHIR_JSON, "Prefer": "return=minimal"})

    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["location"].endswith("/_history/1")


def test_other_types_share_the_interactions(client: TestClient) -> None:
    dinkes = create(client, organization_json("dinkes", wilayah="3374"))
    dinkes["name"] = "Dinas Kesehatan Kota Semarang"

    updated = client.put(f"/fhir/Organization/{dinkes['id']}", json=dinkes, headers={**FHIR_JSON, "If-Match": 'W/"1"'})

    assert updated.status_code == 200
    assert client.get(f"/fhir/Organization/{dinkes['id']}/_history").json()["total"] == 2
