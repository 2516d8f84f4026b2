"""Write hooks run in the transaction of the writes they see, once per unit of work, and can undo all of it."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from factories import FHIR_JSON, create, nik, outcome, patient_json, stored_rows
from ilp_api.db.engine import Database
from ilp_api.demo.load import load_demo
from ilp_api.fhir.hooks import write_hooks
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.unit_of_work import Change, UnitOfWork
from ilp_api.settings import Settings

hook_rows = Table(
    "test_hook_log",
    MetaData(),
    Column("number", Integer, primary_key=True, autoincrement=True),
    Column("written", String, nullable=False),
)


@dataclass
class Recorder:
    """A hook that logs each call's changes in a table of its own, read back each just-written resource, and
    fails with ``failure`` when one is set."""

    calls: list[tuple[Change, ...]] = field(default_factory=list)
    read_back: list[dict[str, Any] | None] = field(default_factory=list)
    failure: Exception | None = None

    def __call__(self, changes: Sequence[Change], unit: UnitOfWork) -> None:
        self.calls.append(tuple(changes))
        for change in changes:
            stored = unit.repository.get(change.resource_type, change.id)
            self.read_back.append(orjson.loads(stored.content) if stored and not stored.deleted else None)
        written = ",".join(f"{c.interaction} {c.resource_type}/{c.id}" for c in changes)
        unit.repository.session.execute(insert(hook_rows).values(written=written))
        if self.failure is not None:
            raise self.failure


@pytest.fixture
def hook(db: Database) -> Iterator[Recorder]:
    hook_rows.create(db.engine)
    recorder = Recorder()
    write_hooks.add(recorder)
    try:
        yield recorder
    finally:
        write_hooks.remove(recorder)
        hook_rows.drop(db.engine)


def logged(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        return list(connection.execute(select(hook_rows.c.written).order_by(hook_rows.c.number)).scalars())


def transaction(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_a_transaction_bundle_reaches_the_hook_once_with_every_write(
    client: TestClient, hook: Recorder, db: Database
) -> None:
    kept = create(client, patient_json(nik(serial=1), family="Lama"))
    removed = create(client, patient_json(nik(serial=2)))
    hook.calls.clear()
    hook.read_back.clear()
    changed = kept | {"name": [{"family": "Baru", "given": ["Budi"]}]}
    response = client.post(
        "/fhir",
        json=transaction(
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient_json(nik(serial=3))},
            {"request": {"method": "PUT", "url": f"Patient/{kept['id']}"}, "resource": changed},
            {"request": {"method": "DELETE", "url": f"Patient/{removed['id']}"}},
        ),
        headers=FHIR_JSON,
    )
    assert response.status_code == 200, response.text
    created_id = response.json()["entry"][0]["resource"]["id"]

    [changes] = hook.calls
    by_interaction = {change.interaction: change for change in changes}
    assert sorted(by_interaction) == ["create", "delete", "update"]
    create_change, update_change, delete_change = (by_interaction[k] for k in ("create", "update", "delete"))
    assert (create_change.id, create_change.before) == (created_id, None)
    assert create_change.after is not None
    assert create_change.after["identifier"][0]["value"] == nik(serial=3)
    assert update_change.id == kept["id"]
    assert update_change.before is not None
    assert update_change.before["name"][0]["family"] == "Lama"
    assert update_change.after is not None
    assert update_change.after["name"][0]["family"] == "Baru"
    assert update_change.after["meta"]["versionId"] == "2"
    assert (delete_change.id, delete_change.after) == (removed["id"], None)
    assert delete_change.before is not None
    assert delete_change.before["id"] == removed["id"]
    # In the same transaction: the hook read what the entries had just written, and its row was committed too.
    read = dict(zip((c.interaction for c in changes), hook.read_back, strict=True))
    assert read["create"] is not None
    assert read["create"]["id"] == created_id
    assert read["update"] is not None
    assert read["update"]["name"][0]["family"] == "Baru"
    assert read["delete"] is None
    assert logged(db)[-1].count("Patient/") == 3


def test_a_failing_hook_rolls_the_whole_transaction_back(client: TestClient, hook: Recorder, db: Database) -> None:
    kept = create(client, patient_json(nik(serial=1)))
    hook.failure = Unprocessable("A visit needs its screening results", expression="Encounter")
    response = client.post(
        "/fhir",
        json=transaction(
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient_json(nik(serial=3))},
            {"request": {"method": "DELETE", "url": f"Patient/{kept['id']}"}},
        ),
        headers=FHIR_JSON,
    )

    body = outcome(response, 422)
    assert body["issue"][0]["diagnostics"] == "A visit needs its screening results"
    assert stored_rows(db, "Patient") == 1
    assert client.get(f"/fhir/Patient/{kept['id']}").status_code == 200
    assert logged(db) == [f"create Patient/{kept['id']}"]  # the failed call's own row went with the rest


def test_a_hook_failing_otherwise_is_a_server_error_and_undoes_the_write(
    client: TestClient, hook: Recorder, db: Database
) -> None:
    hook.failure = RuntimeError("the hook's own bug")

    response = client.post("/fhir/Patient", json=patient_json(), headers=FHIR_JSON)

    outcome(response, 500)
    assert stored_rows(db, "Patient") == 0
    assert logged(db) == []


def test_single_create_update_and_delete_each_reach_the_hook(client: TestClient, hook: Recorder, db: Database) -> None:
    patient = create(client, patient_json())
    updated = client.put(f"/fhir/Patient/{patient['id']}", json=patient | {"gender": "other"}, headers=FHIR_JSON)
    assert updated.status_code == 200, updated.text
    assert client.delete(f"/fhir/Patient/{patient['id']}").status_code == 204
    client.get(f"/fhir/Patient?_id={patient['id']}")  # a read writes nothing: no call

    assert [[(c.interaction, c.id) for c in changes] for changes in hook.calls] == [
        [("create", patient["id"])],
        [("update", patient["id"])],
        [("delete", patient["id"])],
    ]
    [_, (update,), _] = hook.calls
    assert update.before is not None
    assert update.before["gender"] == "male"
    assert update.after is not None
    assert update.after["gender"] == "other"
    assert len(logged(db)) == 3


def test_a_batch_reaches_the_hook_per_entry(client: TestClient, hook: Recorder) -> None:
    entries = [
        {"request": {"method": "POST", "url": "Patient"}, "resource": patient_json(nik(serial=serial))}
        for serial in (1, 2)
    ]
    response = client.post(
        "/fhir", json={"resourceType": "Bundle", "type": "batch", "entry": entries}, headers=FHIR_JSON
    )

    assert response.status_code == 200, response.text
    assert [len(changes) for changes in hook.calls] == [1, 1]


def test_the_demo_loader_runs_the_hooks_once_per_request_it_stands_for(
    hook: Recorder, db: Database, settings: Settings
) -> None:
    """The network, then each visit as a kader app sends it and each referral answer, in the load's one
    transaction."""
    report = load_demo(db, settings, residents=3)

    network, *steps = hook.calls
    assert [change.resource_type for change in network] == [r.resource_type for r in report.network.resources]
    assert {change.interaction for change in network} == {"create"}
    visits = [changes for changes in steps if changes[0].resource_type == "Encounter"]
    assert [len(changes) for changes in visits] == [len(visit.resources) for visit in report.visits]
    assert len(logged(db)) == len(hook.calls)
