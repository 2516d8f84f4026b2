"""Scoping through patient compartments (issue 8, items 3 and 6): a member of a Patient's compartment is seen
exactly where the Patient is, moves with the Patient at once, and a deleted resource is 410 for whoever saw it.

The network is scoped_network.py's; Task is the test-only type of clinical_types.py.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from scoped_network import KELURAHAN_1, KELURAHAN_2, MEMBERS, Network

from clinical_types import clinical_app, task_json
from factories import (
    FHIR_JSON,
    address,
    create,
    encounter_json,
    nik,
    observation_json,
    outcome,
    patient_json,
    practitioner_json,
    practitioner_role_json,
)
from ilp_api.db.engine import Database
from ilp_api.settings import Settings

OUTSIDE = {"dinkes": "kota-lain", "puskesmas": "tetangga", "pustu": "tetangga", "posyandu": "tetangga"}


@pytest.fixture(scope="module")
def app(database: Database, settings: Settings) -> Iterator[FastAPI]:
    with clinical_app(settings, database) as clinical:
        yield clinical


def post(client: TestClient, network: Network, member: str, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/fhir/{resource['resourceType']}", json=resource, headers=network.headers(member) | FHIR_JSON
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def reach(client: TestClient, network: Network, member: str, patient_id: str) -> dict[str, Any]:
    """What ``member`` sees of one resident's compartment, by read, search, compartment search and $everything."""
    headers = network.headers(member)
    everything = client.get(f"/fhir/Patient/{patient_id}/$everything", headers=headers)
    return {
        "read": client.get(f"/fhir/Patient/{patient_id}", headers=headers).status_code,
        "observations": client.get("/fhir/Observation", params={"patient": patient_id}, headers=headers).json()[
            "total"
        ],
        "tasks": client.get("/fhir/Task", params={"patient": patient_id}, headers=headers).json()["total"],
        "in compartment": client.get(f"/fhir/Patient/{patient_id}/Observation", headers=headers).status_code,
        "everything": everything.json().get("total") if everything.status_code == 200 else everything.status_code,
    }


SEES_ALL = {"read": 200, "observations": 1, "tasks": 1, "in compartment": 200, "everything": 3}
SEES_NOTHING = {"read": 404, "observations": 0, "tasks": 0, "in compartment": 404, "everything": 404}


@pytest.mark.parametrize("member", MEMBERS)
def test_a_member_of_the_compartment_is_seen_where_its_patient_is(
    anonymous_client: TestClient, network: Network, member: str
) -> None:
    for where in ("dalam", OUTSIDE[member]):
        patient_id = network.patients[where]["id"]
        post(
            anonymous_client, network, "dinkes-lain" if where == "kota-lain" else "dinkes", observation_json(patient_id)
        )
        post(anonymous_client, network, "dinkes-lain" if where == "kota-lain" else "dinkes", task_json(patient_id))
    assert reach(anonymous_client, network, member, network.patients["dalam"]["id"]) == SEES_ALL
    assert reach(anonymous_client, network, member, network.patients[OUTSIDE[member]]["id"]) == SEES_NOTHING


def test_a_resident_living_in_the_rws_is_seen_with_everything_theirs(
    anonymous_client: TestClient, network: Network
) -> None:
    """``pindahan`` lives in the posyandu's RW 002 but is managed by the other puskesmas: the area rule alone."""
    patient_id = network.patients["pindahan"]["id"]
    observation = post(anonymous_client, network, "posyandu", observation_json(patient_id))
    post(anonymous_client, network, "posyandu", task_json(patient_id))
    assert reach(anonymous_client, network, "posyandu", patient_id) == SEES_ALL
    headers = network.headers("posyandu-2")
    assert anonymous_client.get(f"/fhir/Observation/{observation['id']}", headers=headers).status_code == 404


def test_moving_a_resident_moves_everything_theirs_at_once(anonymous_client: TestClient, network: Network) -> None:
    """The dinkes moves ``dalam`` to posyandu-2's RW: the old posyandu loses the whole compartment, the new gains it."""
    patient = network.patients["dalam"]
    observation = post(anonymous_client, network, "posyandu", observation_json(patient["id"]))
    task = post(anonymous_client, network, "posyandu", task_json(patient["id"]))
    assert reach(anonymous_client, network, "posyandu", patient["id"]) == SEES_ALL
    assert reach(anonymous_client, network, "posyandu-2", patient["id"]) == SEES_NOTHING

    moved = patient | {
        "address": [address(KELURAHAN_2, rw="001")],
        "managingOrganization": {"reference": f"Organization/{network.organizations['posyandu-2']}"},
    }
    response = anonymous_client.put(
        f"/fhir/Patient/{patient['id']}", json=moved, headers=network.headers("dinkes") | FHIR_JSON
    )
    assert response.status_code == 200, response.text

    assert reach(anonymous_client, network, "posyandu", patient["id"]) == SEES_NOTHING
    assert reach(anonymous_client, network, "posyandu-2", patient["id"]) == SEES_ALL
    for member, status in (("posyandu", 404), ("pustu", 404), ("posyandu-2", 200), ("pustu-2", 200)):
        for path in (f"/fhir/Observation/{observation['id']}", f"/fhir/Task/{task['id']}"):
            assert anonymous_client.get(path, headers=network.headers(member)).status_code == status, (member, path)


def test_a_resident_moved_within_the_village_to_an_rw_not_covered_leaves_the_posyandu(
    anonymous_client: TestClient, network: Network
) -> None:
    """Same kelurahan, RW 003: the pustu (whole kelurahan) still sees everything, the posyandu (RW 001–002) not."""
    patient = network.patients["pindahan"]
    post(anonymous_client, network, "posyandu", observation_json(patient["id"]))
    post(anonymous_client, network, "posyandu", task_json(patient["id"]))
    moved = patient | {"address": [address(KELURAHAN_1, rw="003")]}
    response = anonymous_client.put(
        f"/fhir/Patient/{patient['id']}", json=moved, headers=network.headers("dinkes") | FHIR_JSON
    )
    assert response.status_code == 200, response.text
    assert reach(anonymous_client, network, "posyandu", patient["id"]) == SEES_NOTHING
    assert reach(anonymous_client, network, "pustu", patient["id"]) == SEES_ALL


@pytest.mark.parametrize(
    ("addresses", "seen_by"),
    [
        # A KTP address in the posyandu's RW, the home (domicile) in the other kelurahan: the home counts.
        ([address(KELURAHAN_1, rw="001", use="billing"), address(KELURAHAN_2, rw="001")], "posyandu-2"),
        # An address marked old no longer places the resident; without a home one the first current one does.
        ([address(KELURAHAN_2, rw="001", use="old"), address(KELURAHAN_1, rw="001", use="temp")], "posyandu"),
    ],
)
def test_a_resident_with_several_addresses_is_placed_by_the_one_they_live_at(
    anonymous_client: TestClient, network: Network, addresses: list[dict[str, Any]], seen_by: str
) -> None:
    resource = patient_json(nik(serial=60), wilayah=None) | {"address": addresses}
    patient = post(anonymous_client, network, "dinkes", resource)
    not_seen_by = "posyandu" if seen_by == "posyandu-2" else "posyandu-2"
    path = f"/fhir/Patient/{patient['id']}"
    assert anonymous_client.get(path, headers=network.headers(seen_by)).status_code == 200
    assert anonymous_client.get(path, headers=network.headers(not_seen_by)).status_code == 404


def test_a_member_cannot_be_written_for_a_patient_out_of_reach(anonymous_client: TestClient, network: Network) -> None:
    """The Patient out of reach does not exist for the client (422), so nothing of theirs can be added."""
    resource = observation_json(network.patients["tetangga"]["id"])
    response = anonymous_client.post(
        "/fhir/Observation", json=resource, headers=network.headers("posyandu") | FHIR_JSON
    )
    body = outcome(response, 422)
    assert "does not exist" in body["issue"][0]["diagnostics"]


def test_everything_leaves_out_the_types_the_scopes_do_not_allow(
    anonymous_client: TestClient, network: Network, issue_token: Any
) -> None:
    patient_id = network.patients["dalam"]["id"]
    post(anonymous_client, network, "posyandu", observation_json(patient_id))
    reader = {"Authorization": f"Bearer {issue_token(network.organizations['posyandu'], 'system/Patient.rs')}"}
    bundle = anonymous_client.get(f"/fhir/Patient/{patient_id}/$everything", headers=reader).json()
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    refused = anonymous_client.get(f"/fhir/Patient/{patient_id}/$everything?_type=Observation", headers=reader)
    assert "system/Observation.r" in outcome(refused, 403)["issue"][0]["diagnostics"]
    assert anonymous_client.get(f"/fhir/Patient/{patient_id}/Observation", headers=reader).status_code == 403


# ---- 410 for a scoped client (issue 8, item 6) ----


def test_a_deleted_resident_is_gone_for_who_saw_it_and_unknown_to_the_others(
    anonymous_client: TestClient, network: Network
) -> None:
    patient = network.patients["dalam"]
    path = f"/fhir/Patient/{patient['id']}"
    assert anonymous_client.delete(path, headers=network.headers("posyandu")).status_code == 204

    outcome(anonymous_client.get(path, headers=network.headers("posyandu")), 410)
    history = anonymous_client.get(f"{path}/_history", headers=network.headers("posyandu"))
    assert history.status_code == 200
    assert [e["request"]["method"] for e in history.json()["entry"]] == ["DELETE", "POST"]
    assert anonymous_client.get(f"{path}/_history/1", headers=network.headers("posyandu")).status_code == 200

    outcome(anonymous_client.get(path, headers=network.headers("posyandu-2")), 404)
    outcome(anonymous_client.get(f"{path}/_history", headers=network.headers("posyandu-2")), 404)
    searched = anonymous_client.get("/fhir/Patient", params={"_id": patient["id"]}, headers=network.headers("posyandu"))
    assert searched.json()["total"] == 0, "searches leave deleted resources out"


def test_a_deleted_member_and_organization_are_gone_for_who_saw_them(
    anonymous_client: TestClient, network: Network
) -> None:
    observation = post(anonymous_client, network, "posyandu", observation_json(network.patients["dalam"]["id"]))
    path = f"/fhir/Observation/{observation['id']}"
    assert anonymous_client.delete(path, headers=network.headers("posyandu")).status_code == 204
    outcome(anonymous_client.get(path, headers=network.headers("pustu")), 410)
    outcome(anonymous_client.get(path, headers=network.headers("posyandu-2")), 404)

    posyandu = f"/fhir/Organization/{network.organizations['posyandu']}"
    assert anonymous_client.delete(posyandu, headers=network.headers("pustu")).status_code == 204
    outcome(anonymous_client.get(posyandu, headers=network.headers("pustu")), 410)
    outcome(anonymous_client.get(posyandu, headers=network.headers("pustu-2")), 404)


def test_a_deleted_resident_s_nik_is_free_again(anonymous_client: TestClient, network: Network) -> None:
    """The claim is released on delete although the index and compartment rows stay."""
    patient = network.patients["dalam"]
    headers = network.headers("posyandu") | FHIR_JSON
    assert anonymous_client.delete(f"/fhir/Patient/{patient['id']}", headers=headers).status_code == 204
    again = {k: v for k, v in patient.items() if k not in ("id", "meta")}
    assert anonymous_client.post("/fhir/Patient", json=again, headers=headers).status_code == 201


def test_a_deleted_role_is_gone_and_no_longer_shows_its_practitioner(client: TestClient, network: Network) -> None:
    """The role keeps its index rows for its own 410, but a deleted role is no way to see the practitioner."""
    bidan = create(client, practitioner_json())
    role = create(client, practitioner_role_json(bidan["id"], network.organizations["pustu-2"]))
    headers = network.headers("pustu-2")
    assert client.get(f"/fhir/Practitioner/{bidan['id']}", headers=headers).status_code == 200

    assert client.delete(f"/fhir/PractitionerRole/{role['id']}", headers=headers).status_code == 204
    outcome(client.get(f"/fhir/PractitionerRole/{role['id']}", headers=headers), 410)
    outcome(client.get(f"/fhir/Practitioner/{bidan['id']}", headers=headers), 404)


def test_a_visit_is_seen_with_its_patient_and_by_the_facility_that_held_it(
    anonymous_client: TestClient, network: Network
) -> None:
    """``tetangga`` lives in posyandu-2's area; the dinkes records her visit at posyandu (another puskesmas')."""
    held_at = network.organizations["posyandu"]
    visit = post(anonymous_client, network, "dinkes", encounter_json(network.patients["tetangga"]["id"], held_at))

    def sees(member: str) -> bool:
        response = anonymous_client.get(f"/fhir/Encounter/{visit['id']}", headers=network.headers(member))
        return response.status_code == 200

    assert {member: sees(member) for member in ("posyandu", "pustu", "posyandu-2", "pustu-2", "dinkes-lain")} == {
        "posyandu": True,  # it held the visit
        "pustu": True,  # posyandu is in its subtree
        "posyandu-2": True,  # it sees the patient
        "pustu-2": True,
        "dinkes-lain": False,
    }
