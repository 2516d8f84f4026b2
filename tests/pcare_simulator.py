"""The PCare simulator as tests drive it: over its HTTP control API; and the API's settings pointing at it."""

import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from ilp_api.integrations.bpjs.breaker import CircuitBreaker
from ilp_api.integrations.bpjs.client import PcareClient
from ilp_api.integrations.bpjs.simulator.fixtures import SIMULATED_PPK, SIMULATOR_CREDENTIALS
from ilp_api.settings import Settings

BREAKER_FAILURES = 3


@dataclass
class Simulator:
    url: str

    def fault(self, kind: str, seconds: float = 3.0) -> None:
        httpx.put(f"{self.url}/_simulator/fault", json={"kind": kind, "seconds": seconds}).raise_for_status()

    def reply(self, case: str, http_status: int, code: int, message: str) -> None:
        body = {"http_status": http_status, "code": code, "message": message}
        httpx.put(f"{self.url}/_simulator/replies/{case}", json=body).raise_for_status()

    def reset(self) -> None:
        """Its members, replies and faults as they start (a session shares one simulator)."""
        httpx.post(f"{self.url}/_simulator/reset").raise_for_status()

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


def bpjs_settings(settings: Settings, simulator: Simulator, **overrides: Any) -> Settings:
    """``settings`` with BPJS on, at the simulator with its credentials, a short timeout and a small breaker."""
    credentials = SIMULATOR_CREDENTIALS
    return settings.model_copy(
        update={
            "bpjs_pcare_url": simulator.url,
            "bpjs_cons_id": credentials.cons_id,
            "bpjs_secret": SecretStr(credentials.secret),
            "bpjs_user_key": SecretStr(credentials.user_key),
            "bpjs_username": credentials.username,
            "bpjs_password": SecretStr(credentials.password),
            "bpjs_ppk_code": SIMULATED_PPK,
            "bpjs_timeout_seconds": 0.5,
            "bpjs_breaker_failures": BREAKER_FAILURES,
            "rate_limit_per_minute": 0,
            **overrides,
        }
    )
