"""The token bucket and the failure limiter of the token endpoint, on a fake clock."""

from ilp_api.security.ratelimit import AuthenticationFailureLimiter, RateLimiter, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=3, max_keys=100, clock=clock)
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
    limiter = RateLimiter(per_minute=0, burst=1, max_keys=1)
    assert all(limiter.acquire("a") is None for _ in range(100))
    assert limiter.tracked_keys == 0


def test_refusals_are_counted() -> None:
    limiter = RateLimiter(per_minute=1, burst=2, max_keys=10, clock=FakeClock())
    for _ in range(5):
        limiter.acquire("a")
    assert limiter.refusals == 3


def test_refund_gives_a_token_back_up_to_the_burst() -> None:
    limiter = RateLimiter(per_minute=1, burst=2, max_keys=10, clock=FakeClock())
    limiter.refund("a")  # a full bucket stays at the burst
    assert [limiter.acquire("a") for _ in range(3)][:2] == [None, None]
    limiter.refund("a")
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None


def test_memory_is_bounded_by_max_keys_forgetting_the_longest_idle() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_keys=3, clock=FakeClock())
    limiter.acquire("kept")
    for index in range(10_000):  # an attacker's random client ids
        limiter.acquire(f"random-{index}")
        limiter.acquire("kept")  # used all along: never the longest idle
    assert limiter.tracked_keys == 3
    assert limiter.acquire("kept") is not None  # still remembered as exhausted
    assert limiter.acquire("random-0") is None  # forgotten: starts again with a full bucket


def test_failure_limiter_counts_per_client_id_and_per_address() -> None:
    limiter = AuthenticationFailureLimiter(per_minute=1, burst=2, max_keys=100, clock=FakeClock())
    # Two failures of one client id from two addresses exhaust the client id, not the addresses.
    assert limiter.begin_attempt("client", "10.0.0.1") is None
    assert limiter.begin_attempt("client", "10.0.0.2") is None
    assert limiter.begin_attempt("client", "10.0.0.3") is not None
    assert limiter.begin_attempt("other", "10.0.0.1") is None
    # 10.0.0.1 has now failed twice, with two ids: a third id from it is refused, from elsewhere not.
    assert limiter.begin_attempt("third", "10.0.0.1") is not None
    assert limiter.begin_attempt("third", "10.0.0.4") is None


def test_refused_attempt_takes_nothing_and_cancelled_attempts_do_not_count() -> None:
    limiter = AuthenticationFailureLimiter(per_minute=1, burst=2, max_keys=100, clock=FakeClock())
    for _ in range(10):  # successes give their tokens back
        assert limiter.begin_attempt("client", "10.0.0.1") is None
        limiter.cancel_attempt("client", "10.0.0.1")
    limiter.begin_attempt("a", "10.0.0.9")
    limiter.begin_attempt("b", "10.0.0.9")
    for _ in range(5):  # refused by the address: the client id's token is given back each time
        assert limiter.begin_attempt("client", "10.0.0.9") is not None
    assert limiter.begin_attempt("client", "10.0.0.1") is None
    assert limiter.begin_attempt("client", "10.0.0.1") is None


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.0) == "1"
    assert retry_after_header(1.2) == "2"
