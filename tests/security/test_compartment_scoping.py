"""Scoping through patient compartments (issue 8, items 3 and 6): a member of a Patient's compartment is seen
exactly where the Patient is, moves with the Patient at once, and a deleted resource is 410 for whoever saw it.

The network is scoped_network.py's.
"""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scoped_network import KELURAHAN_1, KELURAHAN_2, MEMBERS, Network

from factories import (
    FHIR_JSON,
    address,
    condition_json,
    create,
    encounter_json,
    episode_of_care_json,
    nik,
    observation_json,
    outcome,
    patient_json,
    practitioner_json,
    practitioner_role_json,
    service_request_json,
    task_json,
)

OUTSIDE = {"dinkes": "kota-lain", "puskesmas": "tetangga", "pustu": "tetangga", "posyandu": "tetangga"}


def compartment_members(patient_id: str) -> list[dict[str, Any]]:
    """One resource of each type a Patient's compartment holds besides the Patient, naming no facility: each is
    seen through the compartment alone."""
    return [
        builder(patient_id)
        for builder in (
            encounter_json,
            observation_json,
            condition_json,
            episode_of_care_json,
            service_request_json,
            task_json,
        )
    ]


MEMBER_TYPES = [member["resourceType"] for member in compartment_members("anyone")]


def post_members(client: TestClient, network: Network, member: str, patient_id: str) -> list[dict[str, Any]]:
    return [post(client, network, member, resource) for resource in compartment_members(patient_id)]


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
    searched = {
        resource_type: client.get(f"/fhir/{resource_type}", params={"patient": patient_id}, headers=headers).json()[
            "total"
        ]
        for resource_type in MEMBER_TYPES
    }
    return {
        "read": client.get(f"/fhir/Patient/{patient_id}", headers=headers).status_code,
        **searched,
        "in compartment": client.get(f"/fhir/Patient/{patient_id}/Observation", headers=headers).status_code,
        "everything": everything.json().get("total") if everything.status_code == 200 else everything.status_code,
    }


SEES_ALL = {
    "read": 200,
    **dict.fromkeys(MEMBER_TYPES, 1),
    "in compartment": 200,
    "everything": 1 + len(MEMBER_TYPES),
}
SEES_NOTHING = {"read": 404, **dict.fromkeys(MEMBER_TYPES, 0), "in compartment": 404, "everything": 404}


@pytest.mark.parametrize("member", MEMBERS)
def test_a_member_of_the_compartment_is_seen_where_its_patient_is(
    anonymous_client: TestClient, network: Network, member: str
) -> None:
    for where in ("dalam", OUTSIDE[member]):
        recorder = "dinkes-lain" if where == "kota-lain" else "dinkes"
        post_members(anonymous_client, network, recorder, network.patients[where]["id"])
    assert reach(anonymous_client, network, member, network.patients["dalam"]["id"]) == SEES_ALL
    assert reach(anonymous_client, network, member, network.patients[OUTSIDE[member]]["id"]) == SEES_NOTHING


def test_a_resident_living_in_the_rws_is_seen_with_everything_theirs(
    anonymous_client: TestClient, network: Network
) -> None:
    """``pindahan`` lives in the posyandu's RW 002 but is managed by the other puskesmas: the area rule alone."""
    patient_id = network.patients["pindahan"]["id"]
    members = post_members(anonymous_client, network, "posyandu", patient_id)
    assert reach(anonymous_client, network, "posyandu", patient_id) == SEES_ALL
    headers = network.headers("posyandu-2")
    for resource in members:
        path = f"/fhir/{resource['resourceType']}/{resource['id']}"
        assert anonymous_client.get(path, headers=headers).status_code == 404, path


def test_moving_a_resident_moves_everything_theirs_at_once(anonymous_client: TestClient, network: Network) -> None:
    """The dinkes moves ``dalam`` to posyandu-2's RW: the old posyandu loses the whole compartment, the new gains it."""
    patient = network.patients["dalam"]
    members = post_members(anonymous_client, network, "posyandu", patient["id"])
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
        for path in (f"/fhir/{resource['resourceType']}/{resource['id']}" for resource in members):
            assert anonymous_client.get(path, headers=network.headers(member)).status_code == status, (member, path)


def test_a_resident_moved_within_the_village_to_an_rw_not_covered_leaves_the_posyandu(
    anonymous_client: TestClient, network: Network
) -> None:
    """Same kelurahan, RW 003: the pustu (whole kelurahan) still sees everything, the posyandu (RW 001–002) not."""
    patient = network.patients["pindahan"]
    post_members(anonymous_client, network, "posyandu", patient["id"])
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


# Resources that a facility they name sees besides the patient's: (patient id, facility id) → the resource.
NAMING_A_FACILITY: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "visit-held-there": lambda patient, facility: encounter_json(patient, facility),
    "episode-managed-there": lambda patient, facility: episode_of_care_json(patient, facility),
    "referral-sent-from-there": lambda patient, facility: service_request_json(patient, requester=facility),
    "referral-sent-there": lambda patient, facility: service_request_json(patient, performer=facility),
    "task-asked-from-there": lambda patient, facility: task_json(patient, requester=facility),
    "task-owned-there": lambda patient, facility: task_json(patient, owner=facility),
}


@pytest.mark.parametrize("build", NAMING_A_FACILITY.values(), ids=NAMING_A_FACILITY)
def test_a_resource_is_seen_with_its_patient_and_by_the_facility_it_names(
    anonymous_client: TestClient, network: Network, build: Callable[[str, str], dict[str, Any]]
) -> None:
    """``tetangga`` lives in posyandu-2's area; the dinkes records something of hers naming posyandu (another
    puskesmas'): where she was seen, which facility manages her episode, sends or receives her referral."""
    resource = post(
        anonymous_client,
        network,
        "dinkes",
        build(network.patients["tetangga"]["id"], network.organizations["posyandu"]),
    )

    def sees(member: str) -> bool:
        path = f"/fhir/{resource['resourceType']}/{resource['id']}"
        return anonymous_client.get(path, headers=network.headers(member)).status_code == 200

    assert {member: sees(member) for member in ("posyandu", "pustu", "posyandu-2", "pustu-2", "dinkes-lain")} == {
        "posyandu": True,  # it is named
        "pustu": True,  # posyandu is in its subtree
        "posyandu-2": True,  # it sees the patient
        "pustu-2": True,
        "dinkes-lain": False,
    }
