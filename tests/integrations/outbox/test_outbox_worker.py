"""The worker: the head of each key only, retries with backoff, dead letters, leases, and no transaction open while
a destination is called. A Sink (outbox_doubles.py) stands in for the destination; a Clock for time."""

import asyncio
from dataclasses import replace

import pytest
from outbox_doubles import FAST, Clock, Sink, outbox_rows
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from ilp_api.db.engine import Database, create_database_engine
from ilp_api.fhir.registry import registry as fhir_registry
from ilp_api.integrations.outbox.destination import DeadLetter, Delivered, RetryLater
from ilp_api.integrations.outbox.policy import Backoff
from ilp_api.integrations.outbox.registry import DestinationRegistry, Registration
from ilp_api.integrations.outbox.repository import enqueue, remote_ids
from ilp_api.integrations.outbox.service import UnknownDestination, build_worker, retry
from ilp_api.integrations.outbox.worker import Worker
from ilp_api.settings import Settings
from ilp_api.wiring import resource_service


def queue(db: Database, *items: tuple[str, str]) -> None:
    """(ordering key, subject id) items, enqueued in this order in one transaction."""
    with db.session(write=True) as session:
        for key, subject_id in items:
            enqueue(session, destination="sink", ordering_key=key, kind="visit", subject_type="Encounter",
                    subject_id=subject_id)  # fmt: skip


def status_of(db: Database) -> dict[str, str]:
    return {row["subject_id"]: row["status"] for row in outbox_rows(db)}  # type: ignore[misc]


def run_once(worker: Worker) -> int:
    return asyncio.run(worker.run_once())


def test_each_key_is_delivered_in_order_and_a_retrying_head_holds_back_its_key(db: Database) -> None:
    queue(db, ("Patient/a", "a1"), ("Patient/b", "b1"), ("Patient/a", "a2"), ("Patient/b", "b2"), ("Patient/a", "a3"))
    sink = Sink(answers=[RetryLater("503 Service Unavailable")])  # the first call: a1
    clock = Clock()
    worker = Worker(db, [sink], FAST, clock=clock, jitter=lambda: 0.0)

    assert run_once(worker) == 2  # the heads a1 and b1 only
    assert [c.subject_id for c in sink.calls] == ["a1", "b1"]
    assert status_of(db) == {"a1": "failed", "b1": "delivered", "a2": "pending", "b2": "pending", "a3": "pending"}

    assert run_once(worker) == 1  # b2; a1 waits for its backoff, and a2 behind it
    assert sink.calls[-1].subject_id == "b2"
    assert run_once(worker) == 0

    clock.advance(FAST.backoff.base_seconds)
    for _ in range(3):
        run_once(worker)
    assert sink.delivered_keys() == {"Patient/a": [1, 1, 2, 3], "Patient/b": [1, 2]}
    assert set(status_of(db).values()) == {"delivered"}
    assert (sink.calls[3].subject_id, sink.calls[3].attempts) == ("a1", 1)  # its second attempt


def test_retries_back_off_exponentially_up_to_the_cap_and_honour_retry_after(db: Database) -> None:
    queue(db, ("Patient/a", "a1"))
    sink = Sink(answers=[RetryLater("503")] * 5 + [RetryLater("429", retry_after_seconds=30)])
    clock = Clock()
    worker = Worker(db, [sink], FAST, clock=clock, jitter=lambda: 0.0)
    waits = []
    for _ in range(6):
        assert run_once(worker) == 1
        [row] = outbox_rows(db)
        waits.append((row["next_attempt_at"] - clock.now).total_seconds())  # type: ignore[operator]
        clock.now = row["next_attempt_at"]  # type: ignore[assignment]
    # base 1 s, cap 8 s, no jitter: half of 1, 2, 4, 8, 8; then Retry-After's 30 s.
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 30.0]
    [row] = outbox_rows(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 6, "429")


def test_jitter_spreads_a_retry_over_the_upper_half_of_its_delay() -> None:
    backoff = Backoff(base_seconds=2, cap_seconds=60)
    assert [backoff.delay(3, None, jitter) for jitter in (0.0, 0.5, 0.999)] == [4.0, 6.0, 7.996]
    assert backoff.delay(500, None, 0.0) == 30.0  # capped, however many attempts
    assert backoff.delay(1, 120.0, 0.0) == 120.0  # Retry-After beyond the cap is honoured


def test_a_dead_letter_keeps_the_outcome_and_holds_back_its_key_until_retried(db: Database) -> None:
    queue(db, ("Patient/a", "a1"), ("Patient/a", "a2"), ("Patient/b", "b1"))
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}
    sink = Sink(answers=[DeadLetter("10117: wrong organization", outcome=outcome, rule_numbers=("10117",))])
    clock = Clock()
    worker = Worker(db, [sink], FAST, clock=clock)

    asyncio.run(worker.run(until_idle=True))  # returns: a2 waits behind a dead item, which no retry will fix
    assert status_of(db) == {"a1": "dead", "a2": "pending", "b1": "delivered"}
    dead = outbox_rows(db)[0]
    assert (dead["last_error"], dead["rule_numbers"]) == ("10117: wrong organization", "10117")
    assert dead["outcome"] == '{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}'

    with db.session(write=True) as session:
        retry(session, "sink", dead["id"], clock.now)  # type: ignore[arg-type]
    asyncio.run(worker.run(until_idle=True))
    assert status_of(db) == {"a1": "delivered", "a2": "delivered", "b1": "delivered"}
    assert [c.subject_id for c in sink.calls] == ["a1", "b1", "a1", "a2"]


def test_an_exception_or_a_timeout_of_the_destination_is_retried(db: Database) -> None:
    queue(db, ("Patient/a", "a1"), ("Patient/b", "b1"))
    sink = Sink(answers=[RuntimeError("bug in the mapping"), Delivered()], delay=0.0)
    worker = Worker(db, [sink], FAST, clock=Clock())
    run_once(worker)
    rows = {row["subject_id"]: row for row in outbox_rows(db)}
    assert (rows["a1"]["status"], rows["a1"]["last_error"]) == (
        "failed",
        "unexpected error: RuntimeError: bug in the mapping",
    )
    assert rows["b1"]["status"] == "delivered"

    queue(db, ("Patient/c", "c1"))
    slow = Worker(db, [Sink(delay=1.0)], replace(FAST, delivery_timeout_seconds=0.05), clock=Clock())
    run_once(slow)
    row = next(r for r in outbox_rows(db) if r["subject_id"] == "c1")
    assert (row["status"], row["last_error"]) == ("failed", "no answer within 0.05 s")


def test_delivered_records_the_remote_ids_and_the_note(db: Database) -> None:
    queue(db, ("Patient/a", "enc-1"))
    ids = {("Encounter", "enc-1"): "remote-enc", ("Patient", "a"): "P0001"}
    worker = Worker(db, [Sink(answers=[Delivered(ids, note="duplicate (20002): existing id resolved")])], FAST)
    run_once(worker)
    [row] = outbox_rows(db)
    assert (row["status"], row["note"], row["lease_owner"]) == (
        "delivered",
        "duplicate (20002): existing id resolved",
        None,
    )
    assert row["delivered_at"] is not None
    with db.session(write=False) as session:
        assert remote_ids(session, "sink", "Encounter", ["enc-1", "enc-2"]) == {"enc-1": "remote-enc"}
        assert remote_ids(session, "sink", "Patient", ["a"]) == {"a": "P0001"}
        assert remote_ids(session, "elsewhere", "Patient", ["a"]) == {}


def test_no_transaction_or_connection_is_held_while_the_destination_is_called(db: Database) -> None:
    queue(db, *((f"Patient/{n}", f"e{n}") for n in range(5)))
    held: list[int] = []

    class Observing(Sink):
        async def deliver(self, delivery):  # type: ignore[no-untyped-def]
            held.append(db.engine.pool.checkedout())  # type: ignore[attr-defined]
            # A write of the API goes through at once, on SQLite too (one writer at a time).
            with db.session(write=True) as session:
                enqueue(session, destination="other", ordering_key="k", kind="x", subject_type="Patient",
                        subject_id=delivery.subject_id)  # fmt: skip
            return await super().deliver(delivery)

    run_once(Worker(db, [Observing()], FAST))
    assert held == [0] * 5


def test_an_expired_lease_is_taken_over_and_the_stale_worker_s_result_is_ignored(db: Database) -> None:
    queue(db, ("Patient/a", "a1"), ("Patient/a", "a2"))
    clock = Clock()
    stuck = Sink(name="sink", answers=[DeadLetter("too late")])
    stale = Worker(db, [stuck], replace(FAST, delivery_timeout_seconds=10), clock=clock, name="stale")
    fresh = Worker(
        db, [Sink(answers=[Delivered({("Encounter", "a1"): "from-fresh"})])], FAST, clock=clock, name="fresh"
    )

    async def scenario() -> None:
        stuck.gate = asyncio.Event()
        first = asyncio.create_task(stale.run_once())
        while not stuck.calls:
            await asyncio.sleep(0.005)
        assert await fresh.run_once() == 0  # the lease holds: a1 is the stale worker's, a2 waits behind it
        clock.advance(FAST.lease.total_seconds() + 1)
        assert await fresh.run_once() == 1  # taken over and delivered
        stuck.gate.set()
        await first

    asyncio.run(scenario())
    assert stale.tally == {"lost": 1}
    rows = outbox_rows(db)
    assert (rows[0]["status"], rows[0]["attempts"], rows[0]["last_error"]) == ("delivered", 2, None)
    with db.session(write=False) as session:
        assert remote_ids(session, "sink", "Encounter", ["a1"]) == {"a1": "from-fresh"}
    assert run_once(fresh) == 1  # now a2
    assert status_of(db) == {"a1": "delivered", "a2": "delivered"}


def test_only_the_worker_s_destinations_are_claimed(db: Database) -> None:
    queue(db, ("Patient/a", "a1"))
    with db.session(write=True) as session:
        enqueue(session, destination="elsewhere", ordering_key="Patient/a", kind="visit", subject_type="Encounter",
                subject_id="x1")  # fmt: skip
    sink = Sink()
    asyncio.run(Worker(db, [sink], FAST).run(until_idle=True))
    assert [c.subject_id for c in sink.calls] == ["a1"]
    assert status_of(db) == {"a1": "delivered", "x1": "pending"}


def test_a_worker_waits_for_a_database_that_does_not_answer_and_a_drain_fails() -> None:
    unreachable = Database(
        create_database_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", connect_timeout_seconds=1)
    )
    worker = Worker(unreachable, [Sink()], FAST)

    async def run_briefly() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        await worker.run(stop=stop)

    asyncio.run(run_briefly())  # returns when stopped, having logged and waited
    with pytest.raises(OperationalError):
        asyncio.run(worker.run(until_idle=True))
    assert worker.tally == {}
    unreachable.engine.dispose()


def test_a_worker_is_built_for_registered_destinations_only(db: Database, settings: Settings) -> None:
    registry = DestinationRegistry()
    service = resource_service(fhir_registry, settings)
    with pytest.raises(UnknownDestination, match="no outbox destination is registered"):
        build_worker(db, settings, service, registry)
    registry.register(Registration("sink", lambda database, settings, service: Sink()))
    with pytest.raises(UnknownDestination, match=r"no outbox destination named other \(registered: sink\)"):
        build_worker(db, settings, service, registry, ["other"])
    assert list(build_worker(db, settings, service, registry).destinations) == ["sink"]


def test_an_idle_worker_looks_again_after_the_poll_interval_not_in_a_loop(db: Database) -> None:
    """Items due but not claimable (leased by another worker, or behind their key's head) are no reason to look
    again at once; only a retry falling due before the next look is."""
    queue(db, ("Patient/a", "a1"), ("Patient/a", "a2"))
    holder_sink = Sink()
    holder = Worker(db, [holder_sink], FAST)
    own = Database(create_database_engine(db.engine.url.render_as_string(hide_password=False)))
    statements = []
    event.listen(own.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    idle = Worker(own, [Sink()], replace(FAST, poll_interval_seconds=0.1))

    async def scenario() -> None:
        holder_sink.gate = asyncio.Event()
        holding = asyncio.create_task(holder.run_once())  # a1 leased, a2 behind it: both due, neither claimable
        while not holder_sink.calls:
            await asyncio.sleep(0.005)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)
        await idle.run(stop=stop)
        holder_sink.gate.set()
        await holding

    asyncio.run(scenario())
    own.engine.dispose()
    # A look is a claim and a count: two queries of the outbox, about five times in 0.5 s.
    queries = sum("outbox_item" in statement for statement in statements)
    assert 4 <= queries <= 20, f"{queries} queries of the outbox in 0.5 s at a 0.1 s poll interval"
