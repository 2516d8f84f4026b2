"""Token buckets, in memory, per process: requests per client, and failed authentications at the token endpoint.

Each key may spend ``burst`` tokens at once and ``per_minute`` sustained. Limits are per process: with N workers
a key can reach N times the rate, so set the limit per worker (a shared store such as Redis would be needed for
one global limit, and the project runs without one).

A limiter remembers at most ``max_keys`` keys, forgetting the longest idle first: keys can come from anyone
(client ids sent to the token endpoint, source addresses), and memory must not grow with what an attacker sends.
A forgotten key starts again with a full bucket, as does a key idle long enough to have refilled.
"""

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self, per_minute: float, burst: int, max_keys: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = per_minute / 60  # tokens per second; 0 disables limiting
        self._burst = burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()  # sync dependencies run in the thread pool
        self.refusals = 0  # requests refused so far: tells which of several limiters refused

    def acquire(self, key: str) -> float | None:
        """Takes one token from ``key``'s bucket: None when allowed, else the seconds until one is."""
        if self._rate == 0:
            return None
        with self._lock:
            bucket = self._refilled(key)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            self.refusals += 1
            return (1 - bucket.tokens) / self._rate

    def wait(self, key: str) -> float | None:
        """Like ``acquire`` but takes nothing: None while ``key`` has a token, else the seconds until it has."""
        if self._rate == 0:
            return None
        with self._lock:
            bucket = self._refilled(key)
            return None if bucket.tokens >= 1 else (1 - bucket.tokens) / self._rate

    def refund(self, key: str) -> None:
        """Gives back a token taken by ``acquire`` for something that, in the end, does not count."""
        if self._rate == 0:
            return
        with self._lock:
            bucket = self._refilled(key)
            bucket.tokens = min(self._burst, bucket.tokens + 1)

    @property
    def tracked_keys(self) -> int:
        return len(self._buckets)

    def _refilled(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._burst, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        return bucket


class AuthenticationFailureLimiter:
    """Failed client authentications, limited per client id and per source address.

    Every attempt takes a token from both buckets before its secret is checked, and an attempt that did not fail
    (a success, or an error of the server's) gives them back: so only failures count, and concurrent attempts
    cannot overtake the limit while their checks are running. Limiting per client id stops guessing one client's
    secret from many addresses; per address stops one source from trying many ids. The price: while someone
    floods a client id with wrong secrets, that client itself is refused too, until the flood stops (a lockout,
    not a breach).
    """

    def __init__(self, per_minute: int, burst: int, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.by_client_id = RateLimiter(per_minute, burst, max_keys, clock)
        self.by_address = RateLimiter(per_minute, burst, max_keys, clock)

    def begin_attempt(self, client_id: str, address: str) -> float | None:
        """None when the attempt may go on; else the seconds to wait, and nothing was taken."""
        wait = self.by_client_id.acquire(client_id)
        if wait is not None:
            return wait
        wait = self.by_address.acquire(address)
        if wait is not None:
            self.by_client_id.refund(client_id)
        return wait

    def cancel_attempt(self, client_id: str, address: str) -> None:
        self.by_client_id.refund(client_id)
        self.by_address.refund(address)


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After is whole seconds; round up so a client that waits that long is let in."""
    return str(max(1, math.ceil(wait_seconds)))
