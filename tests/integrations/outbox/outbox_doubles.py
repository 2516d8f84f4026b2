"""A destination and a clock for the outbox's tests: in-process, recording every call, answering as told."""

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.destination import Delivered, Delivery, DeliveryResult
from ilp_api.integrations.outbox.policy import Backoff
from ilp_api.integrations.outbox.repository import item
from ilp_api.integrations.outbox.worker import WorkerSettings

SINK_PATIENT_SYSTEM = "https://sink.example/id/patient"  # the system "sink" registers for Patients' remote ids


@dataclass
class Sink:
    """Answers each call with the next of ``answers`` (an exception is raised), then with Delivered; each call
    first waits ``delay`` seconds, and ``gate`` when one is set."""

    name: str = "sink"
    answers: list[DeliveryResult | Exception] = field(default_factory=list)
    delay: float = 0.0
    gate: asyncio.Event | None = None
    calls: list[Delivery] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        with self.lock:
            self.calls.append(delivery)
            answer = self.answers.pop(0) if self.answers else Delivered()
        self.started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def delivered_keys(self) -> dict[str, list[int]]:
        """The sequences called, per ordering key, in call order."""
        calls: dict[str, list[int]] = {}
        for delivery in self.calls:
            calls.setdefault(delivery.ordering_key, []).append(delivery.sequence)
        return calls


@dataclass
class Clock:
    now: datetime = field(default_factory=utc_now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


FAST = WorkerSettings(
    batch_size=10,
    lease=timedelta(seconds=30),
    delivery_timeout_seconds=5,
    backoff=Backoff(base_seconds=1, cap_seconds=8),
    poll_interval_seconds=0.01,
)


def outbox_rows(database: Database) -> list[dict[str, object]]:
    with database.session(write=False) as session:
        return [dict(row._mapping) for row in session.execute(select(item).order_by(item.c.id))]
