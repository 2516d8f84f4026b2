"""A circuit breaker: after K consecutive failures of an outside system, refuse at once for a while instead of
making every request wait for its timeout; then let one call through to find out whether it is back."""

import threading
import time
from collections.abc import Callable


class BreakerOpen(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"open for another {retry_after:.1f} s")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(self, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    def admit(self) -> None:
        """Raise BreakerOpen while open; once the reset time has passed, admit a single trial call."""
        with self._lock:
            if self._opened_at is None:
                return
            remaining = self._opened_at + self.reset_seconds - self.clock()
            if remaining > 0 or self._trial_running:
                raise BreakerOpen(max(remaining, 0.0) or self.reset_seconds)
            self._trial_running = True

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._failures >= self.threshold or self._opened_at is not None:
                self._opened_at = self.clock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None
