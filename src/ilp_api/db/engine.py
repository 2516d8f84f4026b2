"""Engine and session factories for the embedded SQLite default and for PostgreSQL.

SQLite allows one writer at a time. A write transaction that starts as a reader and later upgrades can fail
with "database is locked" without waiting, so write sessions begin with ``BEGIN IMMEDIATE``: they queue on
the busy timeout instead. PostgreSQL needs none of this.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from ilp_api.db.cancellation import CANCEL_TIMEOUT_SECONDS, make_cancellable

_WRITE = "ilp_write"


def create_database_engine(
    url: str, *, connect_timeout_seconds: int | None = None, statement_timeout_ms: int | None = None, **options: Any
) -> Engine:
    """``connect_timeout_seconds`` bounds connecting and waiting for a pooled connection, ``statement_timeout_ms``
    each statement (PostgreSQL; unset or 0: no bound). The service sets both; migrations and commands do not."""
    # Error messages never carry statement parameters: they are residents' data (UU 27/2022).
    options.setdefault("hide_parameters", True)
    if not url.startswith("sqlite"):
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        # No pre-ping: it costs a round trip per request. A connection found dead fails that one request and
        # makes SQLAlchemy discard the pool; recycling bounds how long idle connections are trusted.
        options.setdefault("pool_recycle", 600)
        connect_args: dict[str, Any] = {}
        if connect_timeout_seconds:
            connect_args["connect_timeout"] = connect_timeout_seconds
            options.setdefault("pool_timeout", connect_timeout_seconds)
        if statement_timeout_ms:
            connect_args["options"] = f"-c statement_timeout={statement_timeout_ms}"
        engine = create_engine(url, connect_args=connect_args, **options)
        make_cancellable(engine, lambda connection: partial(connection.cancel_safe, timeout=CANCEL_TIMEOUT_SECONDS))
        return engine

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)
    make_cancellable(engine, lambda connection: connection.interrupt)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Holds the engine and hands out read and write sessions, each one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(**{_WRITE: True}), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ping(self, timeout_ms: int) -> None:
        """One round trip, bounded by ``timeout_ms`` on PostgreSQL (connecting is bounded by the engine)."""
        with self.session(write=False) as session:
            if self.dialect == "postgresql":
                session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
            session.execute(text("SELECT 1"))

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any exception."""
        factory = self._write if write else self._read
        with factory() as session, session.begin():
            yield session
