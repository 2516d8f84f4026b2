"""A bound on how often a client is told that an identifier it sent is registered outside its area.

Such a refusal (409, "already registered to a Patient outside your organization's area") answers whether a
NIK is registered anywhere; unlimited, any client could probe the whole register. Each client may be refused
``per_hour`` times in any hour; after that every write of it that claims such an identifier answers 429 with
``Retry-After``, whether or not the identifier is taken, until its oldest refusal is an hour old. Counts are
kept in memory, per process (like ``ratelimit``): with N workers a client gets N times the allowance.
"""

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ilp_api.fhir.outcome import TooManyRequests
from ilp_api.security.ratelimit import retry_after_header

WINDOW_SECONDS = 3600.0
LIMIT_CODE = "batas-penolakan-identitas"


class RefusalLimiter:
    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_hour  # 0 disables the limit
        self._clock = clock
        # Keyed by client ids from verified tokens only: at most one entry per registered client.
        self._refusals: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # requests run in the thread pool

    def wait(self, client_id: str) -> float | None:
        """Seconds until ``client_id`` may be refused again; None while it has refusals left."""
        if self._limit == 0:
            return None
        now = self._clock()
        with self._lock:
            times = self._refusals.get(client_id)
            if times is None or len(times) < self._limit:
                return None
            wait = times[0] + WINDOW_SECONDS - now
            return wait if wait > 0 else None

    def record(self, client_id: str) -> None:
        if self._limit == 0:
            return
        with self._lock:
            # The last ``limit`` refusals are all the window needs: the oldest of them decides the wait.
            self._refusals.setdefault(client_id, deque(maxlen=self._limit)).append(self._clock())

    def for_client(self, client_id: str) -> "ClientRefusals":
        return ClientRefusals(self, client_id)


@dataclass(frozen=True)
class ClientRefusals:
    """One client's allowance, as the FHIR service consults it (``fhir.service.RefusalLimit``)."""

    limiter: RefusalLimiter
    client_id: str

    def check(self) -> None:
        wait = self.limiter.wait(self.client_id)
        if wait is not None:
            raise TooManyRequests(
                "This client was refused too many identifiers registered outside its organization's area within "
                "the hour; until the number of seconds in Retry-After has passed, its writes that register an "
                "identifier are refused. A resident who moved into your area is taken over with "
                "POST /fhir/Patient/$pindah-masuk",
                expression="identifier",
                ilp_code=LIMIT_CODE,
                headers={"Retry-After": retry_after_header(wait)},
            )

    def record(self) -> None:
        self.limiter.record(self.client_id)
