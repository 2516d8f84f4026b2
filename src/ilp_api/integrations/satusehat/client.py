"""An async SATUSEHAT client (httpx): tokens as documented, cached per credential, and every answer classified.

shared/reference/satusehat.md §2 (token), §4 (Patient, Practitioner, Organization, Location), §5 (transaction),
§7-§9 (errors, duplicates, retries). The client never raises for what SATUSEHAT answers: each call returns the
value asked for, a ``Refused`` (4xx: the OperationOutcome and its RuleNumbers) or a ``Transient`` (408, 429, 5xx,
transport errors, timeouts: worth retrying, after ``retry_after`` seconds when the server said so). Retrying is
the outbox worker's; the client only refreshes a token once on a 401.
"""

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ilp_api.integrations.satusehat.protocol import (
    DUPLICATE,
    NAKES_IHS_NUMBER,
    NIK,
    NIK_IBU,
    ORGANIZATION_TYPE,
    Json,
    business_id_system,
    rule_numbers,
)

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TOKEN_MARGIN_SECONDS = 60  # a cached token is dropped this long before SATUSEHAT says it expires (§2)
EXISTING_ID = re.compile(r"Found duplicate resource: ?(\w+)/([A-Za-z0-9\-.]+)")


@dataclass(frozen=True)
class SatusehatCredential:
    """One SATUSEHAT client: its id and secret, bound to one SATUSEHAT Organization id (§2)."""

    client_id: str
    client_secret: str = field(repr=False)
    organization_id: str


@dataclass(frozen=True)
class Accepted:
    status: int
    body: Json | None


@dataclass(frozen=True)
class Refused:
    """A 4xx: not to be retried as it is. ``outcome`` is the OperationOutcome as received (None when the body was
    not one)."""

    status: int
    message: str
    outcome: Json | None = None
    rule_numbers: tuple[str, ...] = ()

    @property
    def duplicate(self) -> bool:
        """20002: the identifier is registered already, so what was sent is there (§8)."""
        return DUPLICATE in self.rule_numbers

    @property
    def existing_id(self) -> str | None:
        """The id of the resource a 20002 names, when its message names one."""
        for issue in (self.outcome or {}).get("issue", []):
            found = EXISTING_ID.search(str(issue.get("details", {}).get("text", "")))
            if found:
                return found.group(2)
        return None


@dataclass(frozen=True)
class Transient:
    reason: str
    retry_after: float | None = None


Failure = Refused | Transient
Answer = Accepted | Failure


class RateLimiter:
    """A token bucket per credential: ``per_minute`` sustained, ``burst`` at once; a request waits its turn."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute
        self.burst = burst
        self.clock = clock
        self._available: dict[str, tuple[float, float]] = {}  # client id → (tokens, when counted)

    def delay(self, key: str) -> float:
        """Takes one request's token for ``key``; returns how long to wait before sending it."""
        now = self.clock()
        tokens, counted = self._available.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - counted) / self.interval) - 1
        self._available[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens * self.interval


class SatusehatClient:
    def __init__(
        self,
        auth_url: str,
        fhir_url: str,
        *,
        timeout_seconds: float = 30.0,
        requests_per_minute: int = 300,
        burst: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.fhir_url = fhir_url.rstrip("/")
        self.http = httpx.AsyncClient(timeout=timeout_seconds, transport=transport)
        self.limiter = RateLimiter(requests_per_minute, burst or max(1, requests_per_minute // 10))
        self._tokens: dict[str, tuple[str, float]] = {}  # client id → (access token, valid until, monotonic)
        self._token_locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---- tokens (§2) ----

    async def token(self, credential: SatusehatCredential) -> str | Failure:
        """A valid access token for the credential: the cached one, or a new one (one request per client id at a
        time: concurrent callers wait for it)."""
        lock = self._token_locks.setdefault(credential.client_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(credential.client_id)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            answer = await self._send(
                credential,
                "POST",
                f"{self.auth_url}/accesstoken",
                params={"grant_type": "client_credentials"},
                data={"client_id": credential.client_id, "client_secret": credential.client_secret},
            )
            if not isinstance(answer, Accepted):
                return answer
            body = answer.body or {}
            try:
                token, lifetime = str(body["access_token"]), int(body["expires_in"])  # a string, e.g. "3599"
            except (KeyError, TypeError, ValueError):
                return Transient("the token response holds no access_token and expires_in")
            valid_for = lifetime - TOKEN_MARGIN_SECONDS if lifetime > 2 * TOKEN_MARGIN_SECONDS else lifetime / 2
            self._tokens[credential.client_id] = (token, time.monotonic() + valid_for)
            return token

    def forget_token(self, credential: SatusehatCredential) -> None:
        self._tokens.pop(credential.client_id, None)

    # ---- FHIR calls ----

    async def fhir(
        self,
        credential: SatusehatCredential,
        method: str,
        path: str,
        *,
        json: Json | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        """One FHIR call with a bearer token; on a 401 the token is renewed and the call made once more."""
        url = f"{self.fhir_url}/{path}" if path else self.fhir_url
        for attempt in range(2):
            token = await self.token(credential)
            if not isinstance(token, str):
                return token
            headers = {"Authorization": f"Bearer {token}"}
            answer = await self._send(credential, method, url, json=json, params=params, headers=headers)
            if isinstance(answer, Refused) and answer.status == 401 and attempt == 0:
                self.forget_token(credential)
                continue
            return answer
        raise AssertionError("unreachable: the second attempt returns")

    async def _send(self, credential: SatusehatCredential, method: str, url: str, **options: Any) -> Answer:
        wait = self.limiter.delay(credential.client_id)
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            response = await self.http.request(method, url, **options)
        except httpx.TimeoutException as error:
            return Transient(f"timeout: {type(error).__name__} on {method} {_path(url)}")
        except httpx.TransportError as error:
            return Transient(f"transport error: {type(error).__name__} on {method} {_path(url)}")
        return classify(response)

    # ---- Patient and Practitioner (§4) ----

    async def patient_ihs(
        self, credential: SatusehatCredential, nik: str, *, newborn: bool = False, demographics: Json | None = None
    ) -> str | Failure:
        """The IHS number of the person with this NIK (for a newborn: registered under the mother's NIK, nik-ibu),
        created from ``demographics`` (Patient elements: name, gender, birthDate …) when SATUSEHAT finds none."""
        system = NIK_IBU if newborn else NIK
        found = await self.fhir(credential, "GET", "Patient", params={"identifier": f"{system}|{nik}"})
        if not isinstance(found, Accepted):
            return found
        existing = _first_id(found.body)
        if existing is not None:
            return existing
        patient = {"resourceType": "Patient", **(demographics or {}), "identifier": [{"system": system, "value": nik}]}
        created = await self.fhir(credential, "POST", "Patient", json=patient)
        if isinstance(created, Refused) and created.duplicate:
            return created.existing_id or Transient("20002 on Patient create without the existing id; look up again")
        if not isinstance(created, Accepted):
            return created
        return created_patient_id(created.body) or Transient("the Patient create answer holds no patient id")

    async def practitioner_ihs(self, credential: SatusehatCredential, nik: str) -> str | Failure | None:
        """The nakes' IHS number (its ``nakes-his-number`` identifier, else the resource id), None when unknown.
        SATUSEHAT documents no Practitioner create: the nakes is registered through SISDMK."""
        found = await self.fhir(credential, "GET", "Practitioner", params={"identifier": f"{NIK}|{nik}"})
        if not isinstance(found, Accepted):
            return found
        entries = (found.body or {}).get("entry", [])
        if not entries:
            return None
        practitioner = entries[0].get("resource", {})
        numbers = [i.get("value") for i in practitioner.get("identifier", []) if i.get("system") == NAKES_IHS_NUMBER]
        return str(numbers[0] if numbers else practitioner.get("id"))

    # ---- facilities (§4): posyandu and pustu as sub-Organizations and Locations ----

    async def register_suborganization(
        self, credential: SatusehatCredential, local_code: str, name: str, part_of: str
    ) -> str | Failure:
        """The SATUSEHAT Organization id of a sub-unit (posyandu, pustu), ``partOf`` Organization ``part_of``
        (the facility's own id, or a sub-unit's): found by its identifier, else created."""
        system = business_id_system("organization", credential.organization_id)
        organization = {
            "resourceType": "Organization",
            "identifier": [{"use": "official", "system": system, "value": local_code}],
            "active": True,
            "type": [{"coding": [{"system": ORGANIZATION_TYPE, "code": "dept", "display": "Hospital Department"}]}],
            "name": name,
            "partOf": {"reference": f"Organization/{part_of}"},
        }
        return await self._registered(credential, "Organization", system, local_code, organization)

    async def register_location(
        self,
        credential: SatusehatCredential,
        local_code: str,
        name: str,
        *,
        longitude: float,
        latitude: float,
        managing_organization: str,
    ) -> str | Failure:
        """The SATUSEHAT Location id of a place of service (position required, §4), found or created."""
        system = business_id_system("location", credential.organization_id)
        location = {
            "resourceType": "Location",
            "identifier": [{"system": system, "value": local_code}],
            "status": "active",
            "mode": "instance",
            "name": name,
            "physicalType": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                        "code": "bu",
                        "display": "Building",
                    }
                ]
            },
            "position": {"longitude": longitude, "latitude": latitude},
            "managingOrganization": {"reference": f"Organization/{managing_organization}"},
        }
        return await self._registered(credential, "Location", system, local_code, location)

    async def _registered(
        self, credential: SatusehatCredential, resource_type: str, system: str, value: str, resource: Json
    ) -> str | Failure:
        found = await self.fhir(credential, "GET", resource_type, params={"identifier": f"{system}|{value}"})
        if not isinstance(found, Accepted):
            return found
        existing = _first_id(found.body)
        if existing is not None:
            return existing
        created = await self.fhir(credential, "POST", resource_type, json=resource)
        if isinstance(created, Refused) and created.duplicate and created.existing_id:
            return created.existing_id
        if not isinstance(created, Accepted):
            return created
        return str((created.body or {}).get("id")) if (created.body or {}).get("id") else Transient("no id created")

    # ---- transaction (§5) ----

    async def post_transaction(self, credential: SatusehatCredential, bundle: Json) -> Answer:
        """POST to the FHIR base (not /Bundle); the answer's entries follow the Bundle's order."""
        return await self.fhir(credential, "POST", "", json=bundle)


def classify(response: httpx.Response) -> Answer:
    """2xx accepted; 408/429/5xx transient (``Retry-After`` honoured); other 4xx refused, with the
    OperationOutcome and its RuleNumbers when the body is one. The content type is checked before parsing: 5xx
    bodies are text/plain (§7)."""
    status = response.status_code
    body = _json(response)
    if 200 <= status < 300:
        return Accepted(status, body)
    if status in TRANSIENT_STATUSES or status >= 500:
        text = (response.text or "").strip()[:200]
        return Transient(f"HTTP {status}{': ' + text if text else ''}", retry_after(response))
    outcome = body if body is not None and body.get("resourceType") == "OperationOutcome" else None
    issues = (outcome or {}).get("issue", [])
    message = "; ".join(str(i.get("details", {}).get("text") or i.get("diagnostics") or "") for i in issues)
    return Refused(status, f"HTTP {status}: {message or response.text[:200]}", outcome, rule_numbers(outcome))


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def created_patient_id(body: Json | None) -> str | None:
    """The IHS number from a Patient create answer, in any of its three shapes (§4): a FHIR Patient,
    ``{"success":…, "data":{"patient_id":…}}``, or for nik-ibu ``{"create_patient":{…"data":{"patient_id":…}}}``."""
    if not body:
        return None
    if body.get("resourceType") == "Patient" and body.get("id"):
        return str(body["id"])
    envelope = body.get("create_patient", body)
    data = envelope.get("data") if isinstance(envelope, dict) else None
    patient_id = data.get("patient_id") if isinstance(data, dict) else None
    return str(patient_id) if patient_id else None


def _first_id(searchset: Json | None) -> str | None:
    entries = (searchset or {}).get("entry", [])
    if not (searchset or {}).get("total") and not entries:
        return None
    return str(entries[0]["resource"]["id"]) if entries else None


def _json(response: httpx.Response) -> Json | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _path(url: str) -> str:
    return httpx.URL(url).path
