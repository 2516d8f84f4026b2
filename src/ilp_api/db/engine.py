"""Engine and session factories for the embedded SQLite default and for PostgreSQL.

SQLite allows one writer at a time. A write transaction that starts as a reader and later upgrades can fail
with "database is locked" without waiting, so write sessions begin with ``BEGIN IMMEDIATE``: they queue on
the busy timeout instead. PostgreSQL needs none of this.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "ilp_write"


def create_database_engine(url: str, **options: Any) -> Engine:
    # Error messages never carry statement parameters: they are residents' data (UU 27/2022).
    options.setdefault("hide_parameters", True)
    if not url.startswith("sqlite"):
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        # No pre-ping: it costs a round trip per request. A connection found dead fails that one request and
        # makes SQLAlchemy discard the pool; recycling bounds how long idle connections are trusted.
        options.setdefault("pool_recycle", 600)
        return create_engine(url, **options)

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)

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

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any exception."""
        factory = self._write if write else self._read
        with factory() as session, session.begin():
            yield session
