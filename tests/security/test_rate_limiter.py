"""The token bucket itself, on a fake clock."""

from ilp_api.security.ratelimit import RateLimiter, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("a")
    assert wait is not None
    assert 0.99 < wait <= 1.0
    assert limiter.acquire("b") is None  # buckets are per key

    clock.now += 1.0
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None

    clock.now += 600  # refills to the burst, not beyond
    assert [limiter.acquire("a") for _ in range(4)][-1] is not None


def test_zero_rate_disables_limiting() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.acquire("a") is None for _ in range(100))


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.0) == "1"
    assert retry_after_header(1.2) == "2"
