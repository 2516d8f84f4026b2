"""Provenance: who recorded what for whom; its checked references, its search parameters, and the resident the
server records from its targets, through which it joins the resident's compartment."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    assert_refused,
    changed,
    create,
    match_ids,
    nik,
    patient_json,
    provenance_json,
    search,
    task_json,
)
from ilp_api.db.engine import Database
from ilp_api.resources.provenance import PATIENT_EXTENSION


@pytest.fixture
def task(client: TestClient, network: dict[str, str]) -> dict[str, Any]:
    patient = create(client, patient_json())
    return create(client, task_json(patient["id"], requester=network["posyandu"], owner=network["puskesmas"]))


def test_the_resident_of_the_targets_is_recorded_and_the_provenance_joins_their_compartment(
    client: TestClient, network: dict[str, str], task: dict[str, Any]
) -> None:
    resident = task["for"]
    someone_else = {"reference": "Patient/someone-else"}  # what a client sends of it is not kept
    sent = provenance_json(
        f"Task/{task['id']}/_history/1",
        network["puskesmas"],
        extension=[{"url": PATIENT_EXTENSION, "valueReference": someone_else}],
    )

    provenance = create(client, sent)

    assert provenance["extension"] == [{"url": PATIENT_EXTENSION, "valueReference": resident}]
    assert match_ids(search(client, "Provenance", f"patient={resident['reference']}")) == [provenance["id"]]
    everything = client.get(f"/fhir/{resident['reference']}/$everything?_type=Provenance").json()
    assert [entry["resource"]["id"] for entry in everything["entry"]] == [provenance["id"]]


def test_a_provenance_is_found_by_each_of_its_parameters(
    client: TestClient, network: dict[str, str], task: dict[str, Any]
) -> None:
    recorded = create(
        client,
        provenance_json(
            f"Task/{task['id']}",
            network["puskesmas"],
            network["pustu"],
            occurredDateTime="2026-11-04T09:00:00+07:00",
            entity=[{"role": "source", "what": {"reference": f"Task/{task['id']}"}}],
        ),
    )
    other = create(client, provenance_json(f"Organization/{network['posyandu']}", network["dinkes"]))

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Provenance", query)))

    assert found(f"target=Task/{task['id']}") == [recorded["id"]]
    assert found(f"agent=Organization/{network['dinkes']}") == [other["id"]]
    assert found(f"on-behalf-of=Organization/{network['pustu']}") == [recorded["id"]]
    assert found(f"entity=Task/{task['id']}") == [recorded["id"]]
    assert found("recorded=2026-11-05") == sorted([recorded["id"], other["id"]])
    assert found("when=2026-11-04") == [recorded["id"]]
    assert "extension" not in other  # about no resident's record


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"target": [{"reference": "Task/nothing"}]}, "Provenance (target)"),
        ({"agent": [{"who": {"reference": "Location/x"}}]}, "Provenance (agent)"),
        ({"agent": [{"who": {"reference": "Organization/x"}}]}, "Provenance (agent)"),
        (
            {"agent": [{"who": {"display": "?"}, "onBehalfOf": {"reference": "Organization/x"}}]},
            "Provenance (on-behalf-of)",
        ),
        ({"recorded": "2026-11-05"}, "Provenance.recorded"),
        ({"agent": None}, "Provenance.agent"),
    ],
    ids=["unknown-target", "agent-a-location", "unknown-agent", "unknown-on-behalf-of", "recorded-no-time", "no-agent"],
)
def test_an_invalid_provenance_is_refused_and_nothing_stored(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    task: dict[str, Any],
    change: dict[str, Any],
    expression: str,
) -> None:
    assert_refused(client, db, changed(provenance_json(f"Task/{task['id']}", network["puskesmas"]), change), expression)


def test_a_provenance_is_about_one_resident_s_record(
    client: TestClient, db: Database, network: dict[str, str], task: dict[str, Any]
) -> None:
    neighbour = create(client, patient_json(nik(serial=2)))
    two = provenance_json(f"Task/{task['id']}", network["puskesmas"])
    two["target"].append({"reference": f"Patient/{neighbour['id']}"})

    assert_refused(client, db, two, "Provenance.target")
