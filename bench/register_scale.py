"""Search at register scale: Patients by NIK, name prefix and RW among a million, product vs. bare-equivalent.

Run: .venv/bin/python bench/register_scale.py [--postgres URL] [--patients N] [--requests N] [--concurrency 8 50]

Loads N Patients (default 1,000,000) into a database of its own with COPY: for each, the rows the product's write
builds (current and history row, every index row, the NIK claim), made by the product's own code
(``ResourceDefinition.index_values``, ``index_rows``, the unique-identifier rule), spread over the 16 kecamatan of
Kota Semarang, 8 kelurahan each, 10 RWs each. The tables' indexes are dropped for the load and rebuilt
identically afterwards. Then, as a client bound to the puskesmas of one kecamatan (1/16 of the residents) and
with ``_total=none``, it searches by NIK, by a name prefix and by RW through the product and through a
bare-equivalent FastAPI app (hand-written SQL on the same tables and indexes, the same scope, the same first
page, the same audit rows), at each concurrency in the same run, and prints throughput, p50 and p99, and the
key lines of ``EXPLAIN ANALYZE`` of each query. Performance is printed here, never asserted.
"""

import argparse
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import Engine, create_engine, event
from starlette.concurrency import run_in_threadpool

from harness import (
    DEFAULT_POSTGRES,
    SERVER_ENV,
    Measurement,
    Target,
    database_on,
    run_load,
    scratch_database,
    searchset_response,
)
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.demo.generate import encode_nik
from ilp_api.fhir.compartment import membership
from ilp_api.fhir.registry import normalise, registry
from ilp_api.fhir.repository import INDEX_TABLES, INDEX_VALUE_COLUMNS, index_rows
from ilp_api.fhir.service import unique_identifiers
from ilp_api.resources import load_resources
from ilp_api.resources.indonesia import ADMINISTRATIVE_CODE, NIK
from ilp_api.resources.organization import facility_type_system
from ilp_api.resources.patient import PATIENT
from ilp_api.security.clients import register_client
from ilp_api.settings import Settings
from ilp_api.wiring import build_pipeline
from servers import serve, start_server

KOTA = "3374"
KECAMATAN = [f"{KOTA}{n:02d}" for n in range(1, 17)]
VILLAGES_PER_KECAMATAN, RWS_PER_VILLAGE = 8, 10
SCOPED_KECAMATAN = KECAMATAN[5]  # the bench client's puskesmas serves this one
GIVEN = [
    "Agus",
    "Ahmad",
    "Andi",
    "Anisa",
    "Ayu",
    "Bambang",
    "Budi",
    "Dewi",
    "Dian",
    "Eko",
    "Endang",
    "Fajar",
    "Fitri",
    "Hadi",
    "Hendra",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
    "Lina",
    "Made",
    "Maya",
    "Mega",
    "Nur",
    "Nurul",
    "Putri",
    "Rahmat",
    "Ratna",
    "Rina",
    "Rizky",
    "Sari",
    "Siti",
    "Slamet",
    "Sri",
    "Sugeng",
    "Suharti",
    "Sutrisno",
    "Taufik",
    "Teguh",
    "Tri",
    "Wahyu",
    "Wati",
    "Widya",
    "Wulan",
    "Yanti",
    "Yudi",
    "Yuli",
    "Zainal",
]
FAMILY = [
    "Santoso",
    "Wijaya",
    "Saputra",
    "Pratama",
    "Hidayat",
    "Setiawan",
    "Kusuma",
    "Nugroho",
    "Susanto",
    "Purnomo",
    "Wibowo",
    "Handayani",
    "Rahayu",
    "Lestari",
    "Kurniawan",
    "Gunawan",
    "Siregar",
    "Nasution",
    "Harahap",
    "Simanjuntak",
    "Hutapea",
    "Sitompul",
    "Lubis",
    "Hasibuan",
    "Tanjung",
    "Wahyudi",
    "Suryani",
    "Permata",
    "Utami",
    "Anggraini",
]
PAGE = 20  # the product's default page size, and the bare-equivalent's LIMIT


# ---- the rows of one Patient, as the product's write builds them ----


def identity(serial: int) -> tuple[str, date, str]:
    """Sex, birth date and NIK of a serial: distinct NIKs, as the serial picks kecamatan, birth date, sex and the
    four last digits together."""
    kecamatan, rest = KECAMATAN[serial % len(KECAMATAN)], serial // len(KECAMATAN)
    sex = ("male", "female")[rest % 2]
    birth_date = date(1945, 1, 1) + timedelta(days=rest // 2 % 29_000)
    return sex, birth_date, encode_nik(kecamatan, birth_date, sex, f"{rest // 58_000 + 1:04d}")


def patient(serial: int, rng: random.Random, moment: datetime) -> dict[str, Any]:
    kecamatan = KECAMATAN[serial % len(KECAMATAN)]
    village = f"{kecamatan}{1001 + rng.randrange(VILLAGES_PER_KECAMATAN)}"
    rw = f"{1 + rng.randrange(RWS_PER_VILLAGE):03d}"
    sex, birth_date, nik = identity(serial)
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    codes = {"province": KOTA[:2], "city": KOTA, "district": kecamatan, "village": village, "rt": "001", "rw": rw}
    patient_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"versionId": "1", "lastUpdated": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")},
        "identifier": [{"system": NIK, "value": nik}],
        "active": True,
        "name": [{"use": "official", "text": f"{given} {family}", "family": family, "given": [given]}],
        "gender": sex,
        "birthDate": birth_date.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [f"Jl. Pemuda {serial % 300 + 1}"],
                "city": "Kota Semarang",
                "extension": [
                    {"url": ADMINISTRATIVE_CODE, "extension": [{"url": k, "valueCode": v} for k, v in codes.items()]}
                ],
            }
        ],
    }


# The loaded tables and their columns, in COPY order. A table the product's write comes to fill is one more line.
CURRENT = ("resource", ("resource_type", "id", "version_id", "last_updated", "deleted", "content"))
HISTORY = ("resource_version", ("resource_type", "id", "version_id", "last_updated", "deleted", "method", "content"))
CLAIMS = ("identifier_claim", ("resource_type", "system", "value", "resource_id"))
INDEXES = {
    kind: (table.name, ("resource_type", "resource_id", "param", *INDEX_VALUE_COLUMNS[kind]))
    for kind, table in INDEX_TABLES.items()
}
COMPARTMENT = ("patient_compartment", ("resource_type", "resource_id", "patient_id"))
PLACEMENT = ("patient_placement", ("patient_id", "managing_organization_id", "village", "rw"))
LOADED = (CURRENT, HISTORY, CLAIMS, *INDEXES.values(), COMPARTMENT, PLACEMENT)


def rows_of(data: dict[str, Any], moment: datetime) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(table, row) for every row the product's create of ``data`` writes."""
    content = orjson.dumps(data).decode()
    patient_id = data["id"]
    yield CURRENT[0], ("Patient", patient_id, 1, moment, False, content)
    yield HISTORY[0], ("Patient", patient_id, 1, moment, False, "POST", content)
    for token in unique_identifiers(PATIENT, data):
        yield CLAIMS[0], ("Patient", token.system, token.code, patient_id)
    for kind, rows in index_rows(PATIENT.index_values(data)).items():
        for row in rows:
            yield INDEXES[kind][0], ("Patient", patient_id, *row)
    member = membership(PATIENT, patient_id, data)
    assert member is not None
    assert member.placement is not None
    for member_of in sorted(member.patients):
        yield COMPARTMENT[0], ("Patient", patient_id, member_of)
    placed = member.placement
    yield PLACEMENT[0], (patient_id, placed.managing_organization_id, placed.village, placed.rw)


# ---- loading ----


def load(database_url: str, count: int, batch: int = 50_000) -> None:
    """COPY ``count`` Patients in, with the tables' indexes dropped meanwhile and rebuilt after."""
    started = time.perf_counter()
    rng = random.Random(8)
    first_moment = datetime(2025, 1, 1, tzinfo=UTC)
    with psycopg.connect(_driver_url(database_url), autocommit=True) as connection:
        rebuild = _drop_indexes(connection, [table for table, _ in LOADED])
        for start in range(0, count, batch):
            buffered: dict[str, list[tuple[Any, ...]]] = {table: [] for table, _ in LOADED}
            for serial in range(start, min(start + batch, count)):
                moment = first_moment + timedelta(seconds=serial * 7)
                for table, row in rows_of(patient(serial, rng, moment), moment):
                    buffered[table].append(row)
            with connection.transaction():
                for table, columns in LOADED:
                    with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in buffered[table]:
                            copy.write_row(row)
            done = min(start + batch, count)
            print(f"  loaded {done:>9,} Patients  {time.perf_counter() - started:6.0f} s", flush=True)
        connection.execute("SET maintenance_work_mem = '512MB'")
        for statement in rebuild:
            connection.execute(statement)  # type: ignore[arg-type]
        print(f"  indexes rebuilt        {time.perf_counter() - started:6.0f} s", flush=True)
        for table, _ in LOADED:
            connection.execute(f"VACUUM ANALYZE {table}")  # type: ignore[arg-type]
        print(f"  vacuumed and analyzed  {time.perf_counter() - started:6.0f} s", flush=True)


def _drop_indexes(connection: psycopg.Connection[Any], tables: list[str]) -> list[str]:
    """Drop the tables' primary keys and indexes; returns the statements that rebuild them as they were."""
    keys = connection.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)",
        [tables],
    ).fetchall()
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')",
        [tables],
    ).fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')  # type: ignore[arg-type]
    for table, name, _ in keys:
        connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')  # type: ignore[arg-type]
    rebuild = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in keys]
    return rebuild + [definition for _, definition in indexes]


def _driver_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


# ---- the scoped client ----


def organizations_and_client(database_url: str) -> tuple[str, str, str]:
    """A dinkes for the kota and a puskesmas for one kecamatan, created through the product, and a client bound to
    the puskesmas: its client id and secret, and the puskesmas's id."""
    load_resources()
    settings = Settings(database_url=database_url)
    database = Database(create_database_engine(database_url))
    pipeline = build_pipeline(database, registry, settings)
    kind_system = facility_type_system(settings.canonical_base)
    ids: list[str] = []
    with pipeline.unit_of_work(None, write=True) as unit:
        for kind, wilayah in (("dinkes", KOTA), ("puskesmas", SCOPED_KECAMATAN)):
            codes = {"province": KOTA[:2], "city": KOTA} | ({"district": wilayah} if len(wilayah) == 6 else {})
            organization = {
                "resourceType": "Organization",
                "active": True,
                "type": [{"coding": [{"system": kind_system, "code": kind}]}],
                "name": f"{kind.capitalize()} {wilayah}",
                "address": [
                    {
                        "use": "work",
                        "extension": [
                            {
                                "url": ADMINISTRATIVE_CODE,
                                "extension": [{"url": k, "valueCode": v} for k, v in codes.items()],
                            }
                        ],
                    }
                ],
            }
            if ids:
                organization["partOf"] = {"reference": f"Organization/{ids[-1]}"}
            definition = registry.get("Organization")
            assert definition is not None
            ids.append(pipeline.service.create(unit, definition, orjson.dumps(organization)).stored.id)
        client = register_client(unit.repository.session, "register bench", ids[-1], "system/Patient.rs")
    database.engine.dispose()
    return client.info.client_id, client.client_secret, ids[-1]


# ---- the bare-equivalent server ----

SCOPED_SEARCH_SQL = """\
WITH found AS (
    SELECT r.id, r.content FROM resource r
    WHERE r.resource_type = 'Patient' AND NOT r.deleted AND {condition}
        AND EXISTS (SELECT FROM patient_placement p WHERE p.patient_id = r.id
                    AND (p.village LIKE %(wilayah)s || '%%' OR p.managing_organization_id = ANY(%(subtree)s)))
    ORDER BY r.last_updated, r.id LIMIT {page}),
audited AS (
    INSERT INTO audit_event
        (id, recorded, interaction, action, outcome, status, client_id, organization_id, path, query)
    VALUES
        (%(audit_id)s, %(now)s, 'search-type', 'E', '0', 200, 'bench', %(organization)s, '/fhir/Patient', %(query)s)),
named AS (INSERT INTO audit_entity (audit_id, entity_type, entity_id) SELECT %(audit_id)s, 'Patient', id FROM found)
SELECT content FROM found"""
CONDITIONS = {
    "identifier": "EXISTS (SELECT FROM search_token t WHERE t.resource_type = 'Patient' AND t.resource_id = r.id "
    "AND t.param = 'identifier' AND t.code = %(code)s AND t.system = %(system)s)",
    "name": "EXISTS (SELECT FROM search_string s WHERE s.resource_type = 'Patient' AND s.resource_id = r.id "
    "AND s.param = 'name' AND s.value LIKE %(prefix)s || '%%')",
    "rw": "EXISTS (SELECT FROM search_token t WHERE t.resource_type = 'Patient' AND t.resource_id = r.id "
    "AND t.param = 'rw' AND t.code = %(code)s AND t.system = %(system)s)",
}
SEARCH_SQL = {name: SCOPED_SEARCH_SQL.format(condition=c, page=PAGE) for name, c in CONDITIONS.items()}


def search_parameters(name: str, value: str) -> dict[str, Any]:
    if name == "name":
        return {"prefix": normalise(value)}
    system, _, code = value.rpartition("|")
    return {"system": system, "code": code}


def bare_equivalent_app(engine: Engine, organization: str, subtree: list[str]) -> FastAPI:
    """The same scoped first page and audit rows in one hand-written statement per request, in autocommit."""
    app = FastAPI()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/fhir/Patient")
    async def search(request: Request) -> Response:
        name, value = next((k, v) for k, v in request.query_params.items() if k in CONDITIONS)
        parameters = search_parameters(name, value) | {
            "wilayah": SCOPED_KECAMATAN,
            "subtree": subtree,
            "organization": organization,
            "audit_id": str(uuid.uuid4()),
            "query": request.url.query,
        }

        def find() -> list[str]:
            with autocommit.connect() as connection:
                now = {"now": datetime.now(UTC)}
                return list(connection.exec_driver_sql(SEARCH_SQL[name], parameters | now).scalars())

        return searchset_response(await run_in_threadpool(find))

    return app


# ---- measuring ----


@dataclass(frozen=True)
class Search:
    name: str  # the search parameter
    values: list[str]


def searches(count: int, patients: int, rng: random.Random) -> list[Search]:
    """Values that lie in the scoped kecamatan: NIKs of its residents, name prefixes, its RWs."""
    residents = range(KECAMATAN.index(SCOPED_KECAMATAN), patients, len(KECAMATAN))
    niks = [f"{NIK}|{identity(rng.choice(residents))[2]}" for _ in range(count)]
    # As a user types a name: "Wulan San".
    prefixes = [f"{rng.choice(GIVEN)} {rng.choice(FAMILY)[:3]}" for _ in range(count)]
    villages = [f"{SCOPED_KECAMATAN}{1001 + v}" for v in range(VILLAGES_PER_KECAMATAN)]
    rws = [f"{rng.choice(villages)}|{1 + rng.randrange(RWS_PER_VILLAGE):03d}" for _ in range(count)]
    return [Search("identifier", niks), Search("name", prefixes), Search("rw", rws)]


def operations(search: Search) -> list[tuple[str, str, dict[str, str], None]]:
    return [("GET", "/fhir/Patient", {search.name: value, "_total": "none"}, None) for value in search.values]


def bearer_token(base_url: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{base_url}/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def explain(database_url: str, statement: str, parameters: Any) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, its results discarded: the plan's lines."""
    with psycopg.connect(_driver_url(database_url)) as connection:
        rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).fetchall()  # type: ignore[arg-type]
        connection.rollback()  # the bare-equivalent's statement inserts audit rows: not kept
    return [row[0] for row in rows]


def product_statement(database_url: str, client_id: str, secret: str, search: Search) -> tuple[str, Any]:
    """The SELECT the product runs for ``search``, captured from the product in this process."""
    from fastapi.testclient import TestClient

    from ilp_api.app import create_app

    app = create_app(Settings(database_url=database_url))
    captured: list[tuple[str, Any]] = []

    @event.listens_for(app.state.database.engine, "before_cursor_execute")
    def capture(_connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if not statement.lstrip().startswith("INSERT") and " LIMIT " in statement:  # the page's query
            captured.append((statement, parameters))

    with TestClient(app) as client:
        response = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        response.raise_for_status()
        found = client.get(
            "/fhir/Patient",
            params={search.name: search.values[0], "_total": "none"},
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        )
        found.raise_for_status()
    app.state.database.engine.dispose()
    return captured[-1]


KEY_PLAN_WORDS = ("Scan", "Join", "Limit", "Sort", "Execution Time", "Planning Time", "SubPlan", "Nested Loop")


def key_lines(plan: list[str]) -> list[str]:
    return [line for line in plan if any(word in line for word in KEY_PLAN_WORDS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL; the bench makes its own database")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per search, server, concurrency")
    parser.add_argument("--warm-up", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 50])
    parser.add_argument("--keep", action="store_true", help="keep the loaded database (its name is printed)")
    parser.add_argument("--loaded", metavar="DATABASE", help="search a database kept by an earlier run, no load")
    parser.add_argument("--serve", choices=("product", "bare-equivalent"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--organization", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        url = arguments.database_url
        organization = arguments.organization

        def bare() -> FastAPI:
            # The product's pool (db/engine.py), the organization as its own subtree (it has no children).
            return bare_equivalent_app(create_engine(url, pool_size=10, max_overflow=20), organization, [organization])

        serve(arguments.serve, arguments.port, url, bare)
        return

    if arguments.loaded:
        measure_searches(database_on(arguments.postgres, arguments.loaded), arguments)
        return
    with scratch_database(arguments.postgres, keep=arguments.keep) as database_url:
        print(f"loading {arguments.patients:,} Patients (COPY, indexes rebuilt after)", flush=True)
        load(database_url, arguments.patients)
        measure_searches(database_url, arguments)


def measure_searches(database_url: str, arguments: argparse.Namespace) -> None:
    client_id, secret, organization = organizations_and_client(database_url)
    rng = random.Random(9)
    measured = searches(arguments.warm_up + arguments.requests, arguments.patients, rng)
    results: dict[tuple[str, str, int], Measurement] = {}
    for kind in ("product", "bare-equivalent"):
        extra = ["--organization", organization]
        process, base_url = start_server(__file__, kind, database_url, SERVER_ENV, "/health", extra)
        try:
            if kind == "product":  # the bare-equivalent gets the same header, unread
                headers = {"Authorization": f"Bearer {bearer_token(base_url, client_id, secret)}"}
            target = Target(kind, base_url, headers)
            for search in measured:
                all_operations = operations(search)
                for concurrency in arguments.concurrency:
                    run_load(target, all_operations[: arguments.warm_up], concurrency)
                    results[(search.name, kind, concurrency)] = run_load(
                        target, all_operations[arguments.warm_up :], concurrency
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)

    print()
    print(f"{arguments.patients:,} Patients; client bound to the puskesmas of kecamatan {SCOPED_KECAMATAN}")
    print(f"{arguments.requests} requests per line after {arguments.warm_up} warm-up, _total=none, page {PAGE}")
    print(f"{'search':<12}{'clients':>8}  {'server':<17}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for search in measured:
        for concurrency in arguments.concurrency:
            for kind in ("product", "bare-equivalent"):
                result = results[(search.name, kind, concurrency)]
                print(
                    f"{search.name:<12}{concurrency:>8}  {kind:<17}{result.throughput:>9.1f}"
                    f"{result.percentile(50):>9.1f}{result.percentile(99):>9.1f}  {result.statuses_line()}"
                )
            product, bare = (results[(search.name, k, concurrency)] for k in ("product", "bare-equivalent"))
            print(
                f"{'':<22}product/bare-equivalent: throughput {product.throughput / bare.throughput:.2f}×, "
                f"p99 {product.percentile(99) / bare.percentile(99):.2f}×"
            )
    for search in measured:
        statement, parameters = product_statement(database_url, client_id, secret, search)
        bare_parameters = search_parameters(search.name, search.values[0]) | {
            "wilayah": SCOPED_KECAMATAN,
            "subtree": [organization],
            "organization": organization,
            "audit_id": str(uuid.uuid4()),
            "query": "",
            "now": datetime.now(UTC),
        }
        for kind, plan in (
            ("product", explain(database_url, statement, parameters)),
            ("bare-equivalent", explain(database_url, SEARCH_SQL[search.name], bare_parameters)),
        ):
            print(f"\nEXPLAIN ANALYZE, {search.name}={search.values[0]!r}, {kind}:")
            for line in key_lines(plan):
                print(f"  {line}")


if __name__ == "__main__":
    main()
