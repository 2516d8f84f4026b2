"""Per-client token buckets, in memory, per process.

Each client may make ``burst`` requests at once and ``per_minute`` sustained. Limits are per process: with
N workers a client can reach N times the rate, so set the limit per worker (a shared store such as Redis
would be needed for one global limit, and the project runs without one).
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60  # tokens per second; 0 disables limiting
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # sync dependencies run in the thread pool

    def acquire(self, key: str) -> float | None:
        """Takes one request from ``key``'s bucket: None when allowed, else the seconds until one is."""
        if self._rate == 0:
            return None
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(self._burst, now))
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return (1 - bucket.tokens) / self._rate


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After is whole seconds; round up so a client that waits that long is let in."""
    return str(max(1, math.ceil(wait_seconds)))
