"""The delivery loop of ``ilp worker``: claim a batch, deliver it with no transaction open, record each result.

1. **Claim** (one short write transaction): lease up to ``batch_size`` due items, the head of each ordering key
   only, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (repository.claim), then commit.
2. **Deliver** the batch concurrently, each call bounded by ``delivery_timeout``, with no transaction open and no
   connection held: a slow destination holds no lock and blocks no API write, on SQLite either.
3. **Record** the batch's answers in one short transaction, each only if this claim still holds its lease:
   delivered (with the remote ids), failed with its next attempt after a backoff, or dead with the destination's
   OperationOutcome. One transaction per batch rather than per item: the next claim waits for the whole batch
   anyway, and a commit is the worker's dearest step. A lease outlives the delivery timeout (and the recording),
   so a live worker never loses one mid-call; a worker that died mid-call (SIGKILL) leaves a lease that expires,
   and another claim takes the item over.

A database that does not answer is waited for (an attempt whose result could not be recorded is delivered again
once its lease expires); with ``until_idle`` it ends the run with the error instead.

Stopping (SIGTERM) ends the loop before the next claim: the batch in flight is delivered and recorded first, so
no lease is left behind.
"""

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.integrations.outbox import repository
from ilp_api.integrations.outbox.destination import Delivery, DeliveryResult, Destination, RetryLater
from ilp_api.integrations.outbox.policy import Backoff, settlement
from ilp_api.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    batch_size: int
    lease: timedelta
    delivery_timeout_seconds: float
    backoff: Backoff
    poll_interval_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "WorkerSettings":
        return cls(
            batch_size=settings.outbox_batch_size,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            delivery_timeout_seconds=settings.outbox_delivery_timeout_seconds,
            backoff=Backoff(settings.outbox_backoff_base_seconds, settings.outbox_backoff_cap_seconds),
            poll_interval_seconds=settings.outbox_poll_interval_seconds,
        )


def worker_name() -> str:
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        database: Database,
        destinations: Sequence[Destination],
        settings: WorkerSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = random.random,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.destinations = {destination.name: destination for destination in destinations}
        self.settings = settings
        self.clock = clock
        self.jitter = jitter
        self.name = (name or worker_name())[:100]  # a lease owner is this and a claim's own suffix
        # Attempts by how they ended: delivered, failed, dead; lost (the lease had been taken over), unrecorded
        # (the database did not answer).
        self.tally: Counter[str] = Counter()

    async def run(self, *, until_idle: bool = False, stop: asyncio.Event | None = None) -> None:
        """Deliver until ``stop`` is set, or with ``until_idle`` until nothing is left to deliver (waiting out
        the backoffs; an item behind a dead one of its key is not waited for)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                if await self.run_once():
                    continue
                remaining, next_due = await asyncio.to_thread(self._deliverable)
            except SQLAlchemyError:
                if until_idle:
                    raise  # a drain that cannot finish says so
                log.exception("outbox worker: the database did not answer; trying again")
                remaining, next_due = 1, None
            if until_idle and remaining == 0:
                return
            wait = self.settings.poll_interval_seconds
            if next_due is not None:  # a retry falls due before the next look
                wait = min(wait, max((next_due - self.clock()).total_seconds(), 0.0))
            with contextlib.suppress(TimeoutError):  # the wait ended without a stop
                await asyncio.wait_for(stop.wait(), wait)

    async def run_once(self) -> int:
        """Claim one batch, deliver it and record the answers; how many items were claimed."""
        owner = f"{self.name}/{uuid.uuid4().hex[:8]}"  # unique to this claim: it fences the results
        batch = await asyncio.to_thread(self._claim, owner)
        if not batch:
            return 0
        results = await asyncio.gather(*(self._deliver(delivery) for delivery in batch))
        now = self.clock()
        backoff = self.settings.backoff
        outcomes = [settlement(r, d, now, backoff, self.jitter()) for d, r in zip(batch, results, strict=True)]
        try:
            recorded = await asyncio.to_thread(self._settle, batch, owner, outcomes, now)
        except SQLAlchemyError:  # their leases expire and the items are delivered again
            log.exception("outbox: the results of %d attempts could not be recorded", len(batch))
            self.tally["unrecorded"] += len(batch)
            return len(batch)
        for delivery, outcome, settled in zip(batch, outcomes, recorded, strict=True):
            self.tally[outcome.status if settled else "lost"] += 1
            if not settled:
                log.warning(
                    "outbox item %s: lease taken over before its result was recorded; the other claim's counts",
                    delivery.id,
                )
            elif outcome.status != "delivered":
                log.info("outbox item %s %s: %s", delivery.id, outcome.status, outcome.last_error)
        return len(batch)

    async def _deliver(self, delivery: Delivery) -> DeliveryResult:
        timeout = self.settings.delivery_timeout_seconds
        try:
            return await asyncio.wait_for(self.destinations[delivery.destination].deliver(delivery), timeout)
        except TimeoutError:
            return RetryLater(f"no answer within {timeout:g} s")
        except Exception as error:  # a destination's bug must not stop the worker: retried, and logged
            log.exception("outbox item %s: %s raised", delivery.id, delivery.destination)
            return RetryLater(f"unexpected error: {type(error).__name__}: {error}")

    def _claim(self, owner: str) -> list[Delivery]:
        with self.database.session(write=True) as session:
            return repository.claim(
                session, self.destinations, owner, self.clock(), self.settings.lease, self.settings.batch_size
            )

    def _settle(
        self, batch: list[Delivery], owner: str, outcomes: list[repository.Settlement], now: datetime
    ) -> list[bool]:
        with self.database.session(write=True) as session:
            return [
                repository.settle(session, delivery, owner, outcome, now)
                for delivery, outcome in zip(batch, outcomes, strict=True)
            ]

    def _deliverable(self) -> tuple[int, datetime | None]:
        with self.database.session(write=False) as session:
            return repository.deliverable(session, self.destinations, self.clock())
