"""A flood of wrong secrets against a real server (uvicorn in a child process): it stays live, memory bounded.

The failure limits are off in this server (``ILP_TOKEN_FAILURES_PER_MINUTE=0``), as for an attacker with many
addresses: every request reaches a secret check. The flood mixes unknown client ids, a client with a current
hash and a client still holding a legacy argon2 hash (64 MiB per check, so checked one at a time).
"""

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from argon2 import PasswordHasher
from security_helpers import MakeClient

from harness import free_port
from ilp_api.db.engine import Database
from ilp_api.security.repository import client as client_table

FLOOD = 50
LEGACY_ATTEMPTS = 5  # each takes a few hundred milliseconds of argon2; enough to keep the flood running
LIVENESS = "/health/live"


def _peak_rss_kib(pid: int) -> int:
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())[1])  # type: ignore[index]


class Server:
    def __init__(self, process: subprocess.Popen[bytes], base_url: str) -> None:
        self.process = process
        self.base_url = base_url


@pytest.fixture
def server(db: Database) -> Iterator[Server]:
    port = free_port()
    env = os.environ | {
        "ILP_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "ILP_JWT_KEYS": orjson.dumps([{"kid": "flood", "secret": secrets.token_urlsafe(32)}]).decode(),
        "ILP_LOG_LEVEL": "WARNING",
        "ILP_TOKEN_FAILURES_PER_MINUTE": "0",
    }
    command = [sys.executable, "-m", "uvicorn", "ilp_api.main:app", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(base_url + LIVENESS, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Server(process, base_url)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_wrong_secret_flood_leaves_the_server_live(server: Server, make_client: MakeClient, db: Database) -> None:
    current_id, _ = make_client(None, "ilp/admin")
    legacy_id, _ = make_client(None, "ilp/admin")
    with db.engine.begin() as connection:
        connection.execute(
            client_table.update()
            .where(client_table.c.client_id == legacy_id)
            .values(secret_hash=PasswordHasher().hash(secrets.token_urlsafe(32)))  # the library's defaults
        )
    others = FLOOD - LEGACY_ATTEMPTS
    client_ids = [legacy_id] * LEGACY_ATTEMPTS + [current_id] * (others // 2)
    client_ids += [secrets.token_hex(16) for _ in range(others - others // 2)]  # unknown ids
    peak_before = _peak_rss_kib(server.process.pid)

    statuses: list[int] = []
    answered = threading.Event()
    start = threading.Barrier(FLOOD + 1)

    def attempt(client_id: str) -> None:
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            start.wait()
            form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"}
            statuses.append(http.post("/oauth2/token", data=form).status_code)
            if len(statuses) == FLOOD:
                answered.set()

    threads = [threading.Thread(target=attempt, args=(client_id,)) for client_id in client_ids]
    for thread in threads:
        thread.start()
    start.wait()
    live = httpx.get(server.base_url + LIVENESS, timeout=60)
    flood_still_running = not answered.is_set()
    for thread in threads:
        thread.join()

    assert live.status_code == 200
    # Answered while the flood's legacy checks were still queued, not after it.
    assert flood_still_running
    assert statuses == [401] * FLOOD
    # Each argon2 check takes 64 MiB; one at a time, the flood adds at most about that much (it used to add
    # 64 MiB per concurrent request).
    assert _peak_rss_kib(server.process.pid) - peak_before < 192 * 1024
