"""FHIR Patient create and search-by-NIK through the product, next to a bare FastAPI app on the same database.

Run: .venv/bin/python bench/fhir_bench.py [--postgres URL] [--requests N] [--concurrency C]

Both servers are uvicorn in a child process on 127.0.0.1 with identical settings (1 worker, access log off,
logging at WARNING), measured one after the other by the same client: C threads, each with its own httpx
keep-alive connection, sending a bounded number of requests after a warm-up. The bare app uses the same
driver (psycopg 3) through a SQLAlchemy Core engine pool (psycopg_pool is not installed), stores the same
Patient JSON in a table (id, nik, content) and selects it by NIK. The bench creates its own database
``ilp_bench_<random>`` on the server and drops it afterwards. Performance is printed here, never asserted.
"""

import argparse
import itertools
import os
import platform
import random
import secrets
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import orjson
import psycopg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from psycopg import sql
from sqlalchemy import Engine, create_engine, text
from starlette.concurrency import run_in_threadpool

from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.demo.generate import encode_nik
from ilp_api.resources.indonesia import ADMINISTRATIVE_CODE, NIK
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from servers import serve, start_server

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
FHIR_JSON = "application/fhir+json"
# The product is measured as deployed (with a signing key, as production requires), minus limits meant for
# clients: the bench is one client sending thousands of requests, and a run may outlast a token's lifetime.
SERVER_ENV = {
    "ILP_LOG_LEVEL": "WARNING",
    "ILP_RATE_LIMIT_PER_MINUTE": "0",
    "ILP_TOKEN_LIFETIME_SECONDS": "3600",
    "ILP_JWT_KEYS": orjson.dumps([{"kid": "bench", "secret": secrets.token_urlsafe(32)}]).decode(),
}

# ---- the servers, each run in a child process (``--serve product|bare``) ----


def bare_app(engine: Engine) -> FastAPI:
    """The least a FastAPI service can do for the same requests: one INSERT, one indexed SELECT."""
    app = FastAPI()
    insert = text("INSERT INTO bare_patient (id, nik, content) VALUES (:id, :nik, :content)")
    select = text("SELECT content FROM bare_patient WHERE nik = :nik")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/fhir/Patient")
    async def create(request: Request) -> Response:
        body = await request.body()

        def store() -> bytes:
            data = orjson.loads(body)
            data["id"] = str(uuid.uuid4())
            nik = next(i["value"] for i in data["identifier"] if i["system"] == NIK)
            content = orjson.dumps(data)
            with engine.begin() as connection:
                connection.execute(insert, {"id": data["id"], "nik": nik, "content": content.decode()})
            return content

        return Response(await run_in_threadpool(store), status_code=201, media_type=FHIR_JSON)

    @app.get("/fhir/Patient")
    async def search(identifier: str) -> Response:
        nik = identifier.partition("|")[2]

        def find() -> list[str]:
            with engine.connect() as connection:
                return list(connection.execute(select, {"nik": nik}).scalars())

        rows = await run_in_threadpool(find)
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(rows),
            "entry": [{"resource": orjson.Fragment(row), "search": {"mode": "match"}} for row in rows],
        }
        return Response(orjson.dumps(bundle), media_type=FHIR_JSON)

    return app


# ---- the client ----

Operation = tuple[str, str, dict[str, str] | None, bytes | None]  # method, path, query, body


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


@dataclass
class Target:
    name: str
    base_url: str
    # Every request carries these: the one place to add a header (the product's bearer token goes here).
    headers: dict[str, str]


def run_load(target: Target, operations: list[Operation], concurrency: int) -> Measurement:
    """Send every operation once, ``concurrency`` at a time; returns when all have been answered."""
    latencies = [0.0] * len(operations)
    statuses: list[int] = [0] * len(operations)
    next_index = itertools.count()  # next() on a count is atomic under the GIL: no lock needed
    clients = [httpx.Client(base_url=target.base_url, headers=target.headers, timeout=60) for _ in range(concurrency)]

    def work(client: httpx.Client) -> None:
        while (index := next(next_index)) < len(operations):
            method, path, query, body = operations[index]
            started = time.perf_counter()
            response = client.request(method, path, params=query, content=body)
            latencies[index] = time.perf_counter() - started
            statuses[index] = response.status_code

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return Measurement(len(operations), seconds, latencies, Counter(statuses))


# ---- workload ----


def patients(count: int, seed: int) -> list[bytes]:
    """Realistic Patient bodies with distinct, valid NIKs (date and sex encoded to match the record)."""
    rng = random.Random(seed)
    bodies = []
    for serial in range(1, count + 1):
        sex = rng.choice(("male", "female"))
        birth_date = date(2025, 1, 1) - timedelta(days=rng.randint(0, 80 * 365))
        # Distinct for up to 16 × 9999 patients: the kecamatan digits advance when the serial wraps.
        nik = encode_nik(f"3374{serial // 9999 % 16 + 1:02d}", birth_date, sex, f"{serial % 9999 + 1:04d}")
        village = {"province": "33", "city": "3374", "district": "337406", "village": "3374061001"}
        codes = village | {"rt": "003", "rw": f"{rng.randint(1, 6):03d}"}
        patient = {
            "resourceType": "Patient",
            "identifier": [
                {"system": NIK, "value": nik},
                {"system": "https://fhir.kemkes.go.id/id/kk", "value": f"3374061201{serial:06d}"},
            ],
            "active": True,
            "name": [{"use": "official", "text": f"Pasien Uji {serial}", "given": ["Pasien", f"Uji{serial}"]}],
            "gender": sex,
            "birthDate": birth_date.isoformat(),
            "telecom": [{"system": "phone", "value": f"0812{serial:08d}", "use": "mobile"}],
            "address": [
                {
                    "use": "home",
                    "line": [f"Jl. Dorang No. {serial % 200 + 1}"],
                    "city": "Kota Semarang",
                    "country": "ID",
                    "extension": [
                        {
                            "url": ADMINISTRATIVE_CODE,
                            "extension": [{"url": k, "valueCode": v} for k, v in codes.items()],
                        }
                    ],
                }
            ],
        }
        bodies.append(orjson.dumps(patient))
    return bodies


def creates(bodies: list[bytes]) -> list[Operation]:
    return [("POST", "/fhir/Patient", None, body) for body in bodies]


def searches(bodies: list[bytes], count: int, seed: int) -> list[Operation]:
    niks = [orjson.loads(body)["identifier"][0]["value"] for body in bodies]
    rng = random.Random(seed)
    return [("GET", "/fhir/Patient", {"identifier": f"{NIK}|{rng.choice(niks)}"}, None) for _ in range(count)]


# ---- orchestration ----


def admin_token(base_url: str, database_url: str) -> str:
    database = Database(create_database_engine(database_url))
    with database.session(write=True) as session:
        admin = register_client(session, "fhir bench", None, ADMIN_SCOPE)
    database.engine.dispose()
    response = httpx.post(
        f"{base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(admin.info.client_id, admin.client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@dataclass(frozen=True)
class Scenario:
    name: str
    expected_status: int
    warm_up: list[Operation]
    measured: list[Operation]


def measure(
    kind: str,
    database_url: str,
    scenarios: list[Scenario],
    concurrency: int,
    headers_for: Callable[[str], dict[str, str]],
) -> dict[str, Measurement]:
    process, base_url = start_server(__file__, kind, database_url, SERVER_ENV, "/health")
    try:
        target = Target(kind, base_url, headers_for(base_url))
        results = {}
        for scenario in scenarios:
            run_load(target, scenario.warm_up, concurrency)
            results[scenario.name] = run_load(target, scenario.measured, concurrency)
        return results
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL; the bench makes its own database")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per scenario and server")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--warm-up", type=int, default=200, help="unmeasured requests before each scenario")
    parser.add_argument("--serve", choices=("product", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        url = arguments.database_url
        serve(arguments.serve, arguments.port, url, lambda: bare_app(create_engine(url, pool_size=10, max_overflow=20)))
        return

    name = f"ilp_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(arguments.postgres, autocommit=True) as connection:
        server_version = connection.info.server_version
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = Settings(database_url=arguments.postgres.rsplit("/", 1)[0] + f"/{name}").database_url
    try:
        upgrade(database_url)
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE bare_patient (id text PRIMARY KEY, nik text NOT NULL, content text)"))
            connection.execute(text("CREATE UNIQUE INDEX bare_patient_nik ON bare_patient (nik)"))
        engine.dispose()

        bodies = patients(arguments.warm_up + arguments.requests, seed=1)
        scenarios = [
            Scenario("Patient create", 201, creates(bodies[: arguments.warm_up]), creates(bodies[arguments.warm_up :])),
            Scenario(
                "Patient search by NIK",
                200,
                searches(bodies, arguments.warm_up, seed=2),
                searches(bodies, arguments.requests, seed=3),
            ),
        ]

        headers = {"Content-Type": FHIR_JSON}

        def with_token(base_url: str) -> dict[str, str]:
            headers["Authorization"] = f"Bearer {admin_token(base_url, database_url)}"
            return headers

        product = measure("product", database_url, scenarios, arguments.concurrency, with_token)
        # The bare app gets the same headers (the token included, unread): the requests are byte for byte alike.
        bare = measure("bare", database_url, scenarios, arguments.concurrency, lambda _: headers)
    finally:
        with psycopg.connect(arguments.postgres, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}")
    print(
        f"python {platform.python_version()}, uvicorn {uvicorn.__version__}, httpx {httpx.__version__}, "
        f"PostgreSQL {server_version // 10000}.{server_version % 10000}, psycopg {psycopg.__version__}"
    )
    print(
        f"{arguments.requests} requests per scenario after {arguments.warm_up} warm-up, "
        f"concurrency {arguments.concurrency}, client and servers on this machine (loopback)"
    )
    print()
    print(f"{'scenario':<24}{'server':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for scenario in scenarios:
        for kind, results in (("product", product), ("bare", bare)):
            result = results[scenario.name]
            statuses = ", ".join(f"{status}×{count}" for status, count in sorted(result.statuses.items()))
            print(
                f"{scenario.name:<24}{kind:<9}{result.throughput:>9.1f}{result.percentile(50):>9.1f}"
                f"{result.percentile(99):>9.1f}  {statuses}"
            )
        ratio = product[scenario.name].throughput / bare[scenario.name].throughput
        print(f"{'':<24}product/bare throughput {ratio:.2f}×")
    unexpected = sum(
        count
        for scenario in scenarios
        for results in (product, bare)
        for status, count in results[scenario.name].statuses.items()
        if status != scenario.expected_status
    )
    if unexpected:
        print(f"\n{unexpected} responses had an unexpected status: the numbers above are not comparable")


if __name__ == "__main__":
    main()
