"""Organization scoping (issue 4): each client sees and changes only its own subtree and the residents it serves.

The network: one kota with a dinkes and two puskesmas; puskesmas 1 has a pustu with a posyandu covering RW 001
and 002 of its kelurahan; puskesmas 2 has its own pustu and posyandu. A second kota has its own dinkes.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    KOTA,
    NIK_SYSTEM,
    OTHER_KOTA,
    create,
    nik,
    organization_json,
    patient_json,
)

KELURAHAN_1, KELURAHAN_2 = "3374011001", "3374021001"
MEMBERS = ("dinkes", "puskesmas", "pustu", "posyandu")


@dataclass(frozen=True)
class Network:
    organizations: dict[str, str]
    patients: dict[str, dict[str, Any]]
    tokens: dict[str, str]

    def headers(self, member: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[member]}"}


@pytest.fixture
def network(client: TestClient, issue_token: Any) -> Network:
    def organization(key: str, kind: str, wilayah: str, parent: str | None = None, rws: tuple[str, ...] = ()) -> None:
        parent_id = organizations[parent] if parent else None
        created = create(client, organization_json(kind, name=key, wilayah=wilayah, part_of=parent_id, rws=rws))
        organizations[key] = created["id"]

    organizations: dict[str, str] = {}
    organization("dinkes", "dinkes", KOTA)
    organization("puskesmas", "puskesmas", "337401", "dinkes")
    organization("pustu", "pustu", KELURAHAN_1, "puskesmas")
    organization("posyandu", "posyandu", KELURAHAN_1, "pustu", rws=("001", "002"))
    organization("puskesmas-2", "puskesmas", "337402", "dinkes")
    organization("pustu-2", "pustu", KELURAHAN_2, "puskesmas-2")
    organization("posyandu-2", "posyandu", KELURAHAN_2, "pustu-2", rws=("001",))
    organization("dinkes-lain", "dinkes", OTHER_KOTA)

    def resident(key: str, serial: int, wilayah: str, rw: str, manager: str) -> None:
        resource = patient_json(
            nik(serial=serial), given=key, wilayah=wilayah, rw=rw, organization=organizations[manager]
        )
        patients[key] = create(client, resource)

    patients: dict[str, dict[str, Any]] = {}
    resident("dalam", 1, KELURAHAN_1, "001", "posyandu")  # inside every member's subtree
    resident("tetangga", 2, KELURAHAN_2, "001", "posyandu-2")  # inside the dinkes only
    resident("kota-lain", 3, OTHER_KOTA + "011001", "001", "dinkes-lain")  # outside everyone
    # Lives in the posyandu's RW 002 but is managed by the other puskesmas: visible through the area rule.
    resident("pindahan", 4, KELURAHAN_1, "002", "puskesmas-2")
    tokens = {member: issue_token(organizations[member], "system/*.cruds") for member in MEMBERS}
    return Network(organizations, patients, tokens)


# Who is outside whose reach: the dinkes reaches its whole kota, the others only their own branch.
OUTSIDE = {"dinkes": "kota-lain", "puskesmas": "tetangga", "pustu": "tetangga", "posyandu": "tetangga"}


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize(("where", "status"), [("inside", 200), ("outside", 404)])
def test_read(anonymous_client: TestClient, network: Network, member: str, where: str, status: int) -> None:
    patient = network.patients["dalam" if where == "inside" else OUTSIDE[member]]
    response = anonymous_client.get(f"/fhir/Patient/{patient['id']}", headers=network.headers(member))
    assert response.status_code == status
    if status == 404:
        assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize(("where", "found"), [("inside", 1), ("outside", 0)])
def test_search(anonymous_client: TestClient, network: Network, member: str, where: str, found: int) -> None:
    patient = network.patients["dalam" if where == "inside" else OUTSIDE[member]]
    query = {"identifier": f"{NIK_SYSTEM}|{patient['identifier'][0]['value']}"}
    bundle = anonymous_client.get("/fhir/Patient", params=query, headers=network.headers(member)).json()
    assert bundle["total"] == found


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize(("where", "status"), [("inside", 200), ("outside", 404)])
def test_update(anonymous_client: TestClient, network: Network, member: str, where: str, status: int) -> None:
    patient = network.patients["dalam" if where == "inside" else OUTSIDE[member]]
    changed = patient | {"telecom": [{"system": "phone", "value": "081234567890"}]}
    response = anonymous_client.put(
        f"/fhir/Patient/{patient['id']}", json=changed, headers=network.headers(member) | FHIR_JSON
    )
    assert response.status_code == status


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize(("where", "status"), [("inside", 200), ("outside", 404)])
def test_history(anonymous_client: TestClient, network: Network, member: str, where: str, status: int) -> None:
    patient = network.patients["dalam" if where == "inside" else OUTSIDE[member]]
    headers = network.headers(member)
    assert anonymous_client.get(f"/fhir/Patient/{patient['id']}/_history", headers=headers).status_code == status
    assert anonymous_client.get(f"/fhir/Patient/{patient['id']}/_history/1", headers=headers).status_code == status


@pytest.mark.parametrize("member", MEMBERS)
def test_create_outside_the_area_is_forbidden(anonymous_client: TestClient, network: Network, member: str) -> None:
    """A resident neither managed nor living within the client's reach would be invisible to it: 403."""
    resource = patient_json(nik(serial=90), wilayah=OTHER_KOTA + "011001", rw="009")
    response = anonymous_client.post("/fhir/Patient", json=resource, headers=network.headers(member) | FHIR_JSON)
    assert response.status_code == 403
    assert (
        anonymous_client.get(
            "/fhir/Patient", params={"identifier": f"{NIK_SYSTEM}|{nik(serial=90)}"}, headers=network.headers("dinkes")
        ).json()["total"]
        == 0
    ), "nothing may be written"


@pytest.mark.parametrize("member", MEMBERS)
def test_create_under_an_organization_out_of_reach(anonymous_client: TestClient, network: Network, member: str) -> None:
    """An organization the client cannot see does not exist for it (422), rather than leaking that it exists."""
    resource = patient_json(nik(serial=91), organization=network.organizations["dinkes-lain"])
    response = anonymous_client.post("/fhir/Patient", json=resource, headers=network.headers(member) | FHIR_JSON)
    assert response.status_code == 422
    assert "does not exist" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("member", MEMBERS)
def test_create_inside(anonymous_client: TestClient, network: Network, member: str) -> None:
    resource = patient_json(nik(serial=92), wilayah=KELURAHAN_1, rw="001", organization=network.organizations[member])
    response = anonymous_client.post("/fhir/Patient", json=resource, headers=network.headers(member) | FHIR_JSON)
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("member", "visible"),
    [
        ("dinkes", {"dinkes", "puskesmas", "pustu", "posyandu", "puskesmas-2", "pustu-2", "posyandu-2"}),
        ("puskesmas", {"puskesmas", "pustu", "posyandu"}),
        ("pustu", {"pustu", "posyandu"}),
        ("posyandu", {"posyandu"}),
    ],
)
def test_organizations_visible_are_the_subtree(
    anonymous_client: TestClient, network: Network, member: str, visible: set[str]
) -> None:
    bundle = anonymous_client.get("/fhir/Organization", params={"_count": 50}, headers=network.headers(member)).json()
    names = {entry["resource"]["name"] for entry in bundle.get("entry", [])}
    assert names == visible


def test_residents_of_the_posyandu_area_are_visible_even_when_managed_elsewhere(
    anonymous_client: TestClient, network: Network
) -> None:
    bundle = anonymous_client.get("/fhir/Patient", headers=network.headers("posyandu")).json()
    assert sorted(e["resource"]["name"][0]["given"][0] for e in bundle["entry"]) == ["dalam", "pindahan"]


def test_include_does_not_leak_organizations_out_of_reach(anonymous_client: TestClient, network: Network) -> None:
    """The resident is visible (area rule) but its managing puskesmas is not: _include leaves it out."""
    patient = network.patients["pindahan"]
    query = {"_id": patient["id"], "_include": "Patient:organization"}
    bundle = anonymous_client.get("/fhir/Patient", params=query, headers=network.headers("posyandu")).json()
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match"]
    as_dinkes = anonymous_client.get("/fhir/Patient", params=query, headers=network.headers("dinkes")).json()
    assert [e["search"]["mode"] for e in as_dinkes["entry"]] == ["match", "include"]


def test_revinclude_does_not_leak_patients_out_of_reach(anonymous_client: TestClient, network: Network) -> None:
    query = {"_id": network.organizations["posyandu"], "_revinclude": "Patient:organization"}
    bundle = anonymous_client.get("/fhir/Organization", params=query, headers=network.headers("posyandu")).json()
    assert len(bundle["entry"]) == 2  # the posyandu and its own resident
    from_outside = anonymous_client.get(
        "/fhir/Organization",
        params={"_id": network.organizations["posyandu-2"], "_revinclude": "Patient:organization"},
        headers=network.headers("posyandu"),
    ).json()
    assert "entry" not in from_outside


def test_duplicate_nik_out_of_reach_is_refused_without_revealing_the_record(
    anonymous_client: TestClient, network: Network
) -> None:
    taken = network.patients["tetangga"]["identifier"][0]["value"]
    resource = patient_json(taken, wilayah=KELURAHAN_1, rw="001", organization=network.organizations["posyandu"])
    for headers in ({}, {"If-None-Exist": f"identifier={NIK_SYSTEM}|{taken}"}):
        response = anonymous_client.post(
            "/fhir/Patient", json=resource, headers=network.headers("posyandu") | FHIR_JSON | headers
        )
        assert response.status_code == 409
        assert network.patients["tetangga"]["id"] not in response.text


def test_scopes_limit_interactions(anonymous_client: TestClient, network: Network, issue_token: Any) -> None:
    reader = {"Authorization": f"Bearer {issue_token(network.organizations['posyandu'], 'system/Patient.rs')}"}
    patient = network.patients["dalam"]
    assert anonymous_client.get(f"/fhir/Patient/{patient['id']}", headers=reader).status_code == 200
    response = anonymous_client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers=reader | FHIR_JSON)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert anonymous_client.get("/fhir/Organization", headers=reader).status_code == 403


@pytest.mark.parametrize("member", MEMBERS)
def test_transaction_touching_a_patient_out_of_reach_fails_whole(
    anonymous_client: TestClient, network: Network, member: str
) -> None:
    inside, outside = network.patients["dalam"], network.patients[OUTSIDE[member]]
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "PUT", "url": f"Patient/{inside['id']}"}, "resource": inside | {"gender": "male"}},
            {"request": {"method": "PUT", "url": f"Patient/{outside['id']}"}, "resource": outside},
        ],
    }
    response = anonymous_client.post("/fhir", json=transaction, headers=network.headers(member) | FHIR_JSON)
    assert response.status_code == 404
    unchanged = anonymous_client.get(f"/fhir/Patient/{inside['id']}", headers=network.headers(member)).json()
    assert unchanged["meta"]["versionId"] == "1", "the entry inside reach is rolled back with the rest"


@pytest.mark.parametrize("member", MEMBERS)
def test_batch_reads_answer_inside_and_outside_separately(
    anonymous_client: TestClient, network: Network, member: str
) -> None:
    inside, outside = network.patients["dalam"], network.patients[OUTSIDE[member]]
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{inside['id']}"}},
            {"request": {"method": "GET", "url": f"Patient/{outside['id']}"}},
            {"request": {"method": "GET", "url": f"Patient?_id={outside['id']}"}},
        ],
    }
    response = anonymous_client.post("/fhir", json=batch, headers=network.headers(member) | FHIR_JSON)
    answers = response.json()["entry"]
    assert [a["response"]["status"] for a in answers] == ["200 OK", "404", "200 OK"]
    assert answers[2]["resource"]["total"] == 0
