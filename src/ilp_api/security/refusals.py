"""A bound on how often a client is told that an identifier it sent is registered outside its area.

Such a refusal (409, "already registered to a Patient outside your organization's area") answers whether a
NIK is registered anywhere; unlimited, any client could probe the whole register. Each client has a bucket of
``per_hour`` refusals that refills at ``per_hour`` an hour (``ratelimit.RateLimiter``); once it is empty, every
write of the client that claims such an identifier answers 429 with ``Retry-After``, whether or not the
identifier is taken. Counts are kept in memory, per process: with N workers a client gets N times the allowance.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ilp_api.fhir.outcome import TooManyRequests
from ilp_api.security.ratelimit import RateLimiter, retry_after_header

LIMIT_CODE = "batas-penolakan-identitas"


def refusals_per_client(per_hour: int, max_keys: int) -> "Callable[[str], ClientRefusals]":
    """Each client's allowance, by client id (``0`` per hour: unlimited); installed by create_app."""
    limiter = RateLimiter(per_minute=per_hour / 60, burst=max(per_hour, 1), max_keys=max_keys)
    return lambda client_id: ClientRefusals(limiter, client_id)


@dataclass(frozen=True)
class ClientRefusals:
    """One client's allowance, as the FHIR service consults it (``fhir.service.RefusalLimit``)."""

    limiter: RateLimiter
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
        self.limiter.acquire(self.client_id)
