"""The per-client bound on "identifier held outside your area" refusals, on a fake clock."""

import pytest

from ilp_api.fhir.outcome import TooManyRequests
from ilp_api.security.ratelimit import RateLimiter
from ilp_api.security.refusals import LIMIT_CODE, ClientRefusals


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def allowance(per_hour: int, clock: FakeClock, client_id: str = "a") -> ClientRefusals:
    return ClientRefusals(RateLimiter(per_minute=per_hour / 60, burst=per_hour, max_keys=10, clock=clock), client_id)


def test_a_client_is_refused_per_hour_then_answered_429_with_retry_after() -> None:
    clock = FakeClock()
    refusals = allowance(per_hour=3, clock=clock)
    for _ in range(3):
        refusals.check()
        refusals.record()

    with pytest.raises(TooManyRequests) as refused:
        refusals.check()

    assert refused.value.headers == {"Retry-After": "1200"}, "three an hour: the next one after twenty minutes"
    assert refused.value.ilp_code == LIMIT_CODE
    clock.now += 1200
    refusals.check()


def test_counted_per_client() -> None:
    clock = FakeClock()
    a = allowance(per_hour=1, clock=clock)
    b = ClientRefusals(a.limiter, "b")
    a.record()

    b.check()
    with pytest.raises(TooManyRequests):
        a.check()


def test_a_check_spends_nothing() -> None:
    refusals = allowance(per_hour=1, clock=FakeClock())
    for _ in range(5):
        refusals.check()


def test_zero_disables_the_limit() -> None:
    refusals = ClientRefusals(RateLimiter(per_minute=0, burst=1, max_keys=10), "a")
    for _ in range(100):
        refusals.record()
    refusals.check()
