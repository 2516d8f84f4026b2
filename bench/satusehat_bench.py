"""SATUSEHAT delivery rate: N screening visits queued through the product, drained by ``ilp worker``'s loop into the
SATUSEHAT simulator, against the simulator's own ceiling measured in the same run: the same transaction Bundles
posted straight to it by one httpx client with the same concurrency, no database and no lookups.

    .venv/bin/python bench/satusehat_bench.py [--postgres URL | --sqlite] [--visits N] [--batch B] [--workers W]

The simulator is ``ilp satusehat simulator`` in a child process. The visits are visit_bench.py's (an Encounter,
eight Observations and an SRQ-20 QuestionnaireResponse, evaluated on write), one resident each, recorded through
the app in this process (POST /fhir, as a kader app sends them), so that the write hook queues them as it does in
production; only the drain is timed. A kader visit goes out with the posyandu's supervising nakes; each delivery
looks the resident up by NIK (and creates her: the simulator knows none of them), registers the pustu, posyandu
and Location on the first visit, and posts the Bundle. The request throttle towards SATUSEHAT
(ILP_SATUSEHAT_REQUESTS_PER_MINUTE, 300 by default) is lifted: the bench measures the machinery, not Kemkes' quota.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from harness import DEFAULT_POSTGRES, FHIR_JSON, machine_lines, scratch_database
from ilp_api.app import create_app
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.fhir.registry import Json, registry
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.repository import status_counts
from ilp_api.integrations.outbox.service import build_worker
from ilp_api.integrations.outbox.worker import Worker
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.config import save_credential
from ilp_api.integrations.satusehat.destination import DESTINATION
from ilp_api.integrations.satusehat.repository import set_supervisor
from ilp_api.integrations.satusehat.simulator.app import AUTH, FHIR
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT, SEED_PRACTITIONERS
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from ilp_api.wiring import resource_service
from servers import free_port
from visit_bench import NETWORK, POSYANDU, seed, visit_bundle

CREDENTIAL = SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, SEED_CLIENT.organization_id)


@contextmanager
def running_simulator() -> Iterator[str]:
    """``ilp satusehat simulator`` in a child process; its base URL."""
    port = free_port()
    ilp = Path(sys.executable).with_name("ilp")
    process = subprocess.Popen(
        [str(ilp), "satusehat", "simulator", "--port", str(port)],
        env={**os.environ, "ILP_LOG_LEVEL": "WARNING"},
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/admin/requests", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def queue_visits(database: Database, settings: Settings, visits: int) -> float:
    """The network and residents (visit_bench.seed), the SATUSEHAT setup of the puskesmas and posyandu, then the
    visits through the API; the seconds the visits took."""
    seed(settings.database_url, visits)
    with database.session(write=True) as session:
        save_credential(CredentialStore(session, CredentialCipher.from_settings(settings)), NETWORK[1].id, CREDENTIAL)
        set_supervisor(session, POSYANDU.id, str(SEED_PRACTITIONERS[1]["ihs"]))  # the visits are kader's
        admin = register_client(session, "satusehat bench", None, ADMIN_SCOPE)
    with TestClient(create_app(settings, database)) as api:
        answer = api.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(admin.info.client_id, admin.client_secret),
        )
        api.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        location = {
            "resourceType": "Location",
            "status": "active",
            "name": "Posyandu Melati, Balai RW 001",
            "managingOrganization": {"reference": f"Organization/{POSYANDU.id}"},
            "position": {"longitude": 110.4167, "latitude": -6.9833},
        }
        assert api.post("/fhir/Location", json=location, headers={"Content-Type": FHIR_JSON}).status_code == 201
        started = time.perf_counter()
        for number in range(visits):
            response = api.post("/fhir", content=visit_bundle(number), headers={"Content-Type": FHIR_JSON})
            assert response.status_code == 200, response.text
            if (number + 1) % 250 == 0:
                print(f"  queued {number + 1}/{visits}", file=sys.stderr)
    return time.perf_counter() - started


def drain(database: Database, settings: Settings, workers: int) -> tuple[float, list[Worker]]:
    """``Worker.run(until_idle)`` over the registered SATUSEHAT destination, ``workers`` of them in threads."""
    done: list[Worker] = []

    async def one() -> None:
        worker = build_worker(database, settings, resource_service(registry, settings), destinations, ["satusehat"])
        done.append(worker)
        try:
            await worker.run(until_idle=True)
        finally:
            for destination in worker.destinations.values():
                await destination.aclose()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=asyncio.run, args=(one(),)) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, done


def again(bundle: Json) -> Json:
    """A Bundle the simulator accepted, as a new one: its resources created again under new identifiers (the
    originals' would be refused as duplicates), referring to what the original referred to."""
    entries = []
    for entry in bundle["entry"]:
        resource = {key: value for key, value in entry["resource"].items() if key not in ("id", "meta")}
        resource["identifier"] = [{**i, "value": f"{i['value']}-direct"} for i in resource.get("identifier", [])]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def ceiling(base: str, bundles: list[Json], concurrency: int) -> tuple[float, int]:
    """The Bundles posted straight to the simulator, ``concurrency`` at a time, in one event loop; the seconds
    taken and how many were refused (none should be)."""
    refused = 0

    async def post_all() -> float:
        nonlocal refused
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency), timeout=60) as client:
            token = await client.post(
                base + AUTH + "/accesstoken",
                params={"grant_type": "client_credentials"},
                data={"client_id": CREDENTIAL.client_id, "client_secret": CREDENTIAL.client_secret},
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

            async def post(bundle: Json) -> None:
                nonlocal refused
                async with gate:
                    response = await client.post(base + FHIR, json=bundle, headers=headers)
                    refused += response.status_code != 200

            started = time.perf_counter()
            await asyncio.gather(*(post(bundle) for bundle in bundles))
            return time.perf_counter() - started

    return asyncio.run(post_all()), refused


def delivered(database: Database) -> int:
    with database.session(write=False) as session:
        return status_counts(session, DESTINATION).get("delivered", 0)


@contextmanager
def bench_database(arguments: argparse.Namespace) -> Iterator[str]:
    if arguments.sqlite:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'satusehat.db'}"
            upgrade(url)
            yield url
        return
    with scratch_database(arguments.postgres) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=20, help="ILP_OUTBOX_BATCH_SIZE")
    parser.add_argument("--workers", type=int, default=1, help="workers at once (threads, each its own loop)")
    arguments = parser.parse_args()

    for line in machine_lines(arguments.postgres):
        print(line)
    backend = "SQLite" if arguments.sqlite else "PostgreSQL"
    concurrency = arguments.batch * arguments.workers
    print(
        f"{arguments.visits} visits, one resident each, batch {arguments.batch}, {arguments.workers} worker(s), "
        f"{backend}; HTTP concurrency {concurrency} for both"
    )
    with running_simulator() as base, bench_database(arguments) as url:
        settings = Settings(
            database_url=url,
            log_level="WARNING",
            rate_limit_per_minute=0,
            satusehat_auth_url=base + AUTH,
            satusehat_fhir_url=base + FHIR,
            satusehat_requests_per_minute=10_000_000,
            outbox_batch_size=arguments.batch,
            outbox_poll_interval_seconds=0.05,
        )
        database = Database(create_database_engine(settings.database_url))
        queued = queue_visits(database, settings, arguments.visits)
        drained, workers = drain(database, settings, arguments.workers)
        count = delivered(database)
        database.engine.dispose()
        requests = len(httpx.get(f"{base}/admin/requests", timeout=60).json())
        received = httpx.get(f"{base}/admin/transactions", timeout=60).json()
        bundles = [again(bundle) for bundle in received]
        direct, refused = ceiling(base, bundles, concurrency)
    resources = sum(len(bundle["entry"]) for bundle in bundles)
    tallies = "; ".join(", ".join(f"{n} {how}" for how, n in sorted(w.tally.items())) for w in workers)
    visits = arguments.visits
    print(f"queued    {visits / queued:9.1f} visits/s    (through the API, {queued:.1f} s; not part of the ratio)")
    print(
        f"worker    {visits / drained:9.1f} visits/s  {resources / drained:9.1f} resources/s   ({drained:.2f} s; "
        f"delivered {count}; {tallies}; {requests} requests to the simulator)"
    )
    print(
        f"direct    {len(bundles) / direct:9.1f} visits/s  {resources / direct:9.1f} resources/s   ({direct:.2f} s; "
        f"{len(bundles)} Bundles of {resources} resources, {refused} refused)"
    )
    print(f"ratio worker / direct: {direct / drained:.2f}   (load average now {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
