"""Organization scoping (issue 4): each client sees and changes only its own subtree and the residents it serves.

The network (scoped_network.py): one kota with a dinkes and two puskesmas; puskesmas 1 has a pustu with a
posyandu covering RW 001 and 002 of its kelurahan; puskesmas 2 has its own pustu and posyandu. A second kota
has its own dinkes.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scoped_network import KELURAHAN_1, KELURAHAN_2, MEMBERS, Network

from factories import (
    CANONICAL,
    FACILITY_TYPE_SYSTEM,
    FHIR_JSON,
    NIK_SYSTEM,
    OTHER_KOTA,
    PROVINCE,
    RW_COVERAGE_URL,
    address,
    create,
    nik,
    organization_json,
    patient_json,
    practitioner_json,
    practitioner_role_json,
)

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


# ---- self-escalation (issue 7, item 1): a client never widens its own reach ----

ANCESTORS = {"dinkes": (), "puskesmas": ("dinkes",), "pustu": ("dinkes", "puskesmas"), "posyandu": MEMBERS[:3]}
CHILD = {"dinkes": "puskesmas", "puskesmas": "pustu", "pustu": "posyandu"}
# An organization outside the member's subtree whose parent, if it could be changed, would bring it in.
FOREIGN = {"dinkes": "dinkes-lain", "puskesmas": "puskesmas-2", "pustu": "pustu-2", "posyandu": "posyandu-2"}


@dataclass(frozen=True)
class Attempt:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    status: int


def _structure_changes(own: dict[str, Any], member: str, network: Network) -> dict[str, dict[str, Any]]:
    """The member's own Organization with one structural element changed, by what the change is."""
    parent = {"partOf": {"reference": f"Organization/{network.organizations[CHILD['dinkes']]}"}}
    without_parent = {k: v for k, v in own.items() if k != "partOf"} if "partOf" in own else own | parent
    widened = [address(PROVINCE, use="work")]
    more_rws = [*own.get("extension", []), {"url": RW_COVERAGE_URL, "valueCode": "009"}]
    other_type = "puskesmas" if member == "dinkes" else "dinkes"
    retyped = [{"coding": [{"system": FACILITY_TYPE_SYSTEM, "code": other_type}]}]
    return {
        "type": own | {"type": retyped},
        "partOf": without_parent,
        "wilayah": own | {"address": widened},
        "RWs": own | {"extension": more_rws},
        "active": own | {"active": False},
        # The probe's finding: type dinkes, no parent, the province as its address.
        "all-at-once": {k: v for k, v in own.items() if k not in ("partOf", "extension")}
        | {"type": [{"coding": [{"system": FACILITY_TYPE_SYSTEM, "code": "dinkes"}]}], "address": widened},
    }


def _attempts(member: str, network: Network, own: dict[str, Any]) -> list[Attempt]:
    own_path = f"/fhir/Organization/{own['id']}"
    attempts = [
        Attempt(f"PUT own organization, changed {what}", "PUT", own_path, body, 403)
        for what, body in _structure_changes(own, member, network).items()
    ]
    attempts.append(Attempt("DELETE own organization", "DELETE", own_path, None, 403))
    attempts.append(
        Attempt(
            "PUT own organization with a wider wilayah, in a transaction",
            "POST",
            "/fhir",
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    {
                        "request": {"method": "PUT", "url": f"Organization/{own['id']}"},
                        "resource": own | {"address": [address(PROVINCE, use="work")]},
                    }
                ],
            },
            403,
        )
    )
    for ancestor in ANCESTORS[member]:
        ancestor_id = network.organizations[ancestor]
        changed = organization_json(ancestor, name="taken over", wilayah=PROVINCE) | {"id": ancestor_id}
        path = f"/fhir/Organization/{ancestor_id}"
        attempts.append(Attempt(f"PUT ancestor {ancestor}", "PUT", path, changed, 404))
        attempts.append(Attempt(f"DELETE ancestor {ancestor}", "DELETE", path, None, 404))
    attempts.append(
        Attempt(
            "POST a new top-level dinkes of the province",
            "POST",
            "/fhir/Organization",
            organization_json("dinkes", name="Dinkes baru", wilayah=PROVINCE),
            403,
        )
    )
    foreign_id = network.organizations[FOREIGN[member]]
    adopted = organization_json("posyandu", name="adopted", wilayah=KELURAHAN_2, part_of=own["id"], rws=("001",))
    attempts.append(
        Attempt(
            f"PUT {FOREIGN[member]} under own organization",
            "PUT",
            f"/fhir/Organization/{foreign_id}",
            adopted | {"id": foreign_id},
            404,
        )
    )
    if member in CHILD:
        child_id = network.organizations[CHILD[member]]
        path = f"/fhir/Organization/{child_id}"
        # Every organization outside the subtree is invisible: as a parent it "does not exist".
        outside = organization_json(CHILD[member], name="moved out", wilayah=KELURAHAN_2, part_of=foreign_id)
        attempts.append(
            Attempt(f"PUT child {CHILD[member]} out of the subtree", "PUT", path, outside | {"id": child_id}, 422)
        )
    return attempts


def _reach(client: TestClient, network: Network, member: str) -> tuple[set[str], set[str], str | None]:
    """Residents and organizations the member sees, and its own organization's version."""
    headers = network.headers(member)
    patients = client.get("/fhir/Patient", params={"_count": 100}, headers=headers).json()
    organizations = client.get("/fhir/Organization", params={"_count": 100}, headers=headers).json()
    own = client.get(f"/fhir/Organization/{network.organizations[member]}", headers=headers).json()
    return (
        {entry["resource"]["id"] for entry in patients.get("entry", [])},
        {entry["resource"]["id"] for entry in organizations.get("entry", [])},
        own.get("meta", {}).get("versionId"),
    )


@pytest.mark.parametrize("member", MEMBERS)
def test_no_client_widens_its_own_reach(anonymous_client: TestClient, network: Network, member: str) -> None:
    """Every self-escalation attempt is refused with nothing written: the member's reach stays as it was."""
    headers = network.headers(member) | FHIR_JSON
    own = anonymous_client.get(f"/fhir/Organization/{network.organizations[member]}", headers=headers).json()
    before = _reach(anonymous_client, network, member)
    assert len(before[0]) >= 2, "the member sees residents, so a leak would show as more of them"
    failures = []
    for attempt in _attempts(member, network, own):
        response = anonymous_client.request(attempt.method, attempt.path, json=attempt.body, headers=headers)
        if response.status_code != attempt.status:
            failures.append(f"{attempt.name}: {response.status_code} {response.text[:200]}")
        elif response.json()["resourceType"] != "OperationOutcome":
            failures.append(f"{attempt.name}: not an OperationOutcome")
        if _reach(anonymous_client, network, member) != before:
            failures.append(f"{attempt.name}: the member's reach changed")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("member", MEMBERS)
def test_a_client_edits_the_rest_of_its_own_organization(
    anonymous_client: TestClient, network: Network, member: str
) -> None:
    """Name, alias and telecom are the organization's own business, even though its parent is out of sight."""
    headers = network.headers(member) | FHIR_JSON
    path = f"/fhir/Organization/{network.organizations[member]}"
    own = anonymous_client.get(path, headers=headers).json()
    changed = own | {"alias": ["Baru"], "telecom": [{"system": "phone", "value": "0248311111"}]}
    response = anonymous_client.put(path, json=changed, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["alias"] == ["Baru"]


def test_the_organization_above_changes_the_structure(anonymous_client: TestClient, network: Network) -> None:
    """The pustu gives its posyandu another RW: the posyandu then sees the residents living there."""
    rw_003 = create_resident(anonymous_client, network, serial=40, rw="003")
    path = f"/fhir/Organization/{network.organizations['posyandu']}"
    posyandu = anonymous_client.get(path, headers=network.headers("pustu")).json()
    wider = posyandu | {"extension": [*posyandu["extension"], {"url": RW_COVERAGE_URL, "valueCode": "003"}]}
    assert anonymous_client.put(path, json=wider, headers=network.headers("pustu") | FHIR_JSON).status_code == 200
    seen = anonymous_client.get(f"/fhir/Patient/{rw_003}", headers=network.headers("posyandu"))
    assert seen.status_code == 200


def test_a_dinkes_cannot_delete_its_own_organization_but_an_operator_can(
    anonymous_client: TestClient, network: Network, issue_token: Any
) -> None:
    """The top of the hierarchy has no organization above it: only an operator (ilp/admin) may."""
    path = f"/fhir/Organization/{network.organizations['dinkes-lain']}"
    assert anonymous_client.delete(path, headers=network.headers("dinkes-lain")).status_code == 403
    admin = {"Authorization": f"Bearer {issue_token(None, 'ilp/admin')}"}
    assert anonymous_client.delete(path, headers=admin).status_code == 204


def create_resident(client: TestClient, network: Network, *, serial: int, rw: str) -> str:
    """A resident of the posyandu's kelurahan, managed by the other puskesmas (so only the area rule applies)."""
    resource = patient_json(
        nik(serial=serial), wilayah=KELURAHAN_1, rw=rw, organization=network.organizations["puskesmas-2"]
    )
    response = client.post("/fhir/Patient", json=resource, headers=network.headers("dinkes") | FHIR_JSON)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# ---- Practitioners belong to the organization that registered them ----

REGISTRAR_URL = f"{CANONICAL}/StructureDefinition/didaftarkan-oleh"
# Who sees a practitioner registered by the posyandu: its subtree and everything above it, nobody else.
POSYANDU_STAFF_SEEN_BY = {"posyandu", "pustu", "puskesmas", "dinkes"}


def _registrar(organization_id: str) -> list[dict[str, Any]]:
    return [{"url": REGISTRAR_URL, "valueReference": {"reference": f"Organization/{organization_id}"}}]


def _register_practitioner(client: TestClient, headers: dict[str, str], **elements: Any) -> dict[str, Any]:
    response = client.post("/fhir/Practitioner", json=practitioner_json() | elements, headers=headers | FHIR_JSON)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _who_sees(client: TestClient, network: Network, resource: str) -> set[str]:
    return {
        key for key in network.organizations if client.get(resource, headers=network.headers(key)).status_code == 200
    }


def test_a_practitioner_belongs_to_the_organization_that_registered_it(
    anonymous_client: TestClient, network: Network
) -> None:
    forged = _registrar(network.organizations["dinkes"])
    kader = _register_practitioner(anonymous_client, network.headers("posyandu"), extension=forged)

    assert kader["extension"] == _registrar(network.organizations["posyandu"]), "recorded by the server"
    assert _who_sees(anonymous_client, network, f"/fhir/Practitioner/{kader['id']}") == POSYANDU_STAFF_SEEN_BY
    query = {"registered-by": f"Organization/{network.organizations['posyandu']}"}
    found = anonymous_client.get("/fhir/Practitioner", params=query, headers=network.headers("dinkes")).json()
    assert [entry["resource"]["id"] for entry in found["entry"]] == [kader["id"]]


@pytest.mark.parametrize("change", ["removed", "forged"])
def test_the_registering_organization_stays_on_update(
    anonymous_client: TestClient, network: Network, change: str
) -> None:
    kader = _register_practitioner(anonymous_client, network.headers("posyandu"))
    changed = {k: v for k, v in kader.items() if k != "extension"}
    if change == "forged":
        changed["extension"] = _registrar(network.organizations["dinkes-lain"])
    path = f"/fhir/Practitioner/{kader['id']}"

    response = anonymous_client.put(path, json=changed, headers=network.headers("puskesmas") | FHIR_JSON)

    assert response.status_code == 200, response.text
    assert response.json()["extension"] == _registrar(network.organizations["posyandu"])
    assert _who_sees(anonymous_client, network, path) == POSYANDU_STAFF_SEEN_BY


def test_a_practitioner_registered_by_an_operator_is_seen_through_its_roles_only(
    client: TestClient, network: Network
) -> None:
    """No organization owns it: before any role only operators see it, then the role's organization does."""
    bidan = create(client, practitioner_json() | {"extension": _registrar(network.organizations["posyandu"])})
    path = f"/fhir/Practitioner/{bidan['id']}"
    assert "extension" not in bidan
    assert _who_sees(client, network, path) == set()

    create(client, practitioner_role_json(bidan["id"], network.organizations["pustu-2"]))

    assert _who_sees(client, network, path) == {"pustu-2", "puskesmas-2", "dinkes"}
    edited = client.put(path, json=bidan | {"gender": "female"}, headers=network.headers("pustu-2") | FHIR_JSON)
    assert edited.status_code == 200, edited.text
    assert "extension" not in edited.json()


def test_an_organization_a_practitioner_serves_edits_it(client: TestClient, network: Network) -> None:
    """The pustu-2 cannot see the registering posyandu, yet keeps the reference to it when it edits the record."""
    kader = _register_practitioner(client, network.headers("posyandu"))
    create(client, practitioner_role_json(kader["id"], network.organizations["pustu-2"], "kader"))
    path = f"/fhir/Practitioner/{kader['id']}"

    edited = client.put(path, json=kader | {"gender": "female"}, headers=network.headers("pustu-2") | FHIR_JSON)

    assert edited.status_code == 200, edited.text
    assert edited.json()["extension"] == _registrar(network.organizations["posyandu"])


def test_a_practitioner_out_of_sight_cannot_be_given_a_role(anonymous_client: TestClient, network: Network) -> None:
    kader = _register_practitioner(anonymous_client, network.headers("posyandu"))
    role = practitioner_role_json(kader["id"], network.organizations["posyandu-2"], "kader")

    response = anonymous_client.post(
        "/fhir/PractitionerRole", json=role, headers=network.headers("posyandu-2") | FHIR_JSON
    )

    assert response.status_code == 422
    assert "does not exist" in response.json()["issue"][0]["diagnostics"]
