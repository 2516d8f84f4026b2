"""POST /fhir: transaction and batch Bundles (their processing is fhir/bundle.py's)."""

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ilp_api.api.http import check_accept, check_content_type, etag, fhir_base, full_url, json_response, searchset
from ilp_api.api.resources import check_purpose, origin_of, pipeline
from ilp_api.db.cancellation import run_in_threadpool_until_disconnect
from ilp_api.fhir.bundle import (
    BundleProcessor,
    Outcome,
    Processed,
    Target,
    entry_target,
    parse_bundle,
    refused_bundle_audit,
)
from ilp_api.fhir.outcome import FhirError, operation_outcome
from ilp_api.fhir.pipeline import CREATE
from ilp_api.fhir.registry import Json
from ilp_api.fhir.unit_of_work import Access, Origin
from ilp_api.security.auth import CurrentPrincipal

REASONS = {200: "OK", 201: "Created", 204: "No Content"}

# Its own prefix: FastAPI refuses an empty path on a router that is itself included without one.
router = APIRouter(prefix="/fhir", tags=["FHIR"])


@router.post(
    "",
    summary="Process a transaction or batch Bundle",
    description=(
        "A `transaction` is all-or-nothing: POST entries may refer to each other by `fullUrl` "
        "(`urn:uuid:…`), and the first failing entry rolls everything back and is named in the "
        "OperationOutcome. A `batch` answers each entry on its own, and answers 200 even when entries fail. "
        "At most `ILP_MAX_BUNDLE_ENTRIES` entries (500 by default)."
    ),
    openapi_extra={"requestBody": {"required": True, "content": {"application/fhir+json": {"schema": {}}}}},
)
# Clients that join the base URL and an empty path send POST /fhir/: answered here rather than redirected to /fhir,
# which would have every such client send the whole Bundle twice (and not every client follows a redirected POST).
@router.post("/", include_in_schema=False)
async def process_bundle(request: Request, principal: CurrentPrincipal) -> Response:
    raw = await request.body()
    bundles = pipeline(request)
    origin = origin_of(request, principal)
    try:
        # Inside the try, like perform's checks: a refused Bundle about patient data is audited as well.
        check_content_type(request)
        check_accept(request)
        check_purpose(request)
        bundle = parse_bundle(raw, bundles.service.limits)
        targets = [entry_target(bundles.registry, index, entry) for index, entry in enumerate(bundle.entry)]
    except FhirError as error:
        await run_in_threadpool(_audit_refused, request, origin, raw, error.status_code)
        raise
    processor = BundleProcessor(bundles, origin)
    if bundle.type == "transaction":
        try:
            processed = await run_in_threadpool_until_disconnect(
                request.receive, lambda: processor.transaction(bundle, targets)
            )
        except FhirError as error:
            await run_in_threadpool(_audit_refused, request, origin, raw, error.status_code)
            raise
    else:
        processed = await run_in_threadpool_until_disconnect(request.receive, lambda: processor.batch(bundle, targets))
    base = fhir_base(request)
    canonical_base = bundles.service.canonical_base
    return json_response(_response_bundle(base, canonical_base, bundle.type, targets, processed))


def _audit_refused(request: Request, origin: Origin, raw: bytes, status: int) -> None:
    """A Bundle that failed as a whole is audited once when any entry was about patient data."""
    bundles = pipeline(request)
    kind = refused_bundle_audit(raw, bundles.registry)
    if kind is not None:
        bundles.audit_alone(Access(origin, kind, status, ()))


def _response_bundle(base: str, canonical_base: str, kind: str, targets: list[Target], processed: Processed) -> Json:
    """One entry per request entry, in order; then, for a transaction, one per resource its write hooks derived
    (a visit's classifications, referrals, follow-ups, episodes)."""
    entries = [
        _response_entry(base, canonical_base, outcome, target)
        for target, outcome in zip(targets, processed.entries, strict=True)
    ]
    entries += [_response_entry(base, canonical_base, outcome, None) for outcome in processed.derived]
    bundle: Json = {"resourceType": "Bundle", "type": f"{kind}-response"}
    if entries:
        bundle["entry"] = entries
    return bundle


def _response_entry(base: str, canonical_base: str, outcome: Outcome, target: Target | None) -> Json:
    """``target`` is the request entry answered; None for a resource the transaction derived."""
    response: Json = {"status": f"{outcome.status} {REASONS.get(outcome.status, '')}".strip()}
    entry: Json = {}
    if outcome.stored is not None:
        entry["fullUrl"] = full_url(base, outcome.stored)
        entry["resource"] = orjson.Fragment(outcome.stored.content)
        response["etag"] = etag(outcome.stored)
        response["lastModified"] = outcome.stored.last_updated.isoformat().replace("+00:00", "Z")
        if (target is not None and target.interaction is CREATE) or (target is None and outcome.status == 201):
            response["location"] = f"{entry['fullUrl']}/_history/{outcome.stored.version_id}"
    elif outcome.page is not None and target is not None:
        page = outcome.page
        entry["resource"] = searchset(base, target.definition.type, target.query, page.found, page.count, page.offset)
    elif outcome.error is not None:
        response["outcome"] = operation_outcome(outcome.error.outcome_issues(), canonical_base)
    entry["response"] = response
    return entry
