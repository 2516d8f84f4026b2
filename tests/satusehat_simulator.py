"""The SATUSEHAT simulator as tests talk to it: its URLs, its admin API (faults, what arrived) and a token."""

from dataclasses import dataclass

import httpx

from ilp_api.integrations.satusehat.simulator.app import AUTH, FHIR
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT


@dataclass(frozen=True)
class Simulator:
    base: str

    @property
    def auth_url(self) -> str:
        return self.base + AUTH

    @property
    def fhir_url(self) -> str:
        return self.base + FHIR

    def admin(self, method: str, path: str, **json: object) -> httpx.Response:
        response = httpx.request(method, f"{self.base}/admin/{path}", json=json or None)
        assert response.status_code < 300, response.text
        return response

    def inject(self, kind: str, count: int = 1, **details: object) -> None:
        self.admin("POST", "faults", kind=kind, count=count, **details)

    def resources(self, resource_type: str) -> list[dict[str, object]]:
        return self.admin("GET", f"resources/{resource_type}").json()  # type: ignore[no-any-return]

    def token(self) -> str:
        response = httpx.post(
            f"{self.auth_url}/accesstoken",
            params={"grant_type": "client_credentials"},
            data={"client_id": SEED_CLIENT.client_id, "client_secret": SEED_CLIENT.client_secret},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])
