"""The ids a destination gave local resources are shown as identifiers on read and search, without a new version
(a client's If-Match still holds) and without a new delivery."""

import asyncio
from typing import Any

from fastapi.testclient import TestClient
from outbox_doubles import FAST, SINK_PATIENT_SYSTEM, Sink, outbox_rows

from factories import FHIR_JSON, search
from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.destination import Delivered
from ilp_api.integrations.outbox.repository import enqueue
from ilp_api.integrations.outbox.worker import Worker


def deliver_patient(db: Database, sink: Sink, patient_id: str, remote_id: str) -> None:
    with db.session(write=True) as session:
        enqueue(session, destination="sink", ordering_key=f"Patient/{patient_id}", kind="register",
                subject_type="Patient", subject_id=patient_id)  # fmt: skip
    sink.answers.append(Delivered({("Patient", patient_id): remote_id, ("Encounter", "elsewhere"): "E1"}))
    asyncio.run(Worker(db, [sink], FAST).run(until_idle=True))


def shown_ids(resource: dict[str, Any]) -> list[str]:
    return [i["value"] for i in resource.get("identifier", []) if i["system"] == SINK_PATIENT_SYSTEM]


def test_a_remote_id_is_shown_on_read_and_search_and_no_version_is_written(
    client: TestClient, db: Database, registered_sink: Sink, patient: dict[str, Any]
) -> None:
    before = client.get(f"/fhir/Patient/{patient['id']}")
    assert shown_ids(before.json()) == []

    deliver_patient(db, registered_sink, patient["id"], "P02478375538")
    items = len(outbox_rows(db))

    read = client.get(f"/fhir/Patient/{patient['id']}")
    assert shown_ids(read.json()) == ["P02478375538"]
    assert read.headers["ETag"] == before.headers["ETag"] == 'W/"1"'
    assert read.json()["meta"] == before.json()["meta"]
    assert client.get(f"/fhir/Patient/{patient['id']}/_history").json()["total"] == 1
    found = search(client, "Patient", f"_id={patient['id']}")
    assert shown_ids(found["entry"][0]["resource"]) == ["P02478375538"]
    # vread returns the version as it was stored
    assert shown_ids(client.get(f"/fhir/Patient/{patient['id']}/_history/1").json()) == []

    # The client writes back what it read, with the ETag it read: accepted; the id is not shown twice.
    updated = client.put(
        f"/fhir/Patient/{patient['id']}", json=read.json(), headers={**FHIR_JSON, "If-Match": read.headers["ETag"]}
    )
    assert updated.status_code == 200, updated.text
    assert shown_ids(client.get(f"/fhir/Patient/{patient['id']}").json()) == ["P02478375538"]
    assert len(outbox_rows(db)) == items  # recording the id queued nothing


def test_a_later_remote_id_replaces_the_earlier(
    client: TestClient, db: Database, registered_sink: Sink, patient: dict[str, Any]
) -> None:
    deliver_patient(db, registered_sink, patient["id"], "P1")
    deliver_patient(db, registered_sink, patient["id"], "P2")
    assert shown_ids(client.get(f"/fhir/Patient/{patient['id']}").json()) == ["P2"]
