"""The operations view of each registered destination's outbox, for operators (``ilp/admin``):
``GET /api/v1/{destination}/outbox`` (counts, and the items with their last error and rule numbers) and
``POST /api/v1/{destination}/outbox/{id}/retry`` (a dead or failed item back to pending, after a fix)."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.outcome import BadRequest, NotFound
from ilp_api.fhir.search import MAX_OFFSET, paging_number
from ilp_api.integrations.outbox import service
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.schemas import ItemOut, OutboxOut
from ilp_api.integrations.outbox.tables import STATUSES
from ilp_api.security.auth import AdminPrincipal

router = APIRouter(prefix="/api/v1", tags=["outbox"])
DEFAULT_COUNT, MAX_COUNT = 50, 500
LARGEST_ID = 2**63 - 1  # item ids are BIGINT

Destination = Annotated[str, Path(description="A registered destination, e.g. satusehat")]


def registered(destination: str) -> str:
    if destinations.get(destination) is None:
        known = ", ".join(destinations.names()) or "none"
        raise NotFound(f"No outbox destination is named {destination!r} (registered: {known})")
    return destination


@router.get(
    "/{destination}/outbox",
    summary="A destination's outbox: items per status, and the items with their last error",
    description="Counts per status (pending, delivered, failed = being retried, dead = needs a fix), how many "
    "items wait behind a dead one of their ordering key, and a page of the items (newest first), each with its "
    "attempts, last error, the destination's rule numbers and OperationOutcome. Operators only (`ilp/admin`).",
    response_model=OutboxOut,
    response_model_by_alias=True,
)
def get_outbox(
    request: Request,
    _: AdminPrincipal,
    destination: Destination,
    status: Annotated[str | None, Query(description="Only items of this status: " + ", ".join(STATUSES))] = None,
    count: Annotated[str | None, Query(alias="_count", description=f"Page size (default {DEFAULT_COUNT})")] = None,
    offset: Annotated[str | None, Query(alias="_offset", description="Skip this many items")] = None,
) -> OutboxOut:
    name = registered(destination)
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status is one of {', '.join(STATUSES)}, not {status[:40]!r}", expression="status")
    page_size = paging_number(count, "_count", DEFAULT_COUNT, MAX_COUNT)
    skip = paging_number(offset, "_offset", 0, MAX_OFFSET)
    database: Database = request.app.state.database
    with database.session(write=False) as session:
        outbox = service.outbox_status(session, name, status, page_size, skip)
    total = outbox.counts[status] if status else sum(outbox.counts.values())
    following = {**({"status": status} if status else {}), "_count": page_size, "_offset": skip + page_size}
    next_page = f"{request.url.path}?{urlencode(following)}" if skip + page_size < total else None
    return OutboxOut.of(outbox, status, total, next_page)


@router.post(
    "/{destination}/outbox/{item_id}/retry",
    summary="Deliver a dead or failed item again, now",
    description="After the cause is fixed (a mapping, a configuration): the item goes back to pending, due at once, "
    "and the items of its ordering key held back behind it follow. 409 for an item that is pending or delivered, "
    "or being delivered right now. Operators only (`ilp/admin`).",
    response_model=ItemOut,
    response_model_by_alias=True,
)
def retry_item(request: Request, _: AdminPrincipal, destination: Destination, item_id: str) -> ItemOut:
    name = registered(destination)
    number = int(item_id) if item_id.isascii() and item_id.isdigit() and len(item_id) <= 19 else None
    if number is None or number > LARGEST_ID:
        raise NotFound(f"The {name} outbox has no item {item_id[:40]!r}: item ids are numbers")
    database: Database = request.app.state.database
    with database.session(write=True) as session:
        return ItemOut.of(service.retry(session, name, number, utc_now()))
