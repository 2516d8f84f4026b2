"""Several workers at once, and ``ilp worker`` stopped by SIGTERM (gracefully) or killed by SIGKILL (taken over)."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from outbox_doubles import FAST, Clock, Sink, outbox_rows

from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.repository import enqueue
from ilp_api.integrations.outbox.worker import Worker

KEYS, PER_KEY = 20, 10
PROCESS_LEASE_SECONDS = 5  # the worker process's lease


def test_two_workers_drain_200_items_each_once_and_each_key_in_order(db: Database) -> None:
    with db.session(write=True) as session:
        for sequence in range(PER_KEY):
            for patient in range(KEYS):
                enqueue(session, destination="sink", ordering_key=f"Patient/{patient}", kind="visit",
                        subject_type="Encounter", subject_id=f"{patient}-{sequence}")  # fmt: skip
    sink = Sink(delay=0.002)  # shared by both: one log of the calls, in the order they were made
    workers = [Worker(db, [sink], FAST, name=name) for name in ("one", "two")]
    threads = [threading.Thread(target=asyncio.run, args=(w.run(until_idle=True),)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(c.subject_id for c in sink.calls) == sorted(f"{p}-{s}" for p in range(KEYS) for s in range(PER_KEY))
    assert sink.delivered_keys() == {f"Patient/{p}": list(range(1, PER_KEY + 1)) for p in range(KEYS)}
    assert {row["status"] for row in outbox_rows(db)} == {"delivered"}
    assert all(worker.tally["delivered"] > 0 for worker in workers), [w.tally for w in workers]
    assert sum(worker.tally["delivered"] for worker in workers) == KEYS * PER_KEY


def start_worker(db: Database, *arguments: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "ILP_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "ILP_OUTBOX_BATCH_SIZE": "2",
        "ILP_OUTBOX_LEASE_SECONDS": str(PROCESS_LEASE_SECONDS),
        "ILP_OUTBOX_DELIVERY_TIMEOUT_SECONDS": "2",
        "ILP_LOG_LEVEL": "WARNING",
        "SLOW_SINK_SECONDS": "0.6",
    }
    script = Path(__file__).with_name("outbox_worker_process.py")
    return subprocess.Popen(
        [sys.executable, str(script), *arguments], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def queue_four(db: Database) -> None:
    with db.session(write=True) as session:
        for n in range(4):
            enqueue(session, destination="slow-sink", ordering_key=f"Patient/{n}", kind="visit",
                    subject_type="Encounter", subject_id=f"e{n}")  # fmt: skip


def wait_for_a_delivery_in_flight(db: Database, process: subprocess.Popen[str]) -> list[str]:
    """The subjects of the items leased (being delivered) when one first is."""
    deadline = time.monotonic() + 30
    while not (leased := [row["subject_id"] for row in outbox_rows(db) if row["lease_owner"]]):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the worker claimed nothing"
        time.sleep(0.02)
    return leased  # type: ignore[return-value]


def test_sigterm_lets_the_deliveries_in_flight_finish_and_leaves_no_lease(db: Database) -> None:
    queue_four(db)
    process = start_worker(db)
    in_flight = wait_for_a_delivery_in_flight(db, process)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    rows = outbox_rows(db)
    delivered = [row["subject_id"] for row in rows if row["status"] == "delivered"]
    assert set(in_flight) <= set(delivered)  # finished and recorded
    assert f"attempts: {len(delivered)} delivered" in out
    assert len(delivered) < len(rows)  # and nothing claimed after the signal
    assert [row["lease_owner"] for row in rows] == [None] * 4


def test_a_killed_worker_s_items_are_taken_over_when_the_lease_expires(db: Database) -> None:
    queue_four(db)
    process = start_worker(db)
    in_flight = wait_for_a_delivery_in_flight(db, process)
    process.kill()
    process.communicate(timeout=30)
    rows = outbox_rows(db)
    assert [row["subject_id"] for row in rows if row["lease_owner"]] == in_flight  # left leased
    undelivered = [row["subject_id"] for row in rows if row["status"] != "delivered"]

    sink = Sink(name="slow-sink")
    clock = Clock()
    worker = Worker(db, [sink], replace(FAST, batch_size=4), clock=clock)
    assert asyncio.run(worker.run_once()) == len(undelivered) - len(in_flight)  # the unleased ones only
    clock.advance(PROCESS_LEASE_SECONDS + 1)
    assert asyncio.run(worker.run_once()) == len(in_flight)  # the killed worker's, once their lease expired
    assert sorted(c.subject_id for c in sink.calls) == sorted(undelivered)
    assert {row["status"] for row in outbox_rows(db)} == {"delivered"}
