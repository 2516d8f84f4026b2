"""Database work of a request stops when its client goes away.

The work runs in the thread pool while the event loop waits for the client's disconnect. Each connection the
work checks out is registered (an engine listener reads a context variable set in the work's thread), so the
running statement can be cancelled from outside: a cancel request to PostgreSQL (psycopg's ``cancel_safe``),
``interrupt()`` on SQLite. A statement the work would start after that is refused before it reaches the
database, and the work ends with the driver's error, its transaction rolled back.
"""

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine, event

T = TypeVar("T")
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

logger = logging.getLogger(__name__)

CANCEL_TIMEOUT_SECONDS = 5.0  # bound on sending PostgreSQL's cancel request (a connection of its own)
_SCOPE_KEY = "ilp_cancel_scope"


class WorkCancelled(Exception):
    """The client went away: the rest of its database work is not started."""


class CancelScope:
    """The connections one request's work holds, and whether that work has been cancelled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancels: dict[int, Callable[[], None]] = {}
        self.cancelled = False

    def enter(self, key: int, cancel: Callable[[], None]) -> None:
        with self._lock:
            self._cancels[key] = cancel

    def leave(self, key: int) -> None:
        with self._lock:
            self._cancels.pop(key, None)

    def cancel(self) -> None:
        """Blocking (PostgreSQL's cancel request is a network round trip): call it from a thread.

        The lock is held throughout: a connection is returned to the pool only after it has left the scope
        (the checkin listener runs first), so no cancel reaches a connection another request already uses.
        """
        with self._lock:
            self.cancelled = True
            for cancel in self._cancels.values():
                try:
                    cancel()
                except Exception:  # the database may be gone too; the work then fails on its own
                    logger.warning("could not cancel a statement of a disconnected client", exc_info=True)


_current_scope: ContextVar[CancelScope | None] = ContextVar(_SCOPE_KEY, default=None)


def make_cancellable(engine: Engine, cancel_of: Callable[[Any], Callable[[], None]]) -> None:
    """Register the connections checked out under a CancelScope; ``cancel_of(dbapi_connection)`` cancels one."""

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        scope = _current_scope.get()
        if scope is not None:
            scope.enter(id(record), cancel_of(dbapi_connection))
            record.info[_SCOPE_KEY] = scope

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        scope = record.info.pop(_SCOPE_KEY, None)
        if scope is not None:
            scope.leave(id(record))

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_when_cancelled(*_: Any) -> None:
        scope = _current_scope.get()
        if scope is not None and scope.cancelled:
            raise WorkCancelled("the client disconnected; the rest of its database work is not run")


async def run_in_threadpool_until_disconnect(receive: Receive, work: Callable[[], T]) -> T:
    """``work()`` in the thread pool; if the ASGI client disconnects first, its statements are cancelled.

    Call it once the request body has been read: the messages received meanwhile are not kept.
    """
    scope = CancelScope()

    def scoped() -> T:
        _current_scope.set(scope)  # the thread runs in a copy of the caller's context: only this work sees it
        return work()

    running = asyncio.ensure_future(anyio.to_thread.run_sync(scoped))
    watcher = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait((running, watcher), return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            await anyio.to_thread.run_sync(scope.cancel)
        return await running
    finally:
        watcher.cancel()


@contextmanager
def outside_cancellation() -> Iterator[None]:
    """Database work that must run even when the client has gone (the audit record of its failed request)."""
    token = _current_scope.set(None)
    try:
        yield
    finally:
        _current_scope.reset(token)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
