"""Memory and liveness of a server under a flood of wrong-secret token requests, product vs. bare FastAPI.

Run: .venv/bin/python bench/token_flood.py [--concurrency C] [--rounds R] [--legacy-connections L]

Each server is uvicorn in a child process on 127.0.0.1 (1 worker, access log off, logging at WARNING) over a
SQLite file built with the migrations in a temporary directory. C client threads, each with its own httpx
connection, start together and send R wrong-secret token requests each, while one more thread probes the
liveness endpoint back to back until the flood is answered. Printed per server: peak and current RSS of the
server before and after the flood, liveness latency idle and under the flood, and the flood's statuses.
Performance is printed here, never asserted.

Servers:
- product: the real app, its failure limits off (``ILP_TOKEN_FAILURES_PER_MINUTE=0``) as for an attacker with
  many addresses, so every request reaches a secret check; the flood spreads over unknown client ids and one
  client with a current (HMAC) hash.
- product, legacy hash: L of the C connections target a client that still holds an argon2 hash from before
  the HMAC format (the library's defaults, 64 MiB per check), the others unknown ids: such checks run one at a
  time, so this flood lasts L × R argon2 checks.
- bare: a FastAPI app whose token endpoint reads the form and answers 401 without checking anything.
"""

import argparse
import os
import platform
import re
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.security.clients import register_client
from ilp_api.security.repository import ClientRepository
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from servers import serve, start_server

# /health until the liveness endpoint /health/live exists on this branch.
LIVENESS = "/health/live"
SERVER_ENV = {
    "ILP_LOG_LEVEL": "WARNING",
    "ILP_TOKEN_FAILURES_PER_MINUTE": "0",
    "ILP_JWT_KEYS": orjson.dumps([{"kid": "bench", "secret": secrets.token_urlsafe(32)}]).decode(),
}

# ---- the servers, each run in a child process (``--serve product|bare``) ----


def bare_app() -> FastAPI:
    """The least a FastAPI service does for the same requests: read the form, refuse."""
    app = FastAPI()

    @app.get(LIVENESS)
    async def live() -> dict[str, str]:  # async, like the product's: neither waits for the thread pool
        return {"status": "ok"}

    @app.post("/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"error": "invalid_client", "error_description": "wrong secret"}, status_code=401)

    return app


# ---- measuring ----


def memory_kib(pid: int) -> tuple[int, int]:
    """(peak RSS, current RSS) of a process, from /proc (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    peak, current = (int(re.search(rf"{field}:\s+(\d+) kB", status)[1]) for field in ("VmHWM", "VmRSS"))  # type: ignore[index]
    return peak, current


@dataclass(frozen=True)
class Result:
    memory_before: tuple[int, int]
    memory_after: tuple[int, int]
    idle_ms: list[float]
    flood_ms: list[float]
    flood_seconds: float
    statuses: Counter[int]


def probe(client: httpx.Client) -> float:
    started = time.perf_counter()
    client.get(LIVENESS).raise_for_status()
    return (time.perf_counter() - started) * 1000


def flood(base_url: str, pid: int, client_ids: list[str], rounds: int, idle_probes: int) -> Result:
    with httpx.Client(base_url=base_url, timeout=300) as prober:
        idle_ms = [probe(prober) for _ in range(idle_probes)]
        memory_before = memory_kib(pid)
        statuses: list[int] = []
        done = threading.Event()
        start = threading.Barrier(len(client_ids) + 1)

        def attack(client_id: str) -> None:
            form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"}
            with httpx.Client(base_url=base_url, timeout=300) as http:
                start.wait()
                for _ in range(rounds):
                    statuses.append(http.post("/oauth2/token", data=form).status_code)

        threads = [threading.Thread(target=attack, args=(client_id,)) for client_id in client_ids]
        for thread in threads:
            thread.start()
        start.wait()
        started = time.perf_counter()
        waiter = threading.Thread(target=lambda: ([thread.join() for thread in threads], done.set()))
        waiter.start()
        flood_ms = []
        while not done.is_set():
            flood_ms.append(probe(prober))
        waiter.join()
        flood_seconds = time.perf_counter() - started
        memory_after = memory_kib(pid)
    return Result(memory_before, memory_after, idle_ms, flood_ms, flood_seconds, Counter(statuses))


# ---- orchestration ----


def measure(kind: str, database_url: str, client_ids: list[str], rounds: int, idle_probes: int) -> Result:
    process, base_url = start_server(
        __file__, "bare" if kind == "bare" else "product", database_url, SERVER_ENV, LIVENESS
    )
    try:
        return flood(base_url, process.pid, client_ids, rounds, idle_probes)
    finally:
        process.terminate()
        process.wait(timeout=30)


def known_clients(database_url: str) -> tuple[str, str]:
    """Two registered clients: one with a current hash, one given a legacy argon2 hash."""
    database = Database(create_database_engine(database_url))
    with database.session(write=True) as session:
        current = register_client(session, "flood current", None, ADMIN_SCOPE).info
        legacy = register_client(session, "flood legacy", None, ADMIN_SCOPE).info
    with database.session(write=True) as session:
        repository = ClientRepository(session)
        record = repository.get(legacy.client_id)
        assert record is not None
        argon2_hash = PasswordHasher().hash(secrets.token_urlsafe(32))
        repository.replace_secret_hash(legacy.client_id, record.secret_hash, argon2_hash)
    database.engine.dispose()
    return current.client_id, legacy.client_id


def milliseconds(values: list[float]) -> str:
    if not values:
        return "no probe"
    return f"p50 {statistics.median(values):7.1f}  max {max(values):7.1f}  ({len(values)} probes)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent wrong-secret connections")
    parser.add_argument("--rounds", type=int, default=5, help="wrong-secret requests per connection")
    parser.add_argument("--legacy-connections", type=int, default=10, help="connections to the argon2 client")
    parser.add_argument("--idle-probes", type=int, default=20, help="liveness requests before the flood")
    parser.add_argument("--serve", choices=("product", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.port, arguments.database_url, bare_app)
        return

    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'ilp.db'}"
        upgrade(database_url)
        current_id, legacy_id = known_clients(database_url)
        unknown = [secrets.token_hex(16) for _ in range(arguments.concurrency)]
        half = arguments.concurrency // 2
        legacy = arguments.legacy_connections
        floods = {
            "product": unknown[half:] + [current_id] * half,
            "product, legacy hash": unknown[legacy:] + [legacy_id] * legacy,
            "bare": unknown[half:] + [current_id] * half,
        }
        results = {
            kind: measure(kind, database_url, client_ids, arguments.rounds, arguments.idle_probes)
            for kind, client_ids in floods.items()
        }

    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"python {platform.python_version()}, uvicorn {uvicorn.__version__}, httpx {httpx.__version__}, SQLite")
    print(
        f"{arguments.concurrency} concurrent connections × {arguments.rounds} wrong-secret token requests "
        f"(product and bare: half to unknown client ids, half to a known one; legacy: {arguments.legacy_connections} "
        f"connections to the argon2 client), liveness probed on {LIVENESS}; client and servers on this machine"
    )
    for kind, result in results.items():
        (peak_before, rss_before), (peak_after, rss_after) = result.memory_before, result.memory_after
        statuses = ", ".join(f"{status}×{count}" for status, count in sorted(result.statuses.items()))
        print()
        print(f"{kind}")
        print(f"  peak RSS MiB    before {peak_before / 1024:7.1f}   after {peak_after / 1024:7.1f}")
        print(f"  current RSS MiB before {rss_before / 1024:7.1f}   after {rss_after / 1024:7.1f}")
        print(f"  liveness ms idle   {milliseconds(result.idle_ms)}")
        print(f"  liveness ms flood  {milliseconds(result.flood_ms)}")
        print(f"  flood answered in {result.flood_seconds:.2f} s: {statuses}")
    product, bare = (statistics.median(results[kind].flood_ms or [float("nan")]) for kind in ("product", "bare"))
    growth = [(results[kind].memory_after[0] - results[kind].memory_before[0]) / 1024 for kind in ("product", "bare")]
    print()
    print(f"product/bare liveness p50 under the flood {product / bare:.2f}×")
    print(f"peak RSS growth during the flood: product {growth[0]:.1f} MiB, bare {growth[1]:.1f} MiB")


if __name__ == "__main__":
    main()
