"""The per-client bound on "identifier held outside your area" refusals, on a fake clock."""

import pytest

from ilp_api.fhir.outcome import TooManyRequests
from ilp_api.security.refusals import LIMIT_CODE, WINDOW_SECONDS, RefusalLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_refused_at_most_the_limit_in_any_hour() -> None:
    clock = FakeClock()
    limiter = RefusalLimiter(per_hour=3, clock=clock)
    for _ in range(3):
        assert limiter.wait("a") is None
        limiter.record("a")
        clock.now += 60
    assert limiter.wait("a") == pytest.approx(WINDOW_SECONDS - 180), "until the first refusal is an hour old"
    assert limiter.wait("b") is None, "counted per client"

    clock.now = 1000.0 + WINDOW_SECONDS  # the first refusal leaves the window, the other two stay
    assert limiter.wait("a") is None
    limiter.record("a")
    assert limiter.wait("a") == pytest.approx(60)


def test_the_clients_allowance_answers_429_with_retry_after() -> None:
    clock = FakeClock()
    allowance = RefusalLimiter(per_hour=1, clock=clock).for_client("a")
    allowance.check()
    allowance.record()
    clock.now += 1799.5

    with pytest.raises(TooManyRequests) as refused:
        allowance.check()

    assert refused.value.headers == {"Retry-After": "1801"}
    assert refused.value.ilp_code == LIMIT_CODE


def test_zero_disables_the_limit() -> None:
    limiter = RefusalLimiter(per_hour=0)
    for _ in range(100):
        limiter.record("a")
    assert limiter.wait("a") is None
