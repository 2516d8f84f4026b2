"""The simulator's in-memory state: its clients and tokens, the resources it holds with their identifiers, the
faults it is told to inject, and what it received. Ids are deterministic (counters), so a run can be replayed."""

import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from ilp_api.integrations.satusehat.protocol import IHS_NUMBER, NAKES_IHS_NUMBER, NIK, Json

FaultKind = Literal["status", "rate-limit", "hang"]
ID_NAMESPACE = uuid.UUID("5b0c3a5e-8a8e-4c55-9e43-0f6c1c9a7a11")


@dataclass(frozen=True)
class SimulatorClient:
    client_id: str
    client_secret: str
    organization_id: str


@dataclass
class Fault:
    """The next ``remaining`` requests (token and FHIR alike) answer ``status`` as text/plain, or 429 with
    ``Retry-After: seconds``, or are held ``seconds`` before being served."""

    kind: FaultKind
    remaining: int
    status: int = 503
    seconds: float = 0.0


# Seeded people (satusehat.md §11 gives the STG pair; the others are made up, in the same shapes).
SEED_PATIENTS: tuple[Json, ...] = (
    {
        "ihs": "P02478375538",
        "nik": "9271060312000001",
        "name": "Budi Santoso",
        "gender": "male",
        "birthDate": "2000-12-03",
    },
    {
        "ihs": "P00805310922",
        "nik": "3374014507900001",
        "name": "Siti Aminah",
        "gender": "female",
        "birthDate": "1990-07-05",
    },
    {
        "ihs": "P01234005511",
        "nik": "3374011204850003",
        "name": "Agus Wijaya",
        "gender": "male",
        "birthDate": "1985-04-12",
    },
)
SEED_PRACTITIONERS: tuple[Json, ...] = (
    {"ihs": "10009880728", "nik": "7209061211900001", "name": "dr. Alexander"},
    {"ihs": "10006926841", "nik": "3374015507900002", "name": "Sri Lestari, Amd.Keb."},
    {"ihs": "10018180913", "nik": "3374016803880001", "name": "Ns. Dewi Kartika"},
)
SEED_CLIENT = SimulatorClient("ilp-simulator", "ilp-simulator-secret", "100011")


class SimulatorState:
    def __init__(self, *, token_lifetime_seconds: int = 3599, strict_utc: bool = True) -> None:
        self.token_lifetime_seconds = token_lifetime_seconds
        self.strict_utc = strict_utc
        self.clients: dict[str, SimulatorClient] = {}
        self.tokens: dict[str, tuple[SimulatorClient, float]] = {}
        self.resources: dict[str, dict[str, Json]] = {}
        self.identifiers: dict[tuple[str, str, str], str] = {}
        self.counters: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.requests: list[Json] = []
        self.transactions: list[Json] = []
        self.add_client(SEED_CLIENT)
        for patient in SEED_PATIENTS:
            self.store(_seed_patient(patient))
        for practitioner in SEED_PRACTITIONERS:
            self.store(_seed_practitioner(practitioner))

    # ---- clients and tokens ----

    def add_client(self, client: SimulatorClient) -> None:
        """A client and the facility it is bound to (one client id = one Organization id)."""
        self.clients[client.client_id] = client
        if not self.exists(f"Organization/{client.organization_id}"):
            self.store(
                {
                    "resourceType": "Organization",
                    "id": client.organization_id,
                    "active": True,
                    "name": f"Fasyankes {client.organization_id}",
                }
            )

    def issue_token(self, client: SimulatorClient) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (client, time.monotonic() + self.token_lifetime_seconds)
        return token

    def client_of(self, token: str) -> SimulatorClient | None:
        held = self.tokens.get(token)
        if held is None or held[1] <= time.monotonic():
            return None
        return held[0]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # ---- faults ----

    def next_fault(self) -> Fault | None:
        while self.faults and self.faults[0].remaining <= 0:
            self.faults.pop(0)
        if not self.faults:
            return None
        self.faults[0].remaining -= 1
        return self.faults[0]

    # ---- resources ----

    def new_id(self, resource_type: str) -> str:
        self.counters[resource_type] += 1
        number = self.counters[resource_type]
        if resource_type == "Patient":
            return f"P{30000000000 + number}"
        return str(uuid.uuid5(ID_NAMESPACE, f"{resource_type}/{number}"))

    def exists(self, reference: str) -> bool:
        resource_type, _, resource_id = reference.partition("/")
        return resource_id in self.resources.get(resource_type, {})

    def get(self, resource_type: str, resource_id: str) -> Json | None:
        return self.resources.get(resource_type, {}).get(resource_id)

    def holder(self, resource_type: str, system: str, value: str) -> str | None:
        return self.identifiers.get((resource_type, system, value))

    def store(self, resource: Json) -> Json:
        """Keeps ``resource`` (which has its id) with a new version, and indexes its identifiers."""
        resource_type, resource_id = resource["resourceType"], resource["id"]
        previous = self.get(resource_type, resource_id)
        version = int(previous["meta"]["versionId"]) + 1 if previous else 1
        stamped = {**resource, "meta": {"versionId": str(version), "lastUpdated": _now()}}
        self.resources.setdefault(resource_type, {})[resource_id] = stamped
        for identifier in resource.get("identifier", []):
            if identifier.get("system") and identifier.get("value"):
                self.identifiers[(resource_type, identifier["system"], identifier["value"])] = resource_id
        return stamped

    def matching(self, resource_type: str, system: str, value: str) -> list[Json]:
        return [
            resource
            for resource in self.resources.get(resource_type, {}).values()
            if any(i.get("system") == system and i.get("value") == value for i in resource.get("identifier", []))
        ]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def _seed_patient(seed: Json) -> Json:
    return {
        "resourceType": "Patient",
        "id": seed["ihs"],
        "active": True,
        "identifier": [{"system": IHS_NUMBER, "value": seed["ihs"]}, {"system": NIK, "value": seed["nik"]}],
        "name": [{"use": "official", "text": seed["name"]}],
        "gender": seed["gender"],
        "birthDate": seed["birthDate"],
    }


def _seed_practitioner(seed: Json) -> Json:
    return {
        "resourceType": "Practitioner",
        "id": seed["ihs"],
        "active": True,
        "identifier": [{"system": NAKES_IHS_NUMBER, "value": seed["ihs"]}, {"system": NIK, "value": seed["nik"]}],
        "name": [{"use": "official", "text": seed["name"]}],
    }
