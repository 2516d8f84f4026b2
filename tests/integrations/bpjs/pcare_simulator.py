"""The PCare simulator as the BPJS tests drive it: over its HTTP control API."""

import time
from dataclasses import dataclass

import httpx

from ilp_api.integrations.bpjs.breaker import CircuitBreaker
from ilp_api.integrations.bpjs.client import PcareClient


@dataclass
class Simulator:
    url: str

    def fault(self, kind: str, seconds: float = 3.0) -> None:
        httpx.put(f"{self.url}/_simulator/fault", json={"kind": kind, "seconds": seconds}).raise_for_status()

    def reply(self, case: str, http_status: int, code: int, message: str) -> None:
        body = {"http_status": http_status, "code": code, "message": message}
        httpx.put(f"{self.url}/_simulator/replies/{case}", json=body).raise_for_status()

    def requests_seen(self) -> int:
        return int(httpx.get(f"{self.url}/_simulator/requests").json()["requests"])

    def client(self, timeout: float = 2.0, breaker_failures: int = 5, clock_offset: float = 0.0) -> PcareClient:
        return PcareClient(
            self.url,
            timeout_seconds=timeout,
            breaker=CircuitBreaker(breaker_failures, reset_seconds=30),
            clock_skew_seconds=120,
            clock=lambda: time.time() + clock_offset,
        )
