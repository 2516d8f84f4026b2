"""Helpers of the fixtures, for fixtures of any scope: emptying the database, minting tokens, a free port, a real
HTTP server."""

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from sqlalchemy import text
from uvicorn._types import ASGIApplication

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.schema import metadata
from ilp_api.security.repository import ClientRecord, ClientRepository
from ilp_api.security.tokens import KeyRing, TokenClaims
from ilp_api.settings import Settings
from ilp_api.wilayah.repository import forget_cached_state


def empty_database(database: Database) -> None:
    """Delete every row of every table, the append-only audit tables included."""
    forget_cached_state()
    tables = [table.name for table in metadata.sorted_tables]
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            # The audit tables' triggers refuse TRUNCATE: this transaction alone skips triggers (as superuser).
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
        else:
            # The audit tables' append-only triggers refuse DELETE: lift them for the cleanup only.
            triggers = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
            for table in reversed(tables):
                connection.execute(text(f"DELETE FROM {table}"))
            for _, sql in triggers:
                connection.execute(text(sql))


def mint_token(database: Database, settings: Settings, organization_id: str | None, scopes: str) -> str:
    """What ``issue_token`` does, for fixtures of a wider scope than one test."""
    client_id = f"test-{uuid.uuid4().hex[:12]}"
    record = ClientRecord(client_id, client_id, organization_id, scopes, "no-secret", utc_now(), None)
    with database.session(write=True) as session:
        ClientRepository(session).add(record)
    return KeyRing.from_settings(settings).issue(TokenClaims(client_id, organization_id, tuple(scopes.split())))


@contextmanager
def served(app: ASGIApplication, name: str) -> Iterator[str]:
    """``app`` served by uvicorn on a free port in a background thread; yields its base URL until the block ends."""
    port = free_port()
    # A request still hanging (a simulated outage) delays the shutdown by a second at most.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"{name} did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on, for a test's own server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
