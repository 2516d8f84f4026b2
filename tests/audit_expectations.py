"""What the audit trail must hold after a test: one AuditEvent per request that touched patient data.

The ``anonymous_client`` fixture records every exchange; at teardown the recorded exchanges are turned into
the expected (interaction, path, outcome) events and compared with the audit table, so every test that uses
the API also proves the audit trail is exact.
"""

import re
from collections import Counter
from dataclasses import dataclass

import httpx
import orjson
from sqlalchemy import select

from ilp_api.audit.tables import AuditEventRow
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import registry
from ilp_api.security.refusals import LIMIT_CODE

INSTANCE_PATH = re.compile(r"^/fhir/(?P<type>[A-Za-z]+)(?:/(?P<id>[^/]+)(?P<history>/_history(?:/(?P<vid>[^/]+))?)?)?$")
# Patient/{id}/$everything, and a search of one type in a Patient's compartment: Patient/{id}/Observation.
COMPARTMENT_PATH = re.compile(r"^/fhir/Patient/[^/]+/(?P<member>\$everything|[A-Za-z]+)$")
# An operation on one resource, such as Task/{id}/$rujuk-balik.
INSTANCE_OPERATION_PATH = re.compile(r"^/fhir/(?P<type>[A-Za-z]+)/[^/$]+/\$[a-z-]+$")
# Refused before any resource code runs: no client to attribute, no such interaction, a body too large to
# read, over the request rate.
NOT_AUDITED_STATUSES = (401, 405, 413, 429)
WORKLISTS_PATH = "/api/v1/worklists"
# A look-up at BPJS: audited once the client is known and within its rate (integrations/bpjs/router.py).
BPJS_PESERTA_PATH = "/api/v1/bpjs/peserta"


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    body: bytes
    request_body: bytes


class ExchangeLog:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def record(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        path = request.url.raw_path.split(b"?")[0].decode("ascii")  # as sent, like the audit trail records it
        exchange = Exchange(request.method, path, response.status_code, response.content, request.content)
        self.exchanges.append(exchange)

    def expected_events(self) -> Counter[tuple[str, str, str]]:
        expected: Counter[tuple[str, str, str]] = Counter()
        for exchange in self.exchanges:
            if exchange.method == "POST" and exchange.path in ("/fhir", "/fhir/"):
                expected.update(_bundle_events(exchange))
                continue
            interaction = _interaction(exchange)
            if interaction:
                expected[(interaction, exchange.path, _outcome(exchange.status))] += 1
        return expected


def recorded_events(database: Database) -> Counter[tuple[str, str, str]]:
    table = AuditEventRow.__table__  # type: ignore[attr-defined]
    with database.session(write=False) as session:
        rows = session.execute(select(table.c.interaction, table.c.path, table.c.outcome)).all()
    return Counter((row.interaction, row.path, row.outcome) for row in rows)


def _outcome(status: int) -> str:
    """AuditEvent.outcome: 0 success, 4 minor failure (the client's), 8 serious failure (the server's)."""
    return "0" if status < 400 else "4" if status < 500 else "8"


def _is_patient_data(resource_type: str) -> bool:
    definition = registry.get(resource_type)
    return definition is not None and definition.patient_data


def _interaction(exchange: Exchange) -> str | None:
    if exchange.path == WORKLISTS_PATH:
        # A search of the organization's residents, once it is known to be within reach (a 404 before that).
        return "search-type" if exchange.method == "GET" and exchange.status in (200, 403) else None
    if exchange.path == BPJS_PESERTA_PATH:
        return None if _not_audited(exchange) or exchange.method != "GET" else "search-type"
    compartment = COMPARTMENT_PATH.match(exchange.path)
    # $everything is an operation, by GET or POST; a compartment search is a GET.
    if compartment and (exchange.method == "GET" or compartment["member"] == "$everything"):
        return None if _not_audited(exchange) else _compartment_interaction(exchange, compartment["member"])
    operation = INSTANCE_OPERATION_PATH.match(exchange.path)
    if operation and exchange.method == "POST":
        return None if _not_audited(exchange) or not _is_patient_data(operation["type"]) else "operation"
    match = INSTANCE_PATH.match(exchange.path)
    if match is None or _not_audited(exchange):
        return None
    if not _is_patient_data(match["type"]):
        return "search-type" if _search_returned_patient_data(exchange, match) else None
    if _is_search(exchange, match):
        return "search-type"
    if exchange.method == "POST" and match["id"] is None:
        return "create"
    if exchange.method == "POST" and match["id"].startswith("$") and not match["history"]:
        return "operation"  # e.g. /fhir/Patient/$pindah-masuk
    if exchange.method == "GET":
        if match["history"]:
            return "vread" if match["vid"] else "history-instance"
        return "read"
    if exchange.method == "PUT" and match["id"] and not match["history"]:
        return "update"
    if exchange.method == "PATCH" and match["id"] and not match["history"]:
        return "patch"
    if exchange.method == "DELETE" and match["id"] and not match["history"]:
        return "delete"
    return None


def _is_search(exchange: Exchange, match: re.Match[str]) -> bool:
    """GET /fhir/Type, or POST /fhir/Type/_search with the parameters in a form body."""
    if exchange.method == "GET":
        return match["id"] is None
    return exchange.method == "POST" and match["id"] == "_search" and not match["history"]


def _compartment_interaction(exchange: Exchange, member: str) -> str | None:
    if member == "$everything":
        return "operation"
    if _is_patient_data(member) or _returned_patient_data(exchange):
        return "search-type"
    return None


def _not_audited(exchange: Exchange) -> bool:
    """A 429 for too many identifier refusals comes from the resource code, after the client is known: audited."""
    return exchange.status in NOT_AUDITED_STATUSES and LIMIT_CODE.encode() not in exchange.body


def _search_returned_patient_data(exchange: Exchange, match: re.Match[str]) -> bool:
    if not _is_search(exchange, match):
        return False
    return _returned_patient_data(exchange)


def _returned_patient_data(exchange: Exchange) -> bool:
    if exchange.status != 200:
        return False
    bundle = orjson.loads(exchange.body)
    return any(_is_patient_data(e["resource"]["resourceType"]) for e in bundle.get("entry", []))


def _bundle_events(exchange: Exchange) -> Counter[tuple[str, str, str]]:
    """Each patient-data entry of a processed Bundle, with its own outcome; a Bundle that failed whole, once."""
    events: Counter[tuple[str, str, str]] = Counter()
    try:
        bundle = orjson.loads(exchange.request_body)
    except orjson.JSONDecodeError:
        return events
    if not isinstance(bundle, dict) or _not_audited(exchange):
        return events
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    requests = [_entry_request(entry) for entry in entries]
    if exchange.status >= 400:
        # Refused whole, malformed entries included: audited once if any entry names a patient-data type.
        if any(_is_patient_data(url.split("/")[0]) for _, url in requests):
            events[("batch" if bundle.get("type") == "batch" else "transaction", exchange.path, "4")] += 1
        return events
    answers = orjson.loads(exchange.body).get("entry", [])  # a Bundle without entries is answered without any
    # After the answers to its entries, a transaction lists what its write hooks derived: audited with them.
    for (method, url), answer in zip(requests, answers[: len(requests)], strict=True):
        status = int(answer["response"]["status"].split()[0])
        entry = Exchange(method, f"/fhir/{url}", status, orjson.dumps(answer.get("resource", {})), b"")
        interaction = _interaction(entry)
        if interaction:
            events[(interaction, entry.path, _outcome(status))] += 1
    return events


def _entry_request(entry: object) -> tuple[str, str]:
    """(method, url without its query and slashes) of a Bundle entry; empty strings where it has none."""
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict):
        return "", ""
    method, url = request.get("method"), request.get("url")
    return (method if isinstance(method, str) else "", url.split("?")[0].strip("/") if isinstance(url, str) else "")
