"""What an attempt's answer does to its item: pure functions of the answer, the attempt and the clock."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ilp_api.integrations.outbox.destination import DeadLetter, Delivered, Delivery, DeliveryResult, RetryLater
from ilp_api.integrations.outbox.repository import Settlement

MAX_DOUBLINGS = 60  # beyond, the delay is long past any cap (and 2.0 ** n would overflow)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: the n-th retry waits between half and all of ``base · 2^(n-1)``, at most
    ``cap``, and never less than the destination's ``Retry-After``."""

    base_seconds: float
    cap_seconds: float

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """``attempt``: 1 for the first; ``jitter`` in [0, 1). Spreading retries apart keeps a destination that
        comes back from being hit by every waiting item at once."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** min(attempt - 1, MAX_DOUBLINGS))
        return max(ceiling * (1 + jitter) / 2, retry_after or 0.0)


def settlement(
    result: DeliveryResult, delivery: Delivery, now: datetime, backoff: Backoff, jitter: float
) -> Settlement:
    if isinstance(result, Delivered):
        return Settlement("delivered", note=result.note, remote_ids=result.remote_ids)
    if isinstance(result, RetryLater):
        wait = backoff.delay(delivery.attempts + 1, result.retry_after_seconds, jitter)
        return Settlement("failed", next_attempt_at=now + timedelta(seconds=wait), last_error=result.reason)
    if isinstance(result, DeadLetter):
        return Settlement("dead", last_error=result.reason, rule_numbers=result.rule_numbers, outcome=result.outcome)
    raise TypeError(f"a destination answered {result!r}, not Delivered, RetryLater or DeadLetter")
