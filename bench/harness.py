"""What the HTTP benches against PostgreSQL share: the product's settings, scratch databases, the client load and
the machine line, so that every bench measures its servers the same way."""

import itertools
import os
import platform
import secrets
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import orjson
import psycopg
import uvicorn
from cryptography.fernet import Fernet
from fastapi.responses import Response
from psycopg import sql
from sqlalchemy import create_engine

from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
FHIR_JSON = "application/fhir+json"
# The product is measured as deployed (with a signing key, as production requires), minus limits meant for
# clients: a bench is one client sending thousands of requests, and a run may outlast a token's lifetime.
SERVER_ENV = {
    # Production: no built-in simulators, so SATUSEHAT is off (no delivery queued per visit) as it is on a deployment
    # that has not configured it; a production deployment needs its keys.
    "ILP_ENVIRONMENT": "production",
    "ILP_CREDENTIALS_KEY": Fernet.generate_key().decode(),
    "ILP_LOG_LEVEL": "WARNING",
    "ILP_RATE_LIMIT_PER_MINUTE": "0",
    "ILP_TOKEN_LIFETIME_SECONDS": "3600",
    "ILP_JWT_KEYS": orjson.dumps([{"kid": "bench", "secret": secrets.token_urlsafe(32)}]).decode(),
}


# ---- databases ----


@contextmanager
def scratch_database(server_url: str, *, keep: bool = False, template: str | None = None) -> Iterator[str]:
    """A new database on the server with the migrations applied, or a copy of ``template`` (a database nobody is
    connected to); its URL, dropped afterwards (also after an error) unless ``keep``."""
    name = f"ilp_bench_{uuid.uuid4().hex[:10]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as connection:
        for attempt in range(30):  # autovacuum may be visiting the template for a moment
            try:
                connection.execute(create)
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 29:
                    raise
                time.sleep(1)
    try:
        if template is None:
            upgrade(database_on(server_url, name))
        yield database_on(server_url, name)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(server_url, autocommit=True) as connection:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_on(server_url: str, name: str) -> str:
    """The product's URL of database ``name`` on the server of ``server_url``."""
    return Settings(database_url=server_url.rsplit("/", 1)[0] + f"/{name}").database_url


def database_name(database_url: str) -> str:
    return database_url.rsplit("/", 1)[1].split("?")[0]


def plain_url(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy one (``postgresql+psycopg://`` → ``postgresql://``)."""
    return database_url.replace("+psycopg", "", 1)


def analyze(database_url: str) -> None:
    """Table statistics, as autovacuum keeps them on a database in use: a table never analyzed is planned as if
    nearly empty, and a search by NIK then walks every Patient (28 ms instead of 0.1 ms at 200 Patients)."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def row_counts(database_url: str, tables: Iterable[str]) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        counts = {table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() for table in tables}
    engine.dispose()
    return counts


def admin_token(base_url: str, database_url: str) -> str:
    """A bearer token of a new admin client (no organization scope) of the product serving at ``base_url``."""
    database = Database(create_database_engine(database_url))
    with database.session(write=True) as session:
        admin = register_client(session, "bench", None, ADMIN_SCOPE)
    database.engine.dispose()
    response = httpx.post(
        f"{base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(admin.info.client_id, admin.client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# ---- CPU time, from /proc (Linux) ----


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, all its threads together; 0 for one that has gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15


def backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving connections to the database (on this machine)."""
    with psycopg.connect(plain_url(database_url), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database_name(database_url),),
        ).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class CpuClock:
    """CPU time used by a server process and by the PostgreSQL processes serving its database, from one moment on."""

    pid: int
    database_url: str
    server_start: float
    database_start: dict[int, float]

    @classmethod
    def start(cls, pid: int, database_url: str) -> "CpuClock":
        backends = {backend: process_cpu_seconds(backend) for backend in backend_pids(database_url)}
        return cls(pid, database_url, process_cpu_seconds(pid), backends)

    def read(self) -> tuple[float, float]:
        """Seconds of CPU since the start: (server, PostgreSQL). A connection opened since counts from its start."""
        database = sum(
            process_cpu_seconds(backend) - self.database_start.get(backend, 0.0)
            for backend in backend_pids(self.database_url)
        )
        return process_cpu_seconds(self.pid) - self.server_start, database


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

    def statuses_line(self) -> str:
        return ", ".join(f"{status}×{count}" for status, count in sorted(self.statuses.items()))


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


def searchset_response(contents: list[str]) -> Response:
    """A bare app's answer to a search: the matches as a searchset Bundle, their stored JSON as it is."""
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(contents),
        "entry": [{"resource": orjson.Fragment(content), "search": {"mode": "match"}} for content in contents],
    }
    return Response(orjson.dumps(bundle), media_type=FHIR_JSON)


# ---- the report ----


def machine_lines(server_url: str) -> list[str]:
    """The machine and the versions that a run's numbers depend on."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        server_version = connection.info.server_version
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.platform()}, load average {load_average()}",
        f"python {platform.python_version()}, uvicorn {uvicorn.__version__}, httpx {httpx.__version__}, "
        f"PostgreSQL {server_version // 10000}.{server_version % 10000}, psycopg {psycopg.__version__}",
    ]


def load_average() -> str:
    """Over the last 1, 5 and 15 minutes: other work on the machine takes CPU from the servers and the client."""
    return ", ".join(f"{average:.2f}" for average in os.getloadavg())


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"
