"""Patient compartments (issue 8, item 3): membership recorded at write time, Patient/$everything and compartment
search, as an ilp/admin client (scoping through compartments is tested in tests/security/test_compartment_scoping.py).
"""

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from factories import (
    BODY_HEIGHT,
    BODY_WEIGHT,
    CANONICAL,
    LOINC,
    create,
    link,
    nik,
    observation_json,
    organization_json,
    outcome,
    patient_json,
    task_json,
)
from ilp_api.db.engine import Database


def everything(client: TestClient, patient_id: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/fhir/Patient/{patient_id}/$everything?{query}")
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    assert bundle["type"] == "searchset"
    return bundle


def members(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle.get("entry", [])]


def compartment_rows(db: Database, resource_type: str, resource_id: str) -> set[str]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT patient_id FROM patient_compartment WHERE resource_type = :type AND resource_id = :id"),
            {"type": resource_type, "id": resource_id},
        ).scalars()
        return set(rows)


def test_a_resource_belongs_to_the_compartments_its_declared_references_name(client: TestClient, db: Database) -> None:
    budi, siti = (create(client, patient_json(nik(serial=n), given=g)) for n, g in ((1, "Budi"), (2, "Siti")))
    organization = create(client, organization_json("dinkes", wilayah="3374"))
    # Performed by a Patient (self-measured) and by an Organization: only Patient targets make members.
    performers = [{"reference": f"Patient/{siti['id']}"}, {"reference": f"Organization/{organization['id']}"}]
    observation = create(client, observation_json(budi["id"], performer=performers))
    task = create(client, task_json(budi["id"]))
    assert compartment_rows(db, "Patient", budi["id"]) == {budi["id"]}, "a Patient is in its own compartment"
    assert compartment_rows(db, "Observation", observation["id"]) == {budi["id"], siti["id"]}
    assert compartment_rows(db, "Task", task["id"]) == {budi["id"]}
    assert compartment_rows(db, "Organization", organization["id"]) == set()

    moved = {k: v for k, v in observation.items() if k != "performer"} | {
        "subject": {"reference": f"Patient/{siti['id']}"}
    }
    assert client.put(f"/fhir/Observation/{observation['id']}", json=moved).status_code == 200
    assert compartment_rows(db, "Observation", observation["id"]) == {siti["id"]}, "an update replaces the rows"


def test_everything_is_the_patient_then_its_compartment(client: TestClient) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    other = create(client, patient_json(nik(serial=2)))
    weight = create(client, observation_json(budi["id"]))
    task = create(client, task_json(budi["id"]))
    create(client, observation_json(other["id"]))
    deleted = create(client, observation_json(budi["id"], code=BODY_HEIGHT))
    assert client.delete(f"/fhir/Observation/{deleted['id']}").status_code == 204

    bundle = everything(client, budi["id"])
    assert members(bundle) == [("Patient", budi["id"]), ("Observation", weight["id"]), ("Task", task["id"])]
    assert bundle["total"] == 3
    assert {e["search"]["mode"] for e in bundle["entry"]} == {"match"}


def test_everything_pages_with_next_links(client: TestClient) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    observations = [create(client, observation_json(budi["id"]))["id"] for _ in range(4)]
    seen: list[tuple[str, str]] = []
    bundle = everything(client, budi["id"], "_count=2")
    pages = 1
    while (next_url := link(bundle, "next")) is not None:
        assert bundle["total"] == 5
        seen += members(bundle)
        split = urlsplit(next_url)
        assert split.path == f"/fhir/Patient/{budi['id']}/$everything"
        bundle = everything(client, budi["id"], split.query)
        pages += 1
    seen += members(bundle)
    assert pages == 3
    assert seen == [("Patient", budi["id"]), *(("Observation", o) for o in observations)]


def test_everything_of_some_types(client: TestClient) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    weight = create(client, observation_json(budi["id"]))
    task = create(client, task_json(budi["id"]))
    assert members(everything(client, budi["id"], "_type=Observation")) == [("Observation", weight["id"])]
    both = everything(client, budi["id"], "_type=Task,Patient")
    assert members(both) == [("Patient", budi["id"]), ("Task", task["id"])]


def test_everything_since_an_instant(client: TestClient) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    create(client, observation_json(budi["id"]))
    time.sleep(0.01)
    since = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    time.sleep(0.01)
    later = create(client, observation_json(budi["id"], code=BODY_HEIGHT))
    assert members(everything(client, budi["id"], f"_since={since}")) == [("Observation", later["id"])]


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("_type=Organization", "_type"),
        ("_type=Bogus", "_type"),
        ("_type=", "_type"),
        ("_since=yesterday", "_since"),
        ("_count=many", "_count"),
        ("_sort=-date", "_sort"),
        ("_type=Task&_type=Patient", "_type"),
    ],
)
def test_everything_refuses_what_it_cannot_do(client: TestClient, query: str, expression: str) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    body = outcome(client.get(f"/fhir/Patient/{budi['id']}/$everything?{query}"), 400)
    assert body["issue"][0]["expression"] == [expression]


def test_everything_of_an_unknown_or_deleted_patient(client: TestClient) -> None:
    outcome(client.get("/fhir/Patient/no-such-patient/$everything"), 404)
    budi = create(client, patient_json(nik(serial=1)))
    assert client.delete(f"/fhir/Patient/{budi['id']}").status_code == 204
    outcome(client.get(f"/fhir/Patient/{budi['id']}/$everything"), 410)


def test_compartment_search_uses_the_type_s_own_parameters(client: TestClient) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    other = create(client, patient_json(nik(serial=2)))
    weight = create(client, observation_json(budi["id"]))
    create(client, observation_json(budi["id"], code=BODY_HEIGHT))
    create(client, observation_json(other["id"]))

    response = client.get(f"/fhir/Patient/{budi['id']}/Observation", params={"code": f"{LOINC}|{BODY_WEIGHT}"})
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert members(bundle) == [("Observation", weight["id"])]
    assert bundle["total"] == 1
    assert urlsplit(link(bundle, "self") or "").path == f"/fhir/Patient/{budi['id']}/Observation"
    assert client.get(f"/fhir/Patient/{budi['id']}/Observation").json()["total"] == 2
    assert members(client.get(f"/fhir/Patient/{budi['id']}/Patient").json()) == [("Patient", budi["id"])]
    assert client.get(f"/fhir/Patient/{budi['id']}/Task").json()["total"] == 0


def test_compartment_search_refusals(client: TestClient) -> None:
    budi = create(client, patient_json(nik(serial=1)))
    outcome(client.get(f"/fhir/Patient/{budi['id']}/Organization"), 400)
    outcome(client.get(f"/fhir/Patient/{budi['id']}/Bogus"), 404)
    outcome(client.get(f"/fhir/Patient/{budi['id']}/Observation?colour=red"), 400)
    outcome(client.get("/fhir/Patient/no-such-patient/Observation"), 404)
    # _history keeps its meaning: it is no compartment search.
    assert client.get(f"/fhir/Patient/{budi['id']}/_history").json()["type"] == "history"


def test_the_capability_statement_declares_the_compartment(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    rest = statement["rest"][0]
    assert rest["compartment"] == [f"{CANONICAL}/CompartmentDefinition/patient"]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    everything = next(o for o in patient["operation"] if o["name"] == "everything")
    assert everything["definition"] == "http://hl7.org/fhir/OperationDefinition/Patient-everything"
