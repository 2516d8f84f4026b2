"""Bounded database work: on PostgreSQL a statement timeout answers 503 "timeout"; on both databases a client that
disconnects has its running statement cancelled.

A statement is made to run for as long as the test wants by holding a lock on the resource table from another
transaction: the service's search then waits on it (seen in pg_stat_activity) until it is cancelled.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from postgres_helpers import admin_headers, assert_unavailable, settings_for
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from factories import FHIR_JSON, patient_json
from ilp_api.app import create_app
from ilp_api.db.cancellation import run_in_threadpool_until_disconnect
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.errors import Unavailability, unavailability

# A statement that would run for hours: only an interrupt ends it.
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1e12) SELECT count(*) FROM n"
DEADLINE_SECONDS = 20  # bound on waiting for the database to reach a state; never reached when all is well
# The service's backends in the test's database whose statement waits on a lock.
WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


@contextmanager
def resource_table_locked(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Hold an exclusive lock on the resource table (every read of it waits) until the block ends."""
    with psycopg.connect(url.replace("+psycopg", "")) as holder:
        holder.execute("LOCK TABLE resource IN ACCESS EXCLUSIVE MODE")
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as observer:
            yield observer
        holder.rollback()


def wait_until(observer: psycopg.Connection[tuple[object, ...]], condition: str) -> list[object]:
    """Poll pg_stat_activity until ``condition`` (a query) returns rows; the rows."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        rows = [row[0] for row in observer.execute(condition).fetchall()]
        if rows:
            return rows
        time.sleep(0.05)
    pytest.fail(f"not reached within {DEADLINE_SECONDS} s: {condition}")


def test_a_statement_over_the_timeout_answers_503_and_is_audited(postgres_url: str) -> None:
    app = create_app(settings_for(postgres_url, statement_timeout_ms=300))
    try:
        with TestClient(app) as http:
            headers = admin_headers(app) | FHIR_JSON
            assert http.post("/fhir/Patient", json=patient_json(), headers=headers).status_code == 201
            with resource_table_locked(postgres_url):
                assert_unavailable(http.get("/fhir/Patient?gender=male", headers=headers), issue_code="timeout")
            assert http.get("/fhir/Patient?gender=male", headers=headers).status_code == 200
        with app.state.database.engine.connect() as connection:
            audited = connection.execute(text("SELECT interaction, status, outcome FROM audit_event ORDER BY recorded"))
            assert [tuple(row) for row in audited] == [
                ("create", 201, "0"),
                ("search-type", 503, "8"),
                ("search-type", 200, "0"),
            ]
    finally:
        app.state.database.engine.dispose()


@contextmanager
def served(app: FastAPI) -> Iterator[int]:
    """Uvicorn serving ``app`` on a free local port, in a thread; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, name="cancellation-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE_SECONDS)


def test_a_client_that_disconnects_has_its_statement_cancelled(postgres_url: str) -> None:
    app = create_app(settings_for(postgres_url, statement_timeout_ms=0))  # nothing but the disconnect ends it
    try:
        headers = admin_headers(app)
        with served(app) as port, resource_table_locked(postgres_url) as observer:
            request = (
                f"GET /fhir/Patient?gender=male HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {headers['Authorization']}\r\n\r\n"
            )
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(request.encode())
                (backend,) = wait_until(observer, WAITING)  # the search waits on the lock
            # The client has gone: its statement is cancelled, while the lock is still held.
            wait_until(observer, f"SELECT 1 WHERE NOT EXISTS ({WAITING})")
            state = observer.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()
            assert state is not None  # cancelled, not terminated: the backend lives on
            assert state[0] != "active"
    finally:
        app.state.database.engine.dispose()


def test_sqlite_work_is_interrupted_when_its_client_disconnects(tmp_path: Path) -> None:
    database = Database(create_database_engine(f"sqlite:///{tmp_path / 'ilp.db'}"))
    running = threading.Event()

    @event.listens_for(database.engine, "connect")
    def _signal_running(dbapi_connection: Any, _record: Any) -> None:
        def progress() -> int:
            running.set()
            return 0  # carry on (non-zero would abort the statement)

        # SQLite calls the progress handler every 1000 instructions of a running statement.
        dbapi_connection.set_progress_handler(progress, 1000)

    def endless_count() -> object:
        with database.session(write=False) as session:
            return session.execute(text(ENDLESS)).scalar()

    async def disconnect_once_running() -> dict[str, Any]:
        await anyio.to_thread.run_sync(running.wait)
        return {"type": "http.disconnect"}

    async def request() -> object:
        return await run_in_threadpool_until_disconnect(disconnect_once_running, endless_count)

    with pytest.raises(OperationalError, match="interrupted") as raised:
        anyio.run(request)
    assert unavailability(raised.value) is Unavailability.TIMEOUT
    database.engine.dispose()
