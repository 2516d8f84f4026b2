"""The outbox's delivery rate: N queued items drained by the worker's loop (claim, deliver, record) to a trivial
HTTP destination, against that destination's ceiling measured in the same run: the same N POSTs sent straight to
it by the same HTTP client with the same concurrency, no database.

    .venv/bin/python bench/outbox_bench.py [--postgres URL | --sqlite] [--items N] [--per-key K] [--batch B]
                                           [--workers W]

The destination is a bare ASGI app under uvicorn in a child process that answers every POST 200 ``{}``.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from harness import machine_lines, scratch_database
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.integrations.outbox.destination import (
    DeadLetter,
    Delivered,
    Delivery,
    DeliveryResult,
    RetryLater,
)
from ilp_api.integrations.outbox.policy import Backoff
from ilp_api.integrations.outbox.repository import enqueue, status_counts
from ilp_api.integrations.outbox.worker import Worker, WorkerSettings
from servers import free_port

DESTINATION = "http-sink"


async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least an HTTP destination can do: read the body, answer 200 {}."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


@contextmanager
def running_receiver() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--receive", str(port)])
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(url, json={}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the receiver did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class HttpDestination:
    """POSTs each item's payload; 5xx, 408 and 429 and transport errors are retried, other 4xx are dead."""

    name = DESTINATION

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        try:
            response = await self.client.post(self.url, json=message(delivery.ordering_key, delivery.sequence))
        except httpx.TransportError as error:
            return RetryLater(f"{type(error).__name__}: {error}")
        if response.status_code >= 500 or response.status_code in (408, 429):
            return RetryLater(f"{response.status_code}")
        if response.status_code >= 400:
            return DeadLetter(f"{response.status_code}")
        return Delivered()


def message(key: str, sequence: int) -> dict[str, Any]:
    return {"orderingKey": key, "sequence": sequence, "kind": "visit"}


def fill(database: Database, items: int, per_key: int) -> float:
    started = time.perf_counter()
    with database.session(write=True) as session:
        for number in range(items):
            enqueue(session, destination=DESTINATION, ordering_key=f"Patient/{number // per_key}", kind="visit",
                    subject_type="Encounter", subject_id=str(number))  # fmt: skip
    return time.perf_counter() - started


def drain(database: Database, url: str, batch: int, workers: int) -> tuple[float, list[Worker]]:
    settings = WorkerSettings(
        batch_size=batch,
        lease=timedelta(seconds=120),
        delivery_timeout_seconds=30,
        backoff=Backoff(0.5, 10),
        poll_interval_seconds=0.02,
    )
    done: list[Worker] = []

    async def one() -> None:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=batch)) as client:
            worker = Worker(database, [HttpDestination(url, client)], settings)
            done.append(worker)
            await worker.run(until_idle=True)

    threads = [threading.Thread(target=asyncio.run, args=(one(),)) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, done


def ceiling(url: str, items: int, per_key: int, concurrency: int) -> tuple[float, int]:
    """The same POSTs straight to the destination, ``concurrency`` at a time, in one event loop, each sent again
    at once after a transport error (as the worker would later); the seconds taken, and the errors."""
    errors = 0

    async def post_all() -> float:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:

            async def post(number: int) -> None:
                nonlocal errors
                async with gate:
                    while True:
                        try:
                            response = await client.post(
                                url, json=message(f"Patient/{number // per_key}", number % per_key)
                            )
                            response.raise_for_status()
                            return
                        except httpx.TransportError:
                            errors += 1

            started = time.perf_counter()
            await asyncio.gather(*(post(number) for number in range(items)))
            return time.perf_counter() - started

    return asyncio.run(post_all()), errors


def delivered(database: Database) -> int:
    with database.session(write=False) as session:
        return status_counts(session, DESTINATION).get("delivered", 0)


@contextmanager
def bench_database(arguments: argparse.Namespace) -> Iterator[Database]:
    if arguments.sqlite:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'outbox.db'}"
            upgrade(url)
            database = Database(create_database_engine(url))
            yield database
            database.engine.dispose()
        return
    with scratch_database(arguments.postgres) as url:
        database = Database(create_database_engine(url))
        yield database
        database.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--per-key", type=int, default=5, help="items per ordering key (delivered in order)")
    parser.add_argument("--batch", type=int, default=20, help="ILP_OUTBOX_BATCH_SIZE")
    parser.add_argument("--workers", type=int, default=1, help="workers at once (threads, each its own loop)")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)  # the child process: serve the receiver
    arguments = parser.parse_args()
    if arguments.receive:
        uvicorn.run(receiver, host="127.0.0.1", port=arguments.receive, log_level="warning", access_log=False)
        return

    for line in machine_lines(arguments.postgres):
        print(line)
    backend = "SQLite" if arguments.sqlite else "PostgreSQL"
    concurrency = arguments.batch * arguments.workers
    print(
        f"{arguments.items} items, {arguments.per_key} per ordering key, batch {arguments.batch}, "
        f"{arguments.workers} worker(s), {backend}; HTTP concurrency {concurrency} for both"
    )
    with running_receiver() as url, bench_database(arguments) as database:
        ceiling(url, min(200, arguments.items), arguments.per_key, concurrency)  # warm-up
        bare, errors = ceiling(url, arguments.items, arguments.per_key, concurrency)
        queued = fill(database, arguments.items, arguments.per_key)
        drained, workers = drain(database, url, arguments.batch, arguments.workers)
        count = delivered(database)
    tallies = "; ".join(", ".join(f"{n} {how}" for how, n in sorted(w.tally.items())) for w in workers)
    print(f"enqueue   {arguments.items / queued:9.0f} items/s   (one transaction, {queued:.2f} s)")
    print(f"outbox    {arguments.items / drained:9.0f} items/s   ({drained:.2f} s; delivered {count}; {tallies})")
    print(f"bare HTTP {arguments.items / bare:9.0f} items/s   ({bare:.2f} s; {errors} transport errors, sent again)")
    print(f"ratio outbox / bare HTTP: {bare / drained:.2f}×   (load average now {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
