"""Which database errors mean "unavailable, try again later" (503) rather than a defect (500)."""

from enum import Enum

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ilp_api.db.cancellation import WorkCancelled


class Unavailability(Enum):
    DOWN = "down"  # no connection: the server is unreachable, refusing connections, restarting, out of resources
    TIMEOUT = "timeout"  # the statement was cancelled: statement timeout, or its client went away


# PostgreSQL SQLSTATEs: class 08 connection exception, class 53 insufficient resources (disk full, out of
# memory, too many connections), 57P01-57P03 the server is shutting down or starting.
_DOWN_SQLSTATE_CLASSES = ("08", "53")
_DOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
_QUERY_CANCELED = "57014"
# SQLite primary result codes: BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN; INTERRUPT is our own cancellation.
_SQLITE_DOWN = frozenset({5, 6, 7, 10, 13, 14})
_SQLITE_INTERRUPT = 9


def unavailability(error: BaseException) -> Unavailability | None:
    """How ``error`` makes the database unavailable to this request, or None for any other error."""
    if isinstance(error, PoolTimeout):  # no pooled connection came free in time
        return Unavailability.DOWN
    if isinstance(error, WorkCancelled):
        return Unavailability.TIMEOUT
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:  # SQLAlchemy saw the connection die (and discarded the pool's others)
        return Unavailability.DOWN
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == _QUERY_CANCELED:
        return Unavailability.TIMEOUT
    if sqlstate is not None:
        return Unavailability.DOWN if sqlstate[:2] in _DOWN_SQLSTATE_CLASSES or sqlstate in _DOWN_SQLSTATES else None
    sqlite_code = getattr(error.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        primary = sqlite_code & 0xFF
        if primary == _SQLITE_INTERRUPT:
            return Unavailability.TIMEOUT
        return Unavailability.DOWN if primary in _SQLITE_DOWN else None
    # psycopg gives no SQLSTATE when it never got an answer: connection refused, timed out, lost.
    return Unavailability.DOWN if isinstance(error, OperationalError) else None
