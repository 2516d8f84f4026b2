"""The referral pathway end to end over HTTP (issue, item 5): a referral from a visit is found on the worklist of
the facility it is addressed to, which accepts and completes it; a referral hospital's answers are recorded on its
behalf by the referring puskesmas, with a Provenance; rujuk balik sends the resident back with a linked
back-referral; a follow-up is completed by the visit that does it. Both databases.

The network (factories.build_network): dinkes → puskesmas → pustu → posyandu, and a referral hospital (fkrtl)
under the dinkes, each with a client of its own (``system/*.cruds``).
"""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    CANONICAL,
    FHIR_JSON,
    KOTA,
    build_network,
    create,
    included,
    match_ids,
    nik,
    organization_json,
    outcome,
    patient_json,
    search,
    stored_rows,
)
from ilp_api.db.engine import Database
from visits import blood_pressure, quantity, record_visit, visit_bundle

REFERRAL_STATUS = f"{CANONICAL}/CodeSystem/status-rujukan"
TINDAK_LANJUT = f"{CANONICAL}/CodeSystem/tindak-lanjut"
ILP_ERROR = f"{CANONICAL}/CodeSystem/ilp-error"
FULFIL = "code=http://hl7.org/fhir/CodeSystem/task-code|fulfill"  # a referral's Task, not a follow-up's
ENTERER = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "enterer"}]
}

Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def network(client: TestClient) -> dict[str, str]:
    organizations = build_network(client)
    hospital = organization_json("fkrtl", name="RSUD Kota Semarang", wilayah=KOTA, part_of=organizations["dinkes"])
    return organizations | {"fkrtl": create(client, hospital)["id"]}


@pytest.fixture
def acting_as(network: dict[str, str], issue_token: Callable[[str | None, str], str]) -> Headers:
    """``acting_as("puskesmas")``: the headers of that organization's client."""
    tokens = {key: issue_token(organization, "system/*.cruds") for key, organization in network.items()}
    return lambda key: {"Authorization": f"Bearer {tokens[key]}"} | FHIR_JSON


def resident(client: TestClient, network: dict[str, str], born: str, gender: str = "female") -> str:
    """A resident managed by the posyandu, so every client of the branch sees them."""
    sex = "female" if gender == "female" else "male"
    patient = patient_json(nik(born, sex), gender=gender, birth_date=born, organization=network["posyandu"])
    return str(create(client, patient)["id"])


def referral_task(client: TestClient, visit: str) -> dict[str, Any]:
    """The Task of the one referral the visit made."""
    [task] = [t for t in matches(search(client, "Task", f"encounter=Encounter/{visit}")) if "focus" in t]
    return task


def matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def stored(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def moved(client: TestClient, task: dict[str, Any], headers: dict[str, str], **changes: Any) -> Any:
    """PUT the Task with ``changes`` (as stored otherwise)."""
    body = {key: value for key, value in task.items() if key != "meta"} | changes
    return client.put(f"/fhir/Task/{task['id']}", json=body, headers=headers)


def read(client: TestClient, resource: dict[str, Any]) -> dict[str, Any]:
    return stored(client.get(f"/fhir/{resource['resourceType']}/{resource['id']}"))


def referral_status(task: dict[str, Any]) -> str | None:
    codings = task.get("businessStatus", {}).get("coding", [])
    return next((c["code"] for c in codings if c["system"] == REFERRAL_STATUS), None)


def on_behalf(network: dict[str, str], task: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A transaction: the Task moved, and the Provenance saying the puskesmas recorded the hospital's answer."""
    body = {key: value for key, value in task.items() if key != "meta"} | changes
    provenance = {
        "resourceType": "Provenance",
        "target": [{"reference": f"Task/{task['id']}/_history/{int(task['meta']['versionId']) + 1}"}],
        "recorded": "2026-11-05T10:00:00+07:00",
        "agent": [
            {
                "type": ENTERER,
                "who": {"reference": f"Organization/{network['puskesmas']}"},
                "onBehalfOf": {"reference": f"Organization/{network['fkrtl']}"},
            }
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": body, "request": {"method": "PUT", "url": f"Task/{task['id']}"}},
            {"resource": provenance, "request": {"method": "POST", "url": "Provenance"}},
        ],
    }


def test_a_referral_is_found_on_the_worklist_accepted_and_completed(
    client: TestClient, network: dict[str, str], acting_as: Headers
) -> None:
    adult = resident(client, network, "1980-02-14")
    record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95)))  # hipertensi-1: →P
    puskesmas = acting_as("puskesmas")

    worklist = stored(
        client.get(
            f"/fhir/Task?owner=Organization/{network['puskesmas']}&status=requested"
            "&_include=Task:focus&_include=Task:patient",
            headers=puskesmas,
        )
    )

    [task] = matches(worklist)
    assert (task["status"], referral_status(task)) == ("requested", "dikirim")
    assert included(worklist) == sorted([("Patient", adult), ("ServiceRequest", task["focus"]["reference"][15:])])
    for query in (
        f"requester=Organization/{network['posyandu']}&{FULFIL}",
        f"patient=Patient/{adult}&{FULFIL}",
        f"business-status={REFERRAL_STATUS}|dikirim",
    ):
        assert match_ids(stored(client.get(f"/fhir/Task?{query}", headers=puskesmas))) == [task["id"]], query
    accepted = stored(moved(client, task, puskesmas, status="accepted"))
    assert referral_status(accepted) == "diterima"
    completed = stored(moved(client, accepted, puskesmas, status="completed"))
    assert referral_status(completed) == "selesai"
    assert match_ids(search(client, "Task", f"business-status={REFERRAL_STATUS}|selesai")) == [task["id"]]


@pytest.mark.parametrize(
    ("path", "refused", "allowed"),
    [
        (("accepted",), "requested", "cancelled, completed, entered-in-error, in-progress, ready"),
        (("accepted", "completed"), "in-progress", "entered-in-error"),
        ((), "on-hold", "accepted, cancelled, completed, entered-in-error, in-progress, ready, received, rejected"),
    ],
    ids=["accepted-back-to-requested", "completed-reopened", "requested-to-on-hold"],
)
def test_a_move_outside_the_state_machine_is_refused_naming_the_moves_allowed_and_nothing_changes(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    acting_as: Headers,
    path: tuple[str, ...],
    refused: str,
    allowed: str,
) -> None:
    adult = resident(client, network, "1980-02-14")
    task = referral_task(
        client, record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95)))
    )
    puskesmas = acting_as("puskesmas")  # the owner, and above the posyandu that refers: both sides
    for status in path:
        task = stored(moved(client, task, puskesmas, status=status))
    rows = stored_rows(db, "Task")

    problem = outcome(moved(client, task, puskesmas, status=refused), 409)

    [issue] = problem["issue"]
    assert f"cannot go from {task['status']} to {refused}" in issue["diagnostics"]
    assert sorted(issue["diagnostics"].split("you may move it to ")[1].split(", ")) == allowed.split(", ")
    assert issue["expression"] == ["Task.status"]
    assert issue["details"]["coding"] == [{"system": ILP_ERROR, "code": "transisi-status-tidak-valid"}]
    assert read(client, task)["meta"]["versionId"] == task["meta"]["versionId"]
    assert stored_rows(db, "Task") == rows


def test_the_owner_s_side_accepts_the_requester_s_side_cancels_and_an_operator_does_either(
    client: TestClient, network: dict[str, str], acting_as: Headers
) -> None:
    adult = resident(client, network, "1980-02-14")
    task = referral_task(
        client, record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95)))
    )

    for requester_side in ("posyandu", "pustu"):  # the posyandu refers; its pustu lies above it, not above the owner
        refused = outcome(moved(client, task, acting_as(requester_side), status="accepted"), 403)
        assert "Only the owner of Task/" in refused["issue"][0]["diagnostics"]
    outcome(moved(client, task, acting_as("fkrtl"), status="accepted"), 404)  # no party, nor the resident's: unseen
    assert read(client, task)["status"] == "requested"
    accepted = stored(moved(client, task, {}, status="accepted"))  # the root client: an operator (ilp/admin)
    cancelled = stored(moved(client, accepted, acting_as("pustu"), status="cancelled"))

    assert (cancelled["status"], "businessStatus" in cancelled) == ("cancelled", False)


def test_what_a_requested_task_asks_for_cannot_change(
    client: TestClient, network: dict[str, str], acting_as: Headers
) -> None:
    adult = resident(client, network, "1980-02-14")
    task = referral_task(
        client, record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95)))
    )
    elsewhere = {"owner": {"reference": f"Organization/{network['pustu']}"}, "priority": "stat"}

    problem = outcome(moved(client, task, acting_as("puskesmas"), **elsewhere), 409)

    assert [issue["expression"] for issue in problem["issue"]] == [["Task.owner"], ["Task.priority"]]
    assert {c["code"] for issue in problem["issue"] for c in issue["details"]["coding"]} == {"elemen-task-tetap"}


def test_the_puskesmas_records_a_hospital_s_answers_on_its_behalf_up_to_rujuk_balik(
    client: TestClient, db: Database, network: dict[str, str], acting_as: Headers
) -> None:
    child = resident(client, network, "2023-09-20", "male")
    # Stunted (pendek) at the puskesmas: →F rutin, to "an fkrtl" the puskesmas then picks.
    task = referral_task(
        client, record_visit(client, visit_bundle(child, network["puskesmas"], quantity("8302-2", 88.0, "cm")))
    )
    assert "owner" not in task
    puskesmas = acting_as("puskesmas")
    unaddressed = outcome(moved(client, task, puskesmas, status="accepted"), 403)
    assert "has no owner yet" in unaddressed["issue"][0]["diagnostics"]
    hospital = {"reference": f"Organization/{network['fkrtl']}"}
    task = stored(moved(client, task, puskesmas, owner=hospital))
    visit = read(client, {"resourceType": "Encounter", "id": task["encounter"]["reference"][10:]})
    stored(client.put(f"/fhir/Encounter/{visit['id']}", json=visit, headers=puskesmas))  # evaluated again …
    assert read(client, task)["owner"] == hospital  # … the hospital named stays

    alone = outcome(moved(client, task, puskesmas, status="accepted"), 422)
    assert alone["issue"][0]["details"]["coding"] == [{"system": ILP_ERROR, "code": "provenance-diperlukan"}]
    assert (read(client, task)["status"], stored_rows(db, "Provenance")) == ("requested", 0)

    stored(client.post("/fhir", json=on_behalf(network, task, status="accepted"), headers=puskesmas))
    task = read(client, task)
    assert (task["status"], referral_status(task)) == ("accepted", "diterima")
    shown = stored(client.get(f"/fhir/Task?_id={task['id']}&_revinclude=Provenance:target", headers=puskesmas))
    [(kind, provenance_id)] = included(shown)
    provenance = read(client, {"resourceType": kind, "id": provenance_id})
    assert provenance["agent"][0]["onBehalfOf"] == hospital
    assert match_ids(search(client, "Provenance", f"patient=Patient/{child}")) == [provenance_id]
    stored(client.post("/fhir", json=on_behalf(network, task, status="completed"), headers=puskesmas))
    task = read(client, task)
    assert referral_status(task) == "selesai"

    instructions = "Kontrol pertumbuhan di puskesmas tiap bulan; rujuk lagi bila tidak naik"
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "instructions", "valueString": instructions}]}
    back = stored(client.post(f"/fhir/Task/{task['id']}/$rujuk-balik", json=parameters, headers=puskesmas))

    referral = read(client, task)
    assert (referral["status"], referral_status(referral)) == ("completed", "rujuk-balik")  # not closed by it
    assert back["partOf"] == [{"reference": f"Task/{task['id']}"}]
    assert (back["requester"], back["owner"]) == (hospital, {"reference": f"Organization/{network['puskesmas']}"})
    assert (back["status"], referral_status(back)) == ("requested", "dikirim")
    request = read(client, {"resourceType": "ServiceRequest", "id": back["focus"]["reference"][15:]})
    assert request["basedOn"] == [task["focus"]]
    assert request["note"] == [{"text": instructions}]
    provenances = match_ids(search(client, "Provenance", f"target=Task/{task['id']}"))
    assert len(provenances) == 3  # of the acceptance, the completion and the answer
    worklist = f"/fhir/Task?owner=Organization/{network['puskesmas']}&status=requested&{FULFIL}"
    assert match_ids(stored(client.get(worklist, headers=puskesmas))) == [back["id"]]
    again = outcome(client.post(f"/fhir/Task/{task['id']}/$rujuk-balik", json=parameters, headers=puskesmas), 409)
    assert f"part-of=Task/{task['id']}" in again["issue"][0]["diagnostics"]
    # The back-referral is the puskesmas's to take up, the hospital's to cancel.
    outcome(moved(client, back, puskesmas, status="cancelled"), 403)
    assert stored(moved(client, back, puskesmas, status="accepted"))["status"] == "accepted"


def test_rujuk_balik_is_the_owner_s_answer_to_a_referral_it_received_and_comes_with_its_back_referral(
    client: TestClient, network: dict[str, str], acting_as: Headers
) -> None:
    adult = resident(client, network, "1980-02-14")
    task = referral_task(
        client, record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95)))
    )
    answer = {"resourceType": "Parameters", "parameter": [{"name": "instructions", "valueString": "Kontrol TD"}]}

    def rujuk_balik(headers: dict[str, str]) -> Any:
        return client.post(f"/fhir/Task/{task['id']}/$rujuk-balik", json=answer, headers=headers)

    outcome(rujuk_balik(acting_as("puskesmas")), 409)  # not received yet
    task = stored(moved(client, task, acting_as("puskesmas"), status="accepted"))
    outcome(rujuk_balik(acting_as("posyandu")), 403)  # the requester, not the owner
    by_hand = {"businessStatus": {"coding": [{"system": REFERRAL_STATUS, "code": "rujuk-balik"}]}}
    alone = outcome(moved(client, task, acting_as("puskesmas"), **by_hand), 422)
    assert f"Task/{task['id']}/$rujuk-balik" in alone["issue"][0]["diagnostics"]

    assert referral_status(read(client, task)) == "diterima"
    assert stored(rujuk_balik(acting_as("puskesmas")))["partOf"] == [{"reference": f"Task/{task['id']}"}]


def test_a_follow_up_is_completed_by_the_later_visit_that_does_it(client: TestClient, network: dict[str, str]) -> None:
    adult = resident(client, network, "1980-02-14")
    first = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(135, 85)))  # normal-tinggi
    [follow_up] = [
        task
        for task in matches(search(client, "Task", f"encounter=Encounter/{first}"))
        if task["code"]["coding"][0] == {"system": TINDAK_LANJUT, "code": "pantau-td-bulanan"}
    ]

    record_visit(client, visit_bundle(adult, network["posyandu"], quantity("29463-7", 61.0, "kg"), day="2026-11-20"))
    assert read(client, follow_up)["status"] == "requested"  # weighed, but the blood pressure is not re-checked
    later = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(128, 80), day="2026-12-03"))

    done = read(client, follow_up)
    assert done["status"] == "completed"
    assert [output["valueReference"] for output in done["output"]] == [{"reference": f"Encounter/{later}"}]
