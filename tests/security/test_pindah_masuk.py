"""A NIK registered outside the caller's area (issue 7, item 8): refused without saying where, at most
ILP_IDENTIFIER_REFUSALS_PER_HOUR times per client, each refusal audited against the record it asked about;
the resident who really moved in is taken over with POST /fhir/Patient/$pindah-masuk.

"dalam" lives in kelurahan 1 and is managed by the posyandu of puskesmas 1; puskesmas 2 cannot see it.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from scoped_network import KELURAHAN_2, Network

from factories import FHIR_JSON, NIK_SYSTEM, address, ilp_codes, nik, outcome, patient_json
from ilp_api.security.refusals import LIMIT_CODE, refusals_per_client

MOVE_IN = "/fhir/Patient/$pindah-masuk"
TREAT = {"X-Purpose-Of-Use": "TREAT"}


def _nik_of(patient: dict[str, Any]) -> str:
    return str(patient["identifier"][0]["value"])


def _register(client: TestClient, network: Network, who: str, nik_value: str) -> Any:
    """``who`` registers a resident of kelurahan 2, managed by posyandu 2."""
    resource = patient_json(nik_value, wilayah=KELURAHAN_2, rw="001", organization=network.organizations["posyandu-2"])
    return client.post("/fhir/Patient", json=resource, headers=network.headers(who) | FHIR_JSON)


def _audit_events(client: TestClient, network: Network, patient_id: str) -> list[dict[str, Any]]:
    """The record's own dinkes reads who accessed it."""
    query = {"entity": f"Patient/{patient_id}"}
    bundle = client.get("/fhir/AuditEvent", params=query, headers=network.headers("dinkes")).json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


def _parameters(nik_value: str, organization_id: str, **more: Any) -> dict[str, Any]:
    parameter = [
        {"name": "nik", "valueString": nik_value},
        {"name": "managingOrganization", "valueReference": {"reference": f"Organization/{organization_id}"}},
    ]
    parameter += [{"name": name, **value} for name, value in more.items()]
    return {"resourceType": "Parameters", "parameter": parameter}


def test_a_nik_held_elsewhere_is_refused_pointing_to_pindah_masuk_and_audited_against_the_record(
    anonymous_client: TestClient, network: Network
) -> None:
    dalam = network.patients["dalam"]

    refused = outcome(_register(anonymous_client, network, "puskesmas-2", _nik_of(dalam)), 409)

    assert "outside your organization's area" in refused["issue"][0]["diagnostics"]
    assert "$pindah-masuk" in refused["issue"][0]["diagnostics"]
    assert dalam["id"] not in str(refused)
    [probe] = [e for e in _audit_events(anonymous_client, network, dalam["id"]) if e["outcome"] == "4"]
    assert probe["subtype"][0]["code"] == "create"
    assert {"reference": f"Organization/{network.organizations['puskesmas-2']}"} in [a["who"] for a in probe["agent"]]


def test_a_refusal_in_a_batch_is_audited_against_the_record_too(anonymous_client: TestClient, network: Network) -> None:
    dalam = network.patients["dalam"]
    resource = patient_json(
        _nik_of(dalam), wilayah=KELURAHAN_2, rw="001", organization=network.organizations["posyandu-2"]
    )
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "POST", "url": "Patient"}, "resource": resource}],
    }

    response = anonymous_client.post("/fhir", json=batch, headers=network.headers("puskesmas-2") | FHIR_JSON)

    assert response.json()["entry"][0]["response"]["status"] == "409"
    [probe] = [e for e in _audit_events(anonymous_client, network, dalam["id"]) if e["outcome"] == "4"]
    assert {"reference": f"Organization/{network.organizations['puskesmas-2']}"} in [a["who"] for a in probe["agent"]]


@pytest.fixture
def two_refusals_an_hour(app: FastAPI) -> Iterator[None]:
    """The session's application with ILP_IDENTIFIER_REFUSALS_PER_HOUR=2 for one test.

    (Starlette's State loses attributes under monkeypatch's undo, hence the explicit swap.)
    """
    configured = app.state.pipeline.identifier_refusals
    app.state.pipeline.identifier_refusals = refusals_per_client(per_hour=2, max_keys=100)
    yield
    app.state.pipeline.identifier_refusals = configured


@pytest.mark.usefixtures("two_refusals_an_hour")
def test_refusals_beyond_the_limit_answer_429_whether_or_not_the_nik_is_taken(
    anonymous_client: TestClient, network: Network
) -> None:
    held_elsewhere = [_nik_of(network.patients[key]) for key in ("dalam", "kota-lain", "pindahan")]
    free = nik(serial=77)

    answers = [_register(anonymous_client, network, "puskesmas-2", value) for value in [*held_elsewhere, free]]

    assert [a.status_code for a in answers] == [409, 409, 429, 429], "no answer tells a free NIK from a taken one"
    assert int(answers[3].headers["Retry-After"]) > 1700, "two an hour: the next one in half an hour"
    assert ilp_codes(outcome(answers[3], 429)) == [LIMIT_CODE]
    admin_view = anonymous_client.get("/fhir/Patient", params={"identifier": f"{NIK_SYSTEM}|{free}"}).json()
    assert admin_view["total"] == 0, "nothing was written"
    assert _register(anonymous_client, network, "pustu-2", free).status_code == 201, "other clients keep theirs"


def test_a_puskesmas_takes_over_a_resident_who_moved_in(anonymous_client: TestClient, network: Network) -> None:
    dalam = network.patients["dalam"]
    new_address = {"valueAddress": address(KELURAHAN_2, rw="001")}
    body = _parameters(_nik_of(dalam), network.organizations["posyandu-2"], address=new_address)

    response = anonymous_client.post(MOVE_IN, json=body, headers=network.headers("puskesmas-2") | FHIR_JSON | TREAT)

    assert response.status_code == 200, response.text
    moved = response.json()
    assert (moved["id"], moved["meta"]["versionId"]) == (dalam["id"], "2")
    assert moved["managingOrganization"] == {"reference": f"Organization/{network.organizations['posyandu-2']}"}
    path = f"/fhir/Patient/{dalam['id']}"
    assert anonymous_client.get(path, headers=network.headers("posyandu-2")).status_code == 200
    assert anonymous_client.get(path, headers=network.headers("posyandu")).status_code == 404, "moved out of its area"
    [event] = [
        e for e in _audit_events(anonymous_client, network, dalam["id"]) if e["subtype"][0]["code"] == "operation"
    ]
    assert event["outcome"] == "0"
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    assert event["entity"][0]["what"] == {"reference": f"Patient/{dalam['id']}"}


def test_a_dinkes_takes_over_a_resident_from_another_kota(anonymous_client: TestClient, network: Network) -> None:
    """The NIK is found wherever it is registered; the Patient is kept, with its history."""
    dalam = network.patients["dalam"]
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "nik", "valueIdentifier": {"system": NIK_SYSTEM, "value": _nik_of(dalam)}},
            {
                "name": "managingOrganization",
                "valueReference": {"reference": f"Organization/{network.organizations['dinkes-lain']}"},
            },
        ],
    }

    response = anonymous_client.post(MOVE_IN, json=body, headers=network.headers("dinkes-lain") | FHIR_JSON | TREAT)

    assert response.status_code == 200, response.text
    history = anonymous_client.get(f"/fhir/Patient/{dalam['id']}/_history", headers=network.headers("dinkes-lain"))
    assert history.json()["total"] == 2


@pytest.mark.parametrize("member", ["pustu-2", "posyandu-2"])
def test_a_pustu_or_posyandu_cannot_take_a_resident_over(
    anonymous_client: TestClient, network: Network, member: str
) -> None:
    dalam = network.patients["dalam"]
    body = _parameters(_nik_of(dalam), network.organizations[member])

    response = anonymous_client.post(MOVE_IN, json=body, headers=network.headers(member) | FHIR_JSON | TREAT)

    assert "ask your puskesmas" in outcome(response, 403)["issue"][0]["diagnostics"]
    unchanged = anonymous_client.get(f"/fhir/Patient/{dalam['id']}").json()
    assert unchanged["meta"]["versionId"] == "1"


@pytest.mark.parametrize(
    ("change", "status", "expression"),
    [
        ("no purpose", 400, "X-Purpose-Of-Use"),
        ("organization out of reach", 422, "Parameters.parameter('managingOrganization')"),
        ("unknown NIK", 404, "Parameters.parameter('nik')"),
        ("invalid NIK", 422, "Parameters.parameter('nik')"),
        ("no NIK", 422, "Parameters.parameter('nik')"),
        ("unknown parameter", 422, "Parameters.parameter[2].name"),
        ("not Parameters", 400, "resourceType"),
    ],
)
def test_a_take_over_that_cannot_be_done_changes_nothing(
    anonymous_client: TestClient, network: Network, change: str, status: int, expression: str
) -> None:
    dalam = network.patients["dalam"]
    body = _parameters(_nik_of(dalam), network.organizations["posyandu-2"])
    headers = network.headers("puskesmas-2") | FHIR_JSON | TREAT
    if change == "no purpose":
        del headers["X-Purpose-Of-Use"]
    elif change == "organization out of reach":
        body = _parameters(_nik_of(dalam), network.organizations["posyandu"])
    elif change == "unknown NIK":
        body = _parameters(nik(serial=99), network.organizations["posyandu-2"])
    elif change == "invalid NIK":
        body = _parameters("1234", network.organizations["posyandu-2"])
    elif change == "no NIK":
        body["parameter"] = body["parameter"][1:]
    elif change == "unknown parameter":
        body["parameter"].append({"name": "gender", "valueString": "male"})
    else:
        body["resourceType"] = "Patient"

    problem = outcome(anonymous_client.post(MOVE_IN, json=body, headers=headers), status)

    assert expression in problem["issue"][0]["expression"]
    unchanged = anonymous_client.get(f"/fhir/Patient/{dalam['id']}").json()
    assert unchanged["meta"]["versionId"] == "1"


def test_taking_over_needs_the_scope_to_update_patients(
    anonymous_client: TestClient, network: Network, issue_token: Any
) -> None:
    reader = {"Authorization": f"Bearer {issue_token(network.organizations['puskesmas-2'], 'system/Patient.rs')}"}
    body = _parameters(_nik_of(network.patients["dalam"]), network.organizations["posyandu-2"])

    response = anonymous_client.post(MOVE_IN, json=body, headers=reader | FHIR_JSON | TREAT)

    assert outcome(response, 403)
