"""Enqueueing: each ordering key's items are numbered in commit order, without gaps, in the caller's transaction."""

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from outbox_doubles import FAST, Sink, outbox_rows
from sqlalchemy.orm import Session

from factories import FHIR_JSON, create, nik, patient_json
from ilp_api.db.engine import Database
from ilp_api.fhir.hooks import write_hooks
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.unit_of_work import Change, UnitOfWork
from ilp_api.integrations.outbox.repository import enqueue
from ilp_api.integrations.outbox.worker import Worker


def enqueue_visit(session: Session, key: str, subject_id: str) -> None:
    enqueue(
        session,
        destination="sink",
        ordering_key=key,
        kind="visit",
        subject_type="Encounter",
        subject_id=subject_id,
        payload={"note": subject_id},
    )


class Abandon(Exception):
    pass


@pytest.mark.parametrize("first_commits", [True, False])
def test_a_second_transaction_on_the_same_key_waits_and_numbers_after_the_first(
    db: Database, first_commits: bool
) -> None:
    second_done = threading.Event()

    def second() -> None:
        with db.session(write=True) as session:
            enqueue_visit(session, "Patient/1", "second")
        second_done.set()

    with contextlib.nullcontext() if first_commits else pytest.raises(Abandon), db.session(write=True) as session:
        enqueue_visit(session, "Patient/1", "first")
        enqueue_visit(session, "Patient/2", "other key")
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        # The second transaction cannot have numbered its item while the first holds the key.
        assert not second_done.is_set()
        if not first_commits:
            raise Abandon
    thread.join(timeout=10)
    assert second_done.is_set()

    numbered = {(row["ordering_key"], row["subject_id"]): row["sequence"] for row in outbox_rows(db)}
    if first_commits:
        assert numbered == {("Patient/1", "first"): 1, ("Patient/2", "other key"): 1, ("Patient/1", "second"): 2}
    else:
        assert numbered == {("Patient/1", "second"): 1}  # the rolled-back number is given again: no gap


def test_an_item_is_pending_and_due_with_its_payload(db: Database) -> None:
    with db.session(write=True) as session:
        enqueue_visit(session, "Patient/1", "enc-1")
    [row] = outbox_rows(db)
    assert (row["status"], row["attempts"], row["kind"], row["subject_type"], row["subject_id"]) == (
        "pending", 0, "visit", "Encounter", "enc-1",
    )  # fmt: skip
    assert row["payload"] == '{"note":"enc-1"}'
    assert row["next_attempt_at"] == row["created_at"]
    assert row["lease_owner"] is None


@dataclass
class EnqueuingHook:
    """What an integration's write hook does: queue a delivery per written Patient, sorted by key; then fail
    when told to (as a later hook of the same transaction might)."""

    failure: Exception | None = None

    def __call__(self, changes: Sequence[Change], unit: UnitOfWork) -> None:
        for change in sorted(changes, key=lambda c: c.id):
            enqueue(unit.repository.session, destination="sink", ordering_key=f"Patient/{change.id}",
                    kind=change.interaction, subject_type=change.resource_type, subject_id=change.id)  # fmt: skip
        if self.failure is not None:
            raise self.failure


@pytest.fixture
def enqueuing_hook() -> Iterator[EnqueuingHook]:
    hook = EnqueuingHook()
    write_hooks.add(hook)
    try:
        yield hook
    finally:
        write_hooks.remove(hook)


def test_a_write_that_commits_has_its_delivery_queued_and_one_that_fails_has_none(
    client: TestClient, db: Database, enqueuing_hook: EnqueuingHook
) -> None:
    patient = create(client, patient_json(nik(serial=1)))
    updated = client.put(f"/fhir/Patient/{patient['id']}", json=patient | {"gender": "female"}, headers=FHIR_JSON)
    assert updated.status_code == 200, updated.text
    assert [(r["kind"], r["sequence"]) for r in outbox_rows(db)] == [("create", 1), ("update", 2)]

    enqueuing_hook.failure = Unprocessable("refused by a later rule", expression="Patient")
    refused = client.post("/fhir/Patient", json=patient_json(nik(serial=2)), headers=FHIR_JSON)
    assert refused.status_code == 422, refused.text
    assert len(outbox_rows(db)) == 2


def test_a_worker_looking_while_item_1_is_uncommitted_delivers_nothing_of_its_key_until_both_in_order(
    db: Database,
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite's single writer makes the worker's claim wait for the open transaction instead")
    sink = Sink()
    worker = Worker(db, [sink], FAST)
    second_done = threading.Event()

    def second() -> None:
        with db.session(write=True) as session:
            enqueue_visit(session, "Patient/1", "second")
        second_done.set()

    with db.session(write=True) as session:
        enqueue_visit(session, "Patient/1", "first")  # uncommitted while the worker looks
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.1)
        assert asyncio.run(worker.run_once()) == 0
        assert not second_done.is_set()
    thread.join(timeout=10)
    asyncio.run(worker.run(until_idle=True))
    assert [(c.subject_id, c.sequence) for c in sink.calls] == [("first", 1), ("second", 2)]
