"""A local SATUSEHAT: the OAuth token endpoint and the FHIR API ILP API uses, on in-memory state, enforcing the
documented validation rules with the documented error shapes (shared/reference/satusehat.md §13), plus an
``/admin`` API through which tests inject faults and read what arrived.

Paths are the real ones below the host: ``/oauth2/v1/accesstoken`` and ``/fhir-r4/v1/...``. So with the simulator
at ``http://127.0.0.1:8001``, ILP_SATUSEHAT_AUTH_URL is ``http://127.0.0.1:8001/oauth2/v1`` and
ILP_SATUSEHAT_FHIR_URL ``http://127.0.0.1:8001/fhir-r4/v1``.
"""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.requests import ClientDisconnect

from ilp_api.integrations.satusehat.protocol import DUPLICATE, IHS_NUMBER, NIK, NIK_IBU, Json
from ilp_api.integrations.satusehat.simulator.rules import Problem, outcome, validate
from ilp_api.integrations.satusehat.simulator.state import Fault, SimulatorClient, SimulatorState

AUTH = "/oauth2/v1"
FHIR = "/fhir-r4/v1"
BAD_CREDENTIALS = (
    "The user or system was not able to be authenticated (either client_id or client_secret combination is "
    "unacceptable)"
)
SEARCHABLE = ("Patient", "Practitioner", "Organization", "Location", "Encounter")
WRITABLE = (
    "Patient",
    "Organization",
    "Location",
    "Encounter",
    "Observation",
    "Condition",
    "QuestionnaireResponse",
    "ServiceRequest",
    "Immunization",
)
STATUS_TEXT = {
    408: "Request Timeout",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def create_simulator_app() -> FastAPI:
    app = FastAPI(title="SATUSEHAT simulator (ILP API)", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.simulator = SimulatorState()

    def current() -> SimulatorState:
        simulator: SimulatorState = app.state.simulator
        return simulator

    @app.middleware("http")
    async def faults(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        if path.startswith("/admin"):
            return await call_next(request)
        current().requests.append({"method": request.method, "path": path})
        fault = current().next_fault()
        if fault is not None and fault.kind == "status":
            return PlainTextResponse(STATUS_TEXT.get(fault.status, "Error"), status_code=fault.status)
        if fault is not None and fault.kind == "rate-limit":
            return PlainTextResponse(
                "Too Many Requests", status_code=429, headers={"Retry-After": str(round(fault.seconds))}
            )
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
        return await call_next(request)

    @app.post(f"{AUTH}/accesstoken")
    async def access_token(request: Request) -> Response:
        if request.query_params.get("grant_type") != "client_credentials":
            return _refused(400, [Problem("grant_type=client_credentials is required in the query", "grant_type")])
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode("latin-1")).items()}
        client = current().clients.get(form.get("client_id", ""))
        if client is None or client.client_secret != form.get("client_secret"):
            return _refused(401, [Problem(BAD_CREDENTIALS, "client_secret")], severity="invalid")
        token = current().issue_token(client)
        issued = str(int(datetime.now(UTC).timestamp() * 1000))
        return JSONResponse(
            {
                "token_type": "BearerToken",
                "access_token": token,
                "expires_in": str(current().token_lifetime_seconds),
                "issued_at": issued,
                "client_id": client.client_id,
                "status": "approved",
                "refresh_token_expires_in": "0",
                "refresh_count": "0",
                "scope": "",
                "api_product_list": "[api-sandbox]",
                "api_product_list_json": ["api-sandbox"],
                "organization_name": "ilp-simulator",
                "developer.email": "simulator@ilp-api.example",
                "application_name": str(uuid.uuid5(uuid.NAMESPACE_URL, client.client_id)),
            }
        )

    def caller(request: Request) -> SimulatorClient | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return current().client_of(token) if scheme.lower() == "bearer" else None

    async def write_request(request: Request) -> tuple[SimulatorClient, Json] | Response:
        """The caller and the JSON body of a write, or the refusal to answer."""
        client = caller(request)
        if client is None:
            return _unauthenticated()
        body = await _json_body(request)
        return body if isinstance(body, Response) else (client, body)

    @app.post(FHIR)
    async def transaction(request: Request) -> Response:
        written = await write_request(request)
        if isinstance(written, Response):
            return written
        client, body = written
        return _transaction(current(), client, body)

    @app.get(f"{FHIR}/{{resource_type}}")
    async def search(request: Request, resource_type: str) -> Response:
        if caller(request) is None:
            return _unauthenticated()
        if resource_type not in SEARCHABLE:
            return _refused(400, [Problem(f"Search of {resource_type} is not supported", resource_type, "20006")])
        system, _, value = request.query_params.get("identifier", "").partition("|")
        if not system or not value:
            return _refused(400, [Problem("identifier=<system>|<value> is required", "identifier")])
        found = [_shown(resource) for resource in current().matching(resource_type, system, value)]
        return JSONResponse(_searchset(str(request.url), found))

    @app.get(f"{FHIR}/{{resource_type}}/{{resource_id}}")
    async def read(request: Request, resource_type: str, resource_id: str) -> Response:
        if caller(request) is None:
            return _unauthenticated()
        resource = current().get(resource_type, resource_id)
        if resource is None:
            return _refused(404, [Problem(f"Element not found: {resource_type}/{resource_id}", resource_type, "20007")])
        return JSONResponse(_shown(resource))

    @app.post(f"{FHIR}/{{resource_type}}")
    async def create(request: Request, resource_type: str) -> Response:
        written = await write_request(request)
        if isinstance(written, Response):
            return written
        client, body = written
        result = _write(current(), client, resource_type, None, body)
        if isinstance(result, list):
            return _refused(400, result)
        if resource_type == "Patient":
            return _patient_created(result)
        return JSONResponse(result, status_code=201)

    @app.put(f"{FHIR}/{{resource_type}}/{{resource_id}}")
    async def update(request: Request, resource_type: str, resource_id: str) -> Response:
        written = await write_request(request)
        if isinstance(written, Response):
            return written
        client, body = written
        result = _write(current(), client, resource_type, resource_id, body)
        return _refused(400, result) if isinstance(result, list) else JSONResponse(result)

    # ---- the admin API, for tests and demos ----

    @app.post("/admin/faults")
    async def add_fault(request: Request) -> Response:
        """{"kind": "status"|"rate-limit"|"hang", "count": N, "status": 503, "seconds": S}"""
        spec = await request.json()
        fault = Fault(
            spec["kind"], int(spec.get("count", 1)), int(spec.get("status", 503)), float(spec.get("seconds", 0))
        )
        current().faults.append(fault)
        return JSONResponse({"queued": len(current().faults)})

    @app.delete("/admin/faults")
    async def clear_faults() -> Response:
        current().faults.clear()
        return Response(status_code=204)

    @app.post("/admin/clients")
    async def add_client(request: Request) -> Response:
        spec = await request.json()
        current().add_client(SimulatorClient(spec["client_id"], spec["client_secret"], spec["organization_id"]))
        return Response(status_code=204)

    @app.post("/admin/tokens/expire")
    async def expire_tokens() -> Response:
        current().expire_tokens()
        return Response(status_code=204)

    @app.put("/admin/settings")
    async def change_settings(request: Request) -> Response:
        spec = await request.json()
        current().token_lifetime_seconds = int(spec.get("token_lifetime_seconds", current().token_lifetime_seconds))
        current().strict_utc = bool(spec.get("strict_utc", current().strict_utc))
        return Response(status_code=204)

    @app.post("/admin/reset")
    async def reset() -> Response:
        app.state.simulator = SimulatorState()
        return Response(status_code=204)

    @app.get("/admin/requests")
    async def requests_seen() -> Response:
        return JSONResponse(current().requests)

    @app.get("/admin/transactions")
    async def transactions() -> Response:
        return JSONResponse(current().transactions)

    @app.get("/admin/resources/{resource_type}")
    async def resources(resource_type: str) -> Response:
        return JSONResponse(list(current().resources.get(resource_type, {}).values()))

    return app


# ---- answers ----


def _refused(status: int, problems: list[Problem], severity: str = "error") -> JSONResponse:
    """An OperationOutcome; authentication failures say ``severity: invalid`` as SATUSEHAT's does (§2)."""
    body = outcome(problems)
    for issue in body["issue"]:
        issue["severity"] = severity
    return JSONResponse(body, status_code=status)


def _unauthenticated() -> JSONResponse:
    return _refused(401, [Problem("Access token is missing, invalid or expired", "Authorization")], severity="invalid")


async def _json_body(request: Request) -> Json | Response:
    try:
        body = json.loads(await request.body())
    except ClientDisconnect:  # the caller gave up before its body was read (a hang fault): no one to answer
        return Response(status_code=499)
    except ValueError:
        return _refused(400, [Problem("Unreadable JSON", "body", "20005")])
    if not isinstance(body, dict):
        return _refused(400, [Problem("The body is no FHIR resource", "body", "20006")])
    return body


def _patient_created(patient: Json) -> JSONResponse:
    """The non-FHIR body three independent clients parse (satusehat.md §4); the nik-ibu form for a newborn."""
    systems = {identifier.get("system") for identifier in patient.get("identifier", [])}
    created = {"success": True, "message": "Data saved successfully", "data": {"patient_id": patient["id"]}}
    if NIK not in systems and NIK_IBU in systems:
        return JSONResponse({"create_patient": created}, status_code=201)
    return JSONResponse(created, status_code=201)


def _shown(resource: Json) -> Json:
    """As SATUSEHAT shows it: a Patient's NIK masked."""
    if resource["resourceType"] != "Patient":
        return resource
    identifiers = [
        {**identifier, "value": _masked(identifier["value"])}
        if identifier.get("system") in (NIK, NIK_IBU)
        else identifier
        for identifier in resource.get("identifier", [])
    ]
    return {**resource, "identifier": identifiers}


def _masked(nik: str) -> str:
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:]


def _searchset(url: str, resources: list[Json]) -> Json:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": url}],
        "entry": [
            {"fullUrl": f"{resource['resourceType']}/{resource['id']}", "resource": resource} for resource in resources
        ],
    }


# ---- writes ----


def _write(
    state: SimulatorState, client: SimulatorClient, resource_type: str, resource_id: str | None, body: Json
) -> Json | list[Problem]:
    """One create (``resource_id`` None) or update, stored when valid; else its problems."""
    if resource_type not in WRITABLE or body.get("resourceType") != resource_type:
        return [Problem(f"Expected a {resource_type} resource", "resourceType", "20006")]
    if resource_id is not None and not state.exists(f"{resource_type}/{resource_id}"):
        return [Problem(f"Element not found: {resource_type}/{resource_id}", resource_type, "20007")]
    problems = _problems(state, client, body, resource_id, state.exists)
    if problems:
        return problems
    return state.store({**body, "id": resource_id or state.new_id(resource_type)})


def _problems(
    state: SimulatorState,
    client: SimulatorClient,
    resource: Json,
    resource_id: str | None,
    exists: Callable[[str], bool],
    claimed: dict[tuple[str, str, str], str] | None = None,
) -> list[Problem]:
    now = datetime.now(UTC)
    problems = validate(resource, client.organization_id, exists, now, strict_utc=state.strict_utc)
    if problems:
        return problems
    provider = resource.get("serviceProvider", {}).get("reference", "")
    if provider.startswith("Organization/") and not _below(state, provider, client.organization_id, pending=exists):
        # One client id = one Organization id (§2): another organization's data is refused.
        return [
            Problem("resource cannot be accessed due to business rule", f"{resource['resourceType']}.serviceProvider")
        ]
    kind = resource["resourceType"]
    for index, identifier in enumerate(resource.get("identifier", [])):
        key = (kind, str(identifier.get("system", "")), str(identifier.get("value", "")))
        if key[1] == IHS_NUMBER:
            continue
        holder = state.identifiers.get(key) or (claimed or {}).get(key)
        if holder is not None and holder != resource_id:
            where = f"{kind}.identifier[{index}]"
            return [Problem(f"Found duplicate resource: {kind}/{holder}", where, DUPLICATE)]
    return []


def _below(state: SimulatorState, reference: str, organization_id: str, pending: Callable[[str], bool]) -> bool:
    """Whether the Organization is the client's own or lies below it (``partOf``); one created in the same
    Bundle is taken as the client's."""
    for _ in range(10):
        if reference == f"Organization/{organization_id}":
            return True
        organization = state.get("Organization", reference.partition("/")[2])
        if organization is None:
            return pending(reference)
        reference = organization.get("partOf", {}).get("reference", "")
    return False


def _transaction(state: SimulatorState, client: SimulatorClient, bundle: Json) -> Response:
    """All or nothing (satusehat.md §5): each entry checked with the Bundle's urn:uuid references resolved; the
    first entry that fails fails the Bundle, and every later one "due to previous error"."""
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        return _refused(400, [Problem("Expected a transaction Bundle", "Bundle.type", "20006")])
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        return _refused(400, [Problem("A transaction Bundle needs entries", "Bundle.entry", "20006")])
    targets, problems = _targets(state, entries)
    if problems:
        return _refused(400, problems)
    pending = set(targets.values())
    claimed: dict[tuple[str, str, str], str] = {}
    prepared: list[Json] = []

    def exists(reference: str) -> bool:
        return reference in pending or state.exists(reference)

    for index, entry in enumerate(entries):
        unknown: list[str] = []
        resource = _resolved(entry["resource"], targets, unknown)
        kind, resource_id = targets[entry["fullUrl"]].split("/")
        updating = entry["request"]["method"] == "PUT"
        found = [Problem(f"Element not found: {reference}", f"Bundle.entry[{index}]", "20007") for reference in unknown]
        found = found or _problems(state, client, resource, resource_id if updating else None, exists, claimed)
        if found:
            later = [
                Problem(f"Bundle.entry[{after}] failed due to previous error", f"Bundle.entry[{after}]", "20013")
                for after in range(index + 1, len(entries))
            ]
            placed = [Problem(f"Bundle.entry[{index}]: {p.text}", p.expression, p.rule) for p in found]
            return _refused(400, placed + later)
        for identifier in resource.get("identifier", []):
            claimed[(kind, str(identifier.get("system")), str(identifier.get("value")))] = resource_id
        prepared.append({**resource, "id": resource_id})
    answers = []
    for entry, resource in zip(entries, prepared, strict=True):
        stored = state.store(resource)
        created = entry["request"]["method"] == "POST"
        answers.append(
            {
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "location": f"{stored['resourceType']}/{stored['id']}/_history/{stored['meta']['versionId']}",
                    "etag": f'W/"{stored["meta"]["versionId"]}"',
                    "lastModified": stored["meta"]["lastUpdated"],
                }
            }
        )
    state.transactions.append({**bundle, "entry": [{"resource": r} for r in prepared]})
    return JSONResponse({"resourceType": "Bundle", "type": "transaction-response", "entry": answers})


def _targets(state: SimulatorState, entries: list[Any]) -> tuple[dict[str, str], list[Problem]]:
    """Each entry's fullUrl → the ``Type/id`` it is stored as; or the problems of the Bundle's shape
    (20011 nested Bundle; 20017-20021 fullUrl, numbered in the documented order: missing, not urn:uuid, not a
    UUID, duplicate)."""
    targets: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            return {}, [Problem(f"{where} holds no resource", f"{where}.resource", "20006")]
        if resource["resourceType"] == "Bundle":
            return {}, [Problem("A Bundle may not hold a Bundle", f"{where}.resource", "20011")]
        if not full_url:
            return {}, [Problem("fullUrl is mandatory", f"{where}.fullUrl", "20017")]
        if not str(full_url).startswith("urn:uuid:"):
            return {}, [Problem(f"fullUrl {full_url} must be urn:uuid:<uuid>", f"{where}.fullUrl", "20018")]
        try:
            uuid.UUID(str(full_url).removeprefix("urn:uuid:"))
        except ValueError:
            return {}, [Problem(f"fullUrl {full_url} holds no valid UUID", f"{where}.fullUrl", "20019")]
        if full_url in targets:
            return {}, [Problem(f"fullUrl {full_url} appears twice", f"{where}.fullUrl", "20020")]
        request = entry.get("request", {})
        method, url = request.get("method"), str(request.get("url", ""))
        kind = resource["resourceType"]
        if method == "POST" and url == kind and kind in WRITABLE:
            targets[full_url] = f"{kind}/{state.new_id(kind)}"
        elif method == "PUT" and url.startswith(f"{kind}/") and state.exists(url):
            targets[full_url] = url
        else:
            problem = Problem(f"{where}.request must POST {kind} or PUT an existing {kind}/<id>", f"{where}.request")
            return {}, [problem]
    return targets, []


def _resolved(value: Any, targets: dict[str, str], unknown: list[str]) -> Any:
    """``value`` with each ``urn:uuid`` reference replaced by the ``Type/id`` it names; a reference that names no
    entry is left as it is and added to ``unknown``."""
    if isinstance(value, dict):
        return {
            key: _target(item, targets, unknown) if key == "reference" else _resolved(item, targets, unknown)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_resolved(item, targets, unknown) for item in value]
    return value


def _target(reference: Any, targets: dict[str, str], unknown: list[str]) -> Any:
    if isinstance(reference, str) and reference.startswith("urn:uuid:"):
        if reference in targets:
            return targets[reference]
        unknown.append(reference)
    return reference
