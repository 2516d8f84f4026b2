"""A screening visit recorded through the product, next to a bare-equivalent FastAPI app on the same database driver.

Run: .venv/bin/python bench/visit_bench.py [--postgres URL] [--visits N] [--warm-up W]

The visit: a 45-year-old woman at Posyandu Melati (dinkes → puskesmas → pustu → posyandu), sent as one transaction
Bundle: an Encounter, eight Observations (blood pressure 150/95, weight, height, waist, random glucose, cholesterol,
haemoglobin, temperature) and an SRQ-20 QuestionnaireResponse. Evaluated on write, it adds seven classification
Observations, a referral to the puskesmas (ServiceRequest and its Task), three follow-up Tasks and a klaster-3
EpisodeOfCare, and the Encounter's second version pointing at them. Every visit has its own resident (seeded before
timing, each with one earlier weighing) and its own Encounter identifier.

Two servers, each uvicorn in a child process with identical settings, each on its own copy of one seeded database
``ilp_bench_<random>``, measured one after the other by the same client at 1 and at 8 concurrent connections:

- product: the real app, as an admin client (no organization scope).
- bare-equivalent: a FastAPI app on the same driver (psycopg 3, SQLAlchemy pool) that makes the same reads (the
  patient, the facility network, the patient's earlier weighings and active episodes) in one statement, runs the
  product's own evaluation (screening/hook.py's ``VisitEvaluation``: the ``ilp`` engine, ``derive``, the klaster
  episodes, the Encounter's link) with its reads answered from those rows, and writes every row the product writes
  (resources, versions, index rows, compartment rows, identifier claims, the transaction receipt, audit events and
  entities) in one statement: BEGIN and the read in one round trip, the write and COMMIT in another. No validation,
  no reference checks, no authentication: what the visit's storage and evaluation cost, and no more.

Before timing, two visits are recorded in this process through each app on its own copy, and the second one's rows
(per table and per resource type) and statements are counted: the rows must be equal, or the bench stops.
Performance is printed here, never asserted.
"""

import argparse
import hashlib
import os
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import Response
from psycopg.pq import PipelineStatus, TransactionStatus
from sqlalchemy import Engine, create_engine
from starlette.concurrency import run_in_threadpool

from harness import (
    DEFAULT_POSTGRES,
    FHIR_JSON,
    SERVER_ENV,
    CpuClock,
    Measurement,
    Operation,
    Target,
    admin_token,
    analyze,
    database_name,
    load_average,
    machine_lines,
    row_counts,
    run_load,
    scratch_database,
)
from ilp_api.app import create_app
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.demo.generate import encode_nik
from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.bundle import _resolve as resolve_references
from ilp_api.fhir.compartment import membership
from ilp_api.fhir.datatypes import UCUM
from ilp_api.fhir.in_memory import search_in_memory
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.registry import Json, Ref, registry
from ilp_api.fhir.repository import INDEX_TABLES, INDEX_VALUE_COLUMNS, index_rows
from ilp_api.fhir.search import parse_search
from ilp_api.fhir.service import unique_identifiers
from ilp_api.ilp.catalogue import BLOOD_PRESSURE_PANEL, BY_KEY, LOINC
from ilp_api.resources import load_resources
from ilp_api.resources.encounter import ACT_CODE
from ilp_api.resources.indonesia import ADMINISTRATIVE_CODE, NIK
from ilp_api.resources.organization import facility_type_system, rw_coverage_url
from ilp_api.screening.hook import VisitEvaluation
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from ilp_api.wiring import build_pipeline
from servers import serve, start_server

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

CANONICAL_BASE = Settings().canonical_base
VISIT_DAY = date(2026, 11, 3)
VISIT_IDENTIFIER = "https://posyandu-app.example/kunjungan"
CLIENTS = (1, 8)
KINDS = ("product", "bare-equivalent")

# ---- the facility network and the residents, seeded once through the product ----

KOTA, KECAMATAN, KELURAHAN, RW = "3374", "337401", "3374011001", "001"


@dataclass(frozen=True)
class Facility:
    id: str
    kind: str
    name: str
    wilayah: str


NETWORK = (  # each part of the one before it
    Facility("dinkes-kota-semarang", "dinkes", "Dinkes Kota Semarang", KOTA),
    Facility("puskesmas-pandanaran", "puskesmas", "Puskesmas Pandanaran", KECAMATAN),
    Facility("pustu-pekunden", "pustu", "Pustu Pekunden", KELURAHAN),
    Facility("posyandu-melati", "posyandu", "Posyandu Melati", KELURAHAN),
)
POSYANDU = NETWORK[-1]


def address(wilayah: str, rw: str | None = None, **elements: Any) -> Json:
    """An address coded with SATUSEHAT's administrativeCode: the wilayah and every level above it, and the RW."""
    levels = (("province", 2), ("city", 4), ("district", 6), ("village", 10))
    codes = [(level, wilayah[:digits]) for level, digits in levels if digits <= len(wilayah)]
    codes += [("rw", rw)] if rw else []
    extension = [{"url": ADMINISTRATIVE_CODE, "extension": [{"url": k, "valueCode": v} for k, v in codes]}]
    return {**elements, "extension": extension}


def facility(place: Facility, parent: Facility | None) -> Json:
    return {
        "resourceType": "Organization",
        "id": place.id,
        "active": True,
        "type": [{"coding": [{"system": facility_type_system(CANONICAL_BASE), "code": place.kind}]}],
        "name": place.name,
        "address": [address(place.wilayah, use="work")],
        **({"partOf": {"reference": f"Organization/{parent.id}"}} if parent else {}),
        **(
            {"extension": [{"url": rw_coverage_url(CANONICAL_BASE), "valueCode": RW}]}
            if place.kind == "posyandu"
            else {}
        ),
    }


def resident_id(number: int) -> str:
    return f"warga-{number:05d}"


def resident(number: int) -> Json:
    """A woman of 45 on the visit day living in the posyandu's RW, her NIK encoding birth date and sex."""
    born = date(1981, 1, 1) + timedelta(days=number % 300)
    return {
        "resourceType": "Patient",
        "id": resident_id(number),
        "identifier": [{"system": NIK, "value": encode_nik(KECAMATAN, born, "female", f"{number // 300 + 1:04d}")}],
        "active": True,
        "name": [{"use": "official", "family": "Lestari", "given": ["Warga", f"Nomor{number}"]}],
        "gender": "female",
        "birthDate": born.isoformat(),
        "address": [address(KELURAHAN, RW, use="home", line=[f"Jl. Melati {number % 90 + 1}"])],
        "managingOrganization": {"reference": f"Organization/{POSYANDU.id}"},
    }


def quantity(key: str, value: float) -> Json:
    """A catalogued measurement (ilp/catalogue.py): its LOINC code, its value in its UCUM unit."""
    measure = BY_KEY[key]
    return {
        "code": {"coding": [{"system": LOINC, "code": measure.code}]},
        "valueQuantity": {"value": value, "unit": measure.unit, "system": UCUM, "code": measure.unit},
    }


def observation(patient: str, measured: Json, when: str, **elements: Any) -> Json:
    return {
        "resourceType": "Observation",
        "status": "final",
        **measured,
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        **elements,
    }


def earlier_weighing(number: int) -> Json:
    """Her weight at last month's posyandu day: the history the evaluation reads."""
    return observation(resident_id(number), quantity("weight_kg", 67.5), "2026-10-06T08:10:00+07:00")


def seed(database_url: str, residents: int) -> None:
    """The network and ``residents`` residents with an earlier weighing each, through the product's service in one
    transaction, with fixed ids so that every copy of the database serves the same visit Bundles."""
    settings = Settings(database_url=database_url)
    database = Database(create_database_engine(database_url))
    pipeline = build_pipeline(database, registry, settings)

    def create(resource: Json) -> None:
        definition = registry.get(resource["resourceType"])
        assert definition is not None
        pipeline.service.create(unit, definition, orjson.dumps(resource), resource_id=resource.get("id"))

    with pipeline.unit_of_work(None, write=True) as unit:
        for place, parent in zip(NETWORK, (None, *NETWORK), strict=False):
            create(facility(place, parent))
        for number in range(residents):
            create(resident(number))
            create(earlier_weighing(number))
    database.engine.dispose()
    # Vacuumed and analyzed now, so that autovacuum has no reason to visit the database while it is copied.
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


# ---- the visit ----

MEASURED = (  # (catalogue key, value) of the visit's Observations; the blood pressure is a panel
    ("weight_kg", 68.0),
    ("height_cm", 155.0),
    ("waist_cm", 88.0),
    ("glucose_random", 160.0),
    ("cholesterol_total", 210.0),
    ("hemoglobin", 12.5),
    ("temperature_c", 36.7),
)
WEIGHT = BY_KEY["weight_kg"]  # her earlier weighings are the history the evaluation reads
SRQ20_YES = frozenset({1, 3, 5})  # headaches, poor sleep, worry: below the cut-off, and no item 17


def visit_bundle(number: int) -> bytes:
    """Resident ``number``'s visit as a kader app sends it: its entries linked by urn:uuid, its Encounter identified
    by the app's visit number."""
    patient, started = resident_id(number), f"{VISIT_DAY}T08:00:00+07:00"
    measured = f"{VISIT_DAY}T08:05:00+07:00"
    visit = f"urn:uuid:{uuid.UUID(int=number)}"
    encounter = {
        "resourceType": "Encounter",
        "identifier": [{"system": VISIT_IDENTIFIER, "value": f"K-{number:06d}"}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB"},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": started, "end": f"{VISIT_DAY}T08:20:00+07:00"},
        "serviceProvider": {"reference": f"Organization/{POSYANDU.id}"},
    }
    blood_pressure = {
        "code": {"coding": [{"system": LOINC, "code": BLOOD_PRESSURE_PANEL}]},
        "component": [quantity("systolic", 150), quantity("diastolic", 95)],
    }
    of_visit = {"encounter": {"reference": visit}}
    observations = [
        observation(patient, measurement, measured, **of_visit)
        for measurement in (blood_pressure, *(quantity(key, value) for key, value in MEASURED))
    ]
    srq20 = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{CANONICAL_BASE}/Questionnaire/srq-20",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient}"},
        "authored": f"{VISIT_DAY}T08:15:00+07:00",
        "item": [{"linkId": f"srq-{item}", "answer": [{"valueBoolean": item in SRQ20_YES}]} for item in range(1, 21)],
        **of_visit,
    }
    entries = [{"fullUrl": visit, "resource": encounter, "request": {"method": "POST", "url": "Encounter"}}]
    entries += [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.UUID(int=number), str(index))}",
            "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]},
        }
        for index, resource in enumerate((*observations, srq20))
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries})


def visits(numbers: range) -> list[Operation]:
    return [("POST", "/fhir", None, visit_bundle(number)) for number in numbers]


# ---- the bare-equivalent server ----

# The product's reads of a visit in one statement: the facility network above the visit's facility (through the
# partof index rows), the patient, her weighings and her active episodes (through their index rows, as the product's
# searches find them).
READ_SQL = """\
WITH RECURSIVE network (id, depth) AS (
    SELECT %(provider)s::text, 0
    UNION ALL
    SELECT up.target_id, network.depth + 1 FROM network
    JOIN search_reference up ON up.resource_type = 'Organization' AND up.resource_id = network.id
        AND up.param = 'partof' AND up.target_type = 'Organization'
    WHERE network.depth < 6),
hers (resource_type, id) AS (
    SELECT subject.resource_type, subject.resource_id FROM search_reference subject
    WHERE subject.resource_type IN ('Observation', 'EpisodeOfCare') AND subject.param = 'patient'
        AND subject.target_type = 'Patient' AND subject.target_id = %(patient)s),
related (resource_type, id) AS (
    SELECT 'Organization', id FROM network
    UNION ALL SELECT 'Patient', %(patient)s
    UNION ALL SELECT * FROM hers WHERE resource_type = 'Observation' AND EXISTS (
        SELECT FROM search_token t WHERE t.resource_type = 'Observation' AND t.resource_id = hers.id
            AND t.param = 'code' AND t.code = %(weight_code)s)
    UNION ALL SELECT * FROM hers WHERE resource_type = 'EpisodeOfCare' AND EXISTS (
        SELECT FROM search_token t WHERE t.resource_type = 'EpisodeOfCare' AND t.resource_id = hers.id
            AND t.param = 'status' AND t.code = 'active'))
SELECT r.content FROM related JOIN resource r USING (resource_type, id) WHERE NOT r.deleted"""

# The columns of every table a visit writes, in the order a row is given to ``Rows.add``, and their types.
WRITTEN_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "resource": (
        ("resource_type", "text"),
        ("id", "text"),
        ("version_id", "integer"),
        ("last_updated", "timestamptz"),
        ("deleted", "boolean"),
        ("content", "text"),
    ),
    "resource_version": (
        ("resource_type", "text"),
        ("id", "text"),
        ("version_id", "integer"),
        ("last_updated", "timestamptz"),
        ("deleted", "boolean"),
        ("method", "text"),
        ("content", "text"),
    ),
    **{
        table.name: tuple(
            (column, "timestamptz" if column in ("low", "high") else "text")
            for column in ("resource_type", "resource_id", "param", *INDEX_VALUE_COLUMNS[kind])
        )
        for kind, table in INDEX_TABLES.items()
    },
    "patient_compartment": (("resource_type", "text"), ("resource_id", "text"), ("patient_id", "text")),
    "identifier_claim": (("resource_type", "text"), ("system", "text"), ("value", "text"), ("resource_id", "text")),
    "transaction_receipt": (
        ("digest", "text"),
        ("client_id", "text"),
        ("received", "timestamptz"),
        ("entries", "text"),
    ),
    "audit_event": (
        ("id", "text"),
        ("recorded", "timestamptz"),
        ("interaction", "text"),
        ("action", "text"),
        ("outcome", "text"),
        ("status", "integer"),
        ("client_id", "text"),
        ("path", "text"),
    ),
    "audit_entity": (("audit_id", "text"), ("entity_type", "text"), ("entity_id", "text")),
}
# Every row of the visit in one statement: one data-modifying CTE per table, its rows given as one JSON array of
# objects (orjson and PostgreSQL's JSON parser are C; psycopg escapes the elements of a text array in Python).
WRITE_SQL = (
    "WITH "
    + ",\n".join(
        f"into_{table} AS (INSERT INTO {table} ({', '.join(name for name, _ in columns)}) "
        f"SELECT * FROM json_to_recordset(%({table})s::json) AS given ({', '.join(f'{n} {t}' for n, t in columns)}))"
        for table, columns in WRITTEN_COLUMNS.items()
    )
    + "\nSELECT 1"
)


class Rows:
    """The rows to write, by table, as ``WRITE_SQL`` takes them."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {table: [] for table in WRITTEN_COLUMNS}

    def add(self, table: str, *values: Any) -> None:
        self.tables[table].append(dict(zip((name for name, _ in WRITTEN_COLUMNS[table]), values, strict=True)))

    def parameters(self) -> dict[str, str]:
        return {table: orjson.dumps(rows).decode() for table, rows in self.tables.items()}


@dataclass
class RecordedVisit:
    """The product's rules' context as a write hook sees it, held in memory: the resources read for the visit and
    those it stores, by reference, and every version written, in order."""

    canonical_base: str
    now: datetime
    known: dict[Ref, Json] = field(default_factory=dict)
    versions: dict[Ref, list[Json]] = field(default_factory=dict)

    def read(self, reference: Ref) -> Json | None:
        return self.known.get(reference)

    def store(self, resource: Json) -> Json:
        """The resource as the product stores it: its version and time in ``meta``."""
        ref = Ref(resource["resourceType"], resource["id"])
        written = self.versions.setdefault(ref, [])
        stamp = self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
        stored = {**resource, "meta": {"versionId": str(len(written) + 1), "lastUpdated": stamp, **meta}}
        written.append(stored)
        self.known[ref] = stored
        return stored


class EvaluationInMemory(VisitEvaluation):
    """The product's evaluation of a visit (screening/hook.py), its searches answered from the resources in memory
    by the product's in-memory search, and what it stores kept for the one write."""

    def __init__(self, visit: RecordedVisit, encounter_id: str) -> None:
        super().__init__(SimpleNamespace(rules=visit), encounter_id)  # type: ignore[arg-type]
        self.visit = visit

    def search(self, resource_type: str, *query: tuple[str, str]) -> list[Json]:
        definition = registry.get(resource_type)
        assert definition is not None, resource_type
        request = parse_search(definition, query, registry, default_count=100, max_count=100, limits=Limits())
        candidates = [resource for ref, resource in self.visit.known.items() if ref.type == resource_type]
        return search_in_memory(candidates, request).matches

    def store(self, resource_type: str, resource: Json, *, create: bool) -> None:
        self.visit.store(resource)


def entry_ids(bundle: Json) -> dict[str, str]:
    """The id each entry's resource gets, by its urn:uuid fullUrl, as ``Type/id``."""
    return {
        entry["fullUrl"]: f"{entry['resource']['resourceType']}/{uuid.uuid4()}"
        for entry in bundle["entry"]
        if entry.get("fullUrl", "").startswith("urn:uuid:")
    }


def record_visit(bundle: Json, read_rows: Callable[[str, str], list[str]], now: datetime) -> RecordedVisit:
    """Store the Bundle's resources, read what the evaluation needs, evaluate; returns every version to write."""
    visit = RecordedVisit(CANONICAL_BASE, now)
    assigned = entry_ids(bundle)
    for index, entry in enumerate(bundle["entry"]):
        resource = resolve_references(entry["resource"], assigned, index)
        new_id = assigned.get(entry.get("fullUrl", ""), "").partition("/")[2] or str(uuid.uuid4())
        visit.store({**resource, "id": new_id})
    encounter = next(ref for ref in visit.versions if ref.type == "Encounter")
    content = visit.known[encounter]
    provider = content["serviceProvider"]["reference"].partition("/")[2]
    patient = content["subject"]["reference"].partition("/")[2]
    for row in read_rows(provider, patient):
        stored = fhir_json.loads(row.encode())
        visit.known.setdefault(Ref(stored["resourceType"], stored["id"]), stored)
    EvaluationInMemory(visit, encounter.id).run()
    return visit


def visit_rows(visit: RecordedVisit, bundle: Json, body: bytes) -> Rows:
    """Every row the product writes for the visit: each version and the current row of each resource, the current
    version's index, compartment and claim rows, the Bundle's receipt, and one audit event per entry."""
    rows = Rows()
    entries = []
    for ref, versions in visit.versions.items():
        definition = registry.get(ref.type)
        assert definition is not None
        current = versions[-1]
        for number, version in enumerate(versions, start=1):
            rows.add(
                "resource_version", *ref, number, visit.now, False, "POST" if number == 1 else "PUT", dumps(version)
            )
        rows.add("resource", *ref, len(versions), visit.now, False, dumps(current))
        for kind, index in index_rows(definition.index_values(current)).items():
            for row in index:
                rows.add(INDEX_TABLES[kind].name, *ref, *row)
        belongs = membership(definition, ref.id, current)
        for patient in sorted(belongs.patients) if belongs else ():
            rows.add("patient_compartment", *ref, patient)
        for claim in unique_identifiers(definition, current):
            rows.add("identifier_claim", ref.type, *claim, ref.id)
    for ref in list(visit.versions)[: len(bundle["entry"])]:  # the Bundle's own entries, in order
        entries.append([201, *ref, 1])
        audit_id = str(uuid.uuid4())
        rows.add("audit_event", audit_id, visit.now, "create", "C", "0", 201, "bench", f"/fhir/{ref.type}")
        rows.add("audit_entity", audit_id, *ref)
    digest = hashlib.sha256(body).hexdigest()
    rows.add("transaction_receipt", digest, "bench", visit.now, orjson.dumps(entries).decode())
    return rows


def dumps(resource: Json) -> str:
    return fhir_json.dumps(resource).decode()


def transaction_response(base: str, visit: RecordedVisit, entries: int) -> Json:
    """The product's answer: each entry's stored resource, status, ETag and location."""
    answered = []
    for ref, versions in list(visit.versions.items())[:entries]:
        full_url = f"{base}/{ref.type}/{ref.id}"
        answered.append(
            {
                "fullUrl": full_url,
                "resource": versions[0],
                "response": {
                    "status": "201 Created",
                    "etag": 'W/"1"',
                    "lastModified": visit.now.isoformat().replace("+00:00", "Z"),
                    "location": f"{full_url}/_history/1",
                },
            }
        )
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": answered}


def bare_equivalent_app(engine: Engine) -> FastAPI:
    """One transaction per visit in two round trips: BEGIN and the read, then the write and COMMIT, pipelined."""
    load_resources()
    app = FastAPI()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")  # BEGIN and COMMIT are sent by hand

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/fhir")
    async def transaction(request: Request) -> Response:
        body = await request.body()
        base = str(request.base_url).rstrip("/") + "/fhir"

        def record() -> bytes:
            bundle = fhir_json.loads(body)
            now = datetime.now(UTC)
            with autocommit.connect() as connection:
                driver = connection.connection.driver_connection
                assert isinstance(driver, psycopg.Connection)
                with driver.pipeline() as pipeline:

                    def read_rows(provider: str, patient: str) -> list[str]:
                        driver.execute("BEGIN")
                        parameters = {"provider": provider, "patient": patient, "weight_code": WEIGHT.code}
                        found = driver.execute(READ_SQL, parameters)
                        pipeline.sync()
                        return [row[0] for row in found.fetchall()]

                    visit = record_visit(bundle, read_rows, now)
                    driver.execute(WRITE_SQL, visit_rows(visit, bundle, body).parameters())
                    driver.execute("COMMIT")
            return fhir_json.dumps(transaction_response(base, visit, len(bundle["entry"])))

        return Response(await run_in_threadpool(record), media_type=FHIR_JSON)

    return app


# ---- one visit, counted: the rows it adds and the statements it sends ----


@dataclass
class Sent:
    """What psycopg sent: statements by their first keyword, and round trips."""

    statements: Counter[str] = field(default_factory=Counter)
    round_trips: int = 0


@dataclass(frozen=True)
class VisitCount:
    rows: dict[str, int]  # table → rows one visit added
    resources: Counter[str]  # resource type → resources one visit added
    sent: Sent


@contextmanager
def statements_sent() -> Iterator[Sent]:
    """What this process sends through psycopg while the block runs. Statements include the BEGIN and COMMIT psycopg
    sends by itself around a transaction; a statement outside a pipeline is a round trip, a pipeline one per sync,
    its end included."""
    sent = Sent()
    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit
    sync, end = psycopg.Pipeline.sync, psycopg.Pipeline.__exit__

    def counted_execute(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        connection = cursor.connection
        opens = not connection.autocommit and connection.info.transaction_status == TransactionStatus.IDLE
        sent.statements.update([*(["BEGIN"] if opens else []), str(query).split(None, 1)[0].upper()])
        if connection.info.pipeline_status == PipelineStatus.OFF:
            sent.round_trips += 2 if opens else 1
        return execute(cursor, query, *args, **kwargs)

    def counted_commit(connection: psycopg.Connection[Any]) -> None:
        if connection.info.transaction_status != TransactionStatus.IDLE:
            sent.statements["COMMIT"] += 1
            sent.round_trips += 1
        commit(connection)

    def counted_sync(pipeline: psycopg.Pipeline) -> None:
        sent.round_trips += 1
        sync(pipeline)

    def counted_end(pipeline: psycopg.Pipeline, *args: Any) -> None:
        sent.round_trips += 1
        end(pipeline, *args)

    patches = {
        (psycopg.Cursor, "execute"): counted_execute,
        (psycopg.Connection, "commit"): counted_commit,
        (psycopg.Pipeline, "sync"): counted_sync,
        (psycopg.Pipeline, "__exit__"): counted_end,
    }
    originals = {target: getattr(*target) for target in patches}
    for (owner, name), patched in patches.items():
        setattr(owner, name, patched)
    try:
        yield sent
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)


def count_one_visit(
    kind: str, server_url: str, template: str, bodies: tuple[bytes, bytes], tables: list[str]
) -> VisitCount:
    """Record two visits through ``kind`` in this process (its app under a test client), on a copy of the seeded
    database, and count what the second did: the first fills the caches a server keeps (the client's status, the
    compiled statements)."""
    with warnings.catch_warnings():  # that Starlette would rather it were used with httpx2: not this bench's concern
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with scratch_database(server_url, template=template) as database_url:
        if kind == "product":
            app = create_app(Settings(database_url=database_url))
            engine = app.state.database.engine
        else:
            engine = create_engine(database_url)
            app = bare_equivalent_app(engine)
        headers = {"Content-Type": FHIR_JSON}
        with TestClient(app) as client:
            if kind == "product":
                headers["Authorization"] = f"Bearer {in_process_token(client, database_url)}"
            first, second = bodies
            client.post("/fhir", content=first, headers=headers).raise_for_status()
            before, types_before = row_counts(database_url, tables), resource_types(database_url)
            with statements_sent() as sent:
                response = client.post("/fhir", content=second, headers=headers)
            response.raise_for_status()
            after, types_after = row_counts(database_url, tables), resource_types(database_url)
        engine.dispose()
        return VisitCount({table: after[table] - before[table] for table in tables}, types_after - types_before, sent)


def in_process_token(client: "TestClient", database_url: str) -> str:
    database = Database(create_database_engine(database_url))
    with database.session(write=True) as session:
        admin = register_client(session, "visit bench probe", None, ADMIN_SCOPE)
    database.engine.dispose()
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(admin.info.client_id, admin.client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def resource_types(database_url: str) -> Counter[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        counts = connection.exec_driver_sql("SELECT resource_type, count(*) FROM resource GROUP BY resource_type")
        found = Counter(dict(counts.all()))
    engine.dispose()
    return found


def all_tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
            "ORDER BY tablename"
        )
        names = list(tables.scalars())
    engine.dispose()
    return names


# ---- orchestration ----


@dataclass(frozen=True)
class Workload:
    """Every visit of a run, each of its own resident: the two counted before timing (the first only warms the
    caches up), the warm-up, then each line's."""

    counted: tuple[bytes, bytes]
    warm_up: list[Operation]
    measured: dict[int, list[Operation]]  # clients → visits

    @property
    def residents(self) -> int:
        return len(self.counted) + len(self.warm_up) + sum(len(line) for line in self.measured.values())


def workload(per_line: int, warm_up: int) -> Workload:
    counted = (visit_bundle(0), visit_bundle(1))
    first = len(counted) + warm_up
    lines = {clients: range(first + n * per_line, first + (n + 1) * per_line) for n, clients in enumerate(CLIENTS)}
    return Workload(
        counted,
        visits(range(len(counted), first)),
        {clients: visits(numbers) for clients, numbers in lines.items()},
    )


@dataclass(frozen=True)
class Line:
    """One client count's measurement, and the CPU the server and PostgreSQL used for it."""

    measurement: Measurement
    server_cpu_seconds: float
    database_cpu_seconds: float

    @property
    def server_cpu_ms_per_visit(self) -> float:
        return self.server_cpu_seconds / self.measurement.requests * 1000

    @property
    def database_cpu_ms_per_visit(self) -> float:
        return self.database_cpu_seconds / self.measurement.requests * 1000


@dataclass(frozen=True)
class Run:
    lines: dict[int, Line]  # clients → line
    rows: dict[str, int]  # table → rows after the run


def measure(kind: str, server_url: str, template: str, work: Workload, tables: list[str]) -> Run:
    """``kind`` served on a copy of the seeded database: warmed up, then measured at each client count."""
    with scratch_database(server_url, template=template) as database_url:
        process, base_url = start_server(__file__, kind, database_url, SERVER_ENV, "/health")
        try:
            headers = {"Content-Type": FHIR_JSON}
            if kind == "product":  # the bare-equivalent is sent the same headers but the token, which it would not read
                headers["Authorization"] = f"Bearer {admin_token(base_url, database_url)}"
            target = Target(kind, base_url, headers)
            run_load(target, work.warm_up, max(CLIENTS))
            analyze(database_url)
            lines = {}
            for clients in CLIENTS:
                clock = CpuClock.start(process.pid, database_url)
                measurement = run_load(target, work.measured[clients], clients)
                lines[clients] = Line(measurement, *clock.read())
        finally:
            process.terminate()
            process.wait(timeout=30)
        return Run(lines, row_counts(database_url, tables))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL; the bench makes its own databases")
    parser.add_argument("--visits", type=int, default=500, help="measured visits per server and client count")
    parser.add_argument("--warm-up", type=int, default=100, help="unmeasured visits per server, at 8 clients")
    parser.add_argument("--count-only", action="store_true", help="print what one visit writes and sends, then stop")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        url = arguments.database_url
        # The product's pool (db/engine.py) for the bare-equivalent.
        bare = lambda: bare_equivalent_app(create_engine(url, pool_size=10, max_overflow=20))  # noqa: E731
        serve(arguments.serve, arguments.port, url, bare)
        return

    load_at_start = load_average()
    os.environ.update(SERVER_ENV)  # the apps counted in this process are configured as the servers are
    load_resources()
    work = workload(arguments.visits, arguments.warm_up)
    with scratch_database(arguments.postgres) as seeded:
        print(f"seeding the network and {work.residents} residents, each with an earlier weighing", flush=True)
        seed(seeded, work.residents)
        template = database_name(seeded)
        tables = all_tables(seeded)
        counts = {kind: count_one_visit(kind, arguments.postgres, template, work.counted, tables) for kind in KINDS}
        written = report_one_visit(counts, tables)
        if arguments.count_only:
            return
        runs = {kind: measure(kind, arguments.postgres, template, work, written) for kind in KINDS}
    report(arguments, runs, written, load_at_start)


def report_one_visit(counts: dict[str, VisitCount], tables: list[str]) -> list[str]:
    """Print what one visit adds to each table and sends, through each server; stop when the rows differ. Returns
    the tables a visit writes."""
    product, bare = counts["product"], counts["bare-equivalent"]
    written = [table for table in tables if product.rows[table] or bare.rows[table]]
    print("one visit (the second of two), recorded in this process before timing, each server on a copy of the seed:")
    print(f"  {'rows added to':<22}{'product':>9}{'bare-equivalent':>17}")
    for table in written:
        mark = "" if product.rows[table] == bare.rows[table] else "  differs"
        print(f"  {table:<22}{product.rows[table]:>9}{bare.rows[table]:>17}{mark}")
    for kind, count in counts.items():
        print(f"  {kind} resources: " + ", ".join(f"{t} {n}" for t, n in sorted(count.resources.items())))
    print(f"  {'statements sent':<22}{product.sent.statements.total():>9}{bare.sent.statements.total():>17}")
    print(f"  {'round trips':<22}{product.sent.round_trips:>9}{bare.sent.round_trips:>17}")
    for kind, count in counts.items():
        print(f"  {kind} statements: " + ", ".join(f"{word} {n}" for word, n in count.sent.statements.most_common()))
    print(flush=True)
    differing = [table for table in written if product.rows[table] != bare.rows[table]]
    differing += ["resource types"] if product.resources != bare.resources else []
    if differing:
        raise SystemExit(f"The bare-equivalent does not write the product's rows ({', '.join(differing)}): no timing")
    return written


def report(arguments: argparse.Namespace, runs: dict[str, Run], tables: list[str], load_at_start: str) -> None:
    product, bare = runs["product"], runs["bare-equivalent"]
    machine, versions = machine_lines(arguments.postgres)
    print(f"{machine} at the end, {load_at_start} at the start\n{versions}")
    print(
        f"{arguments.visits} visits per line after {arguments.warm_up} warm-up visits, each a transaction Bundle of "
        "10 entries of its own resident; client and servers on this machine (loopback)"
    )
    print()
    print(" " * 53 + "CPU ms per visit")
    print(
        f"{'clients':>7}  {'server':<17}{'visits/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'server':>9}{'Postgres':>9}  statuses"
    )
    for clients in CLIENTS:
        for kind, run in runs.items():
            line = run.lines[clients]
            result = line.measurement
            print(
                f"{clients:>7}  {kind:<17}{result.throughput:>9.1f}{result.percentile(50):>9.1f}"
                f"{result.percentile(99):>9.1f}{line.server_cpu_ms_per_visit:>9.1f}"
                f"{line.database_cpu_ms_per_visit:>9.1f}  {result.statuses_line()}"
            )
        ratio = product.lines[clients].measurement.throughput / bare.lines[clients].measurement.throughput
        print(f"{'':>7}  product/bare-equivalent throughput {ratio:.2f}× (target ≥ 0.7×)")
    unequal = [table for table in tables if product.rows[table] != bare.rows[table]]
    print()
    print("rows after the run: " + ("equal in every table a visit writes" if not unequal else f"differ in {unequal}"))
    unexpected = sum(
        count
        for run in runs.values()
        for line in run.lines.values()
        for status, count in line.measurement.statuses.items()
        if status != 200
    )
    if unexpected:
        print(f"{unexpected} responses had an unexpected status: the numbers above are not comparable")


if __name__ == "__main__":
    main()
