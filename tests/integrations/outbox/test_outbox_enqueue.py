"""Enqueueing: each ordering key's items are numbered in commit order, without gaps, in the caller's transaction."""

import contextlib
import threading
import time

import pytest
from outbox_doubles import outbox_rows
from sqlalchemy.orm import Session

from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.repository import enqueue


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
