"""FHIR Patient create and search-by-NIK through the product, next to two bare FastAPI apps on the same database.

Run: .venv/bin/python bench/fhir_bench.py [--postgres URL] [--requests N] [--concurrency C]

Three servers, each uvicorn in a child process on 127.0.0.1 with identical settings (1 worker, access log off,
logging at WARNING) and its own fresh database ``ilp_bench_<random>`` (the migrations applied, dropped
afterwards), measured one after the other by the same client: C threads, each with its own httpx keep-alive
connection, sending a bounded number of requests after a warm-up.

- product: the real app.
- bare-equivalent: a bare FastAPI app on the same driver (psycopg 3, SQLAlchemy pool) that writes, for a
  Patient create, exactly the rows the product writes (resource, resource_version, each index row, the NIK
  claim, the audit event and its entity) in one statement, and for a search by NIK does the same select and
  audit insert in one statement; in autocommit, so each request is one round trip and one transaction.
- bare single row: the least a FastAPI app can do: one row (id, nik, content) per Patient, selected by NIK.

Performance is printed here, never asserted.
"""

import argparse
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import Engine, create_engine, text
from starlette.concurrency import run_in_threadpool

from harness import (
    DEFAULT_POSTGRES,
    FHIR_JSON,
    SERVER_ENV,
    Measurement,
    Operation,
    Target,
    admin_token,
    analyze,
    machine_lines,
    row_counts,
    run_load,
    scratch_database,
    searchset_response,
)
from ilp_api.demo.generate import encode_nik
from ilp_api.resources.indonesia import ADMINISTRATIVE_CODE, NIK
from ilp_api.resources.patient import PATIENT
from servers import serve, start_server

# ---- the servers, each run in a child process (``--serve product|bare-equivalent|bare``) ----


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

        return searchset_response(await run_in_threadpool(find))

    return app


AUDIT_EVENT_COLUMNS = "id, recorded, interaction, action, outcome, status, client_id, path, query"
# The rows the product writes for one Patient create, one data-modifying CTE each: a table the product comes to
# write is one more line here.
CREATE_ROWS = (
    "INSERT INTO identifier_claim (resource_type, system, value, resource_id) "
    "VALUES ('Patient', %(nik_system)s, %(nik)s, %(id)s)",
    "INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content) "
    "VALUES ('Patient', %(id)s, 1, %(now)s, false, %(content)s)",
    "INSERT INTO resource_version (resource_type, id, version_id, last_updated, deleted, method, content) "
    "VALUES ('Patient', %(id)s, 1, %(now)s, false, 'POST', %(content)s)",
    "INSERT INTO search_token (resource_type, resource_id, param, system, code) "
    "SELECT 'Patient', %(id)s, * FROM unnest(%(token_param)s::text[], %(token_system)s::text[], "
    "%(token_code)s::text[])",
    "INSERT INTO search_string (resource_type, resource_id, param, value, exact) "
    "SELECT 'Patient', %(id)s, * FROM unnest(%(string_param)s::text[], %(string_value)s::text[], "
    "%(string_exact)s::text[])",
    "INSERT INTO search_date (resource_type, resource_id, param, low, high) "
    "SELECT 'Patient', %(id)s, * FROM unnest(%(date_param)s::text[], %(date_low)s::timestamptz[], "
    "%(date_high)s::timestamptz[])",
    "INSERT INTO search_reference (resource_type, resource_id, param, target_type, target_id) "
    "SELECT 'Patient', %(id)s, * FROM unnest(%(reference_param)s::text[], %(reference_target_type)s::text[], "
    "%(reference_target_id)s::text[])",
    f"INSERT INTO audit_event ({AUDIT_EVENT_COLUMNS}) "
    "VALUES (%(audit_id)s, %(now)s, 'create', 'C', '0', 201, 'bench', '/fhir/Patient', NULL)",
    "INSERT INTO audit_entity (audit_id, entity_type, entity_id) VALUES (%(audit_id)s, 'Patient', %(id)s)",
    "INSERT INTO patient_compartment (resource_type, resource_id, patient_id) VALUES ('Patient', %(id)s, %(id)s)",
    "INSERT INTO patient_placement (patient_id, managing_organization_id, village, rw) "
    "VALUES (%(id)s, %(placement_organization)s, %(placement_village)s, %(placement_rw)s)",
)
CREATE_SQL = "WITH " + ",\n".join(f"row_{n} AS ({row})" for n, row in enumerate(CREATE_ROWS)) + "\nSELECT 1"
# The product's search: the NIK's index row, its undeleted Patient, and the audit event naming what it returned.
SEARCH_SQL = f"""\
WITH found AS (
    SELECT r.id, r.content FROM search_token t
    JOIN resource r ON r.resource_type = t.resource_type AND r.id = t.resource_id
    WHERE t.resource_type = 'Patient' AND t.param = 'identifier' AND t.code = %(nik)s AND t.system = %(nik_system)s
        AND NOT r.deleted),
audited AS (
    INSERT INTO audit_event ({AUDIT_EVENT_COLUMNS})
    VALUES (%(audit_id)s, %(now)s, 'search-type', 'E', '0', 200, 'bench', '/fhir/Patient', %(query)s)),
named AS (INSERT INTO audit_entity (audit_id, entity_type, entity_id) SELECT %(audit_id)s, 'Patient', id FROM found)
SELECT content FROM found"""
INDEX_COLUMNS = {
    "token": ("system", "code"),
    "string": ("value", "exact"),
    "date": ("low", "high"),
    "reference": ("target_type", "target_id"),
}


def index_arrays(data: dict[str, Any]) -> dict[str, list[Any]]:
    """The index rows of a Patient as the product's own extraction gives them, one array per column."""
    arrays: dict[str, list[Any]] = {
        f"{kind}_{column}": [] for kind, columns in INDEX_COLUMNS.items() for column in ("param", *columns)
    }
    for parameter, value in PATIENT.index_values(data):
        kind = str(parameter.type)
        values = tuple(value)
        for column, item in zip(("param", *INDEX_COLUMNS[kind]), (parameter.name, *values), strict=True):
            arrays[f"{kind}_{column}"].append(item)
    return arrays


def placement_of(data: dict[str, Any]) -> dict[str, str | None]:
    """The Patient's placement row as the product's own code gives it."""
    placement = PATIENT.placement(data) if PATIENT.placement else None
    assert placement is not None
    return {
        "placement_organization": placement.managing_organization_id,
        "placement_village": placement.village,
        "placement_rw": placement.rw,
    }


def bare_equivalent_app(engine: Engine) -> FastAPI:
    """Hand-written SQL for the product's rows: each request one statement, one round trip, in autocommit."""
    app = FastAPI()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/fhir/Patient")
    async def create(request: Request) -> Response:
        body = await request.body()

        def store() -> bytes:
            data = orjson.loads(body)
            now = datetime.now(UTC)
            data["id"] = str(uuid.uuid4())
            last_updated = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            data["meta"] = {"versionId": "1", "lastUpdated": last_updated}
            nik = next(i["value"] for i in data["identifier"] if i["system"] == NIK)
            content = orjson.dumps(data)
            parameters = {"id": data["id"], "now": now, "content": content.decode(), "nik_system": NIK, "nik": nik}
            parameters |= {"audit_id": str(uuid.uuid4())} | index_arrays(data) | placement_of(data)
            with autocommit.connect() as connection:
                connection.exec_driver_sql(CREATE_SQL, parameters)
            return content

        return Response(await run_in_threadpool(store), status_code=201, media_type=FHIR_JSON)

    @app.get("/fhir/Patient")
    async def search(request: Request, identifier: str) -> Response:
        system, _, nik = identifier.partition("|")
        parameters = {"nik_system": system, "nik": nik, "audit_id": str(uuid.uuid4()), "query": request.url.query}

        def find() -> list[str]:
            with autocommit.connect() as connection:
                return list(connection.exec_driver_sql(SEARCH_SQL, parameters | {"now": datetime.now(UTC)}).scalars())

        return searchset_response(await run_in_threadpool(find))

    return app


BARE_APPS = {"bare-equivalent": bare_equivalent_app, "bare": bare_app}


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


@dataclass(frozen=True)
class Scenario:
    name: str
    expected_status: int
    warm_up: list[Operation]
    measured: list[Operation]


# The tables a Patient create and search write: compared between the product and the bare-equivalent.
WRITTEN_TABLES = (
    "resource",
    "resource_version",
    "identifier_claim",
    "search_token",
    "search_string",
    "search_date",
    "search_reference",
    "audit_event",
    "audit_entity",
    "patient_compartment",
    "patient_placement",
)


@dataclass(frozen=True)
class Run:
    measurements: dict[str, Measurement]
    rows: dict[str, int]


def measure(
    kind: str,
    server_url: str,
    scenarios: list[Scenario],
    concurrency: int,
    headers_for: Callable[[str, str], dict[str, str]],
) -> Run:
    """Start ``kind`` on a database of its own, run every scenario against it, count the rows it wrote."""
    with scratch_database(server_url) as database_url:
        if kind == "bare":
            engine = create_engine(database_url)
            with engine.begin() as connection:
                connection.execute(
                    text("CREATE TABLE bare_patient (id text PRIMARY KEY, nik text NOT NULL, content text)")
                )
                connection.execute(text("CREATE UNIQUE INDEX bare_patient_nik ON bare_patient (nik)"))
            engine.dispose()
        process, base_url = start_server(__file__, kind, database_url, SERVER_ENV, "/health")
        try:
            target = Target(kind, base_url, headers_for(base_url, database_url))
            results = {}
            for scenario in scenarios:
                run_load(target, scenario.warm_up, concurrency)
                analyze(database_url)
                results[scenario.name] = run_load(target, scenario.measured, concurrency)
        finally:
            process.terminate()
            process.wait(timeout=30)
        return Run(results, row_counts(database_url, WRITTEN_TABLES))


KINDS = ("product", "bare-equivalent", "bare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL; the bench makes its own databases")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per scenario and server")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--warm-up", type=int, default=200, help="unmeasured requests before each scenario")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        url = arguments.database_url
        engine = lambda: create_engine(url, pool_size=10, max_overflow=20)  # noqa: E731
        serve(arguments.serve, arguments.port, url, lambda: BARE_APPS[arguments.serve](engine()))
        return

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

    def with_token(base_url: str, database_url: str) -> dict[str, str]:
        headers["Authorization"] = f"Bearer {admin_token(base_url, database_url)}"
        return headers

    runs = {"product": measure("product", arguments.postgres, scenarios, arguments.concurrency, with_token)}
    # The bare apps get the same headers (the token included, unread): the requests are byte for byte alike.
    for kind in KINDS[1:]:
        runs[kind] = measure(kind, arguments.postgres, scenarios, arguments.concurrency, lambda _url, _db: headers)

    print("\n".join(machine_lines(arguments.postgres)))
    print(
        f"{arguments.requests} requests per scenario after {arguments.warm_up} warm-up, "
        f"concurrency {arguments.concurrency}, client and servers on this machine (loopback)"
    )
    print()
    print(f"{'scenario':<24}{'server':<17}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for scenario in scenarios:
        for kind, run in runs.items():
            result = run.measurements[scenario.name]
            print(
                f"{scenario.name:<24}{kind:<17}{result.throughput:>9.1f}{result.percentile(50):>9.1f}"
                f"{result.percentile(99):>9.1f}  {result.statuses_line()}"
            )
        product = runs["product"].measurements[scenario.name].throughput
        for kind in KINDS[1:]:
            ratio = product / runs[kind].measurements[scenario.name].throughput
            print(f"{'':<24}product/{kind} throughput {ratio:.2f}×")
    print()
    print("rows written (both scenarios, warm-up included):")
    print(f"  {'table':<18}{'product':>9}{'bare-equivalent':>17}")
    for table in WRITTEN_TABLES:
        product_rows, equivalent_rows = runs["product"].rows[table], runs["bare-equivalent"].rows[table]
        mark = "" if product_rows == equivalent_rows else "  differs"
        print(f"  {table:<18}{product_rows:>9}{equivalent_rows:>17}{mark}")
    unexpected = sum(
        count
        for scenario in scenarios
        for run in runs.values()
        for status, count in run.measurements[scenario.name].statuses.items()
        if status != scenario.expected_status
    )
    if unexpected:
        print(f"\n{unexpected} responses had an unexpected status: the numbers above are not comparable")


if __name__ == "__main__":
    main()
