"""HTTP details of the FHIR API: media types, base URL, ETags and Bundles built without re-parsing."""

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request
from fastapi.responses import Response

from ilp_api.fhir import FHIR_JSON
from ilp_api.fhir.outcome import NotAcceptable, UnsupportedMediaType
from ilp_api.fhir.repository import SearchPage, Stored

JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir", "*/*", "application/*")
FORMAT_VALUES = ("json", "application/json", "application/fhir+json")


def check_accept(request: Request) -> None:
    requested_format = request.query_params.get("_format")
    if requested_format is not None and requested_format not in FORMAT_VALUES:
        raise NotAcceptable(f"_format={requested_format} is not supported: ILP API speaks FHIR JSON only")
    accept = request.headers.get("accept")
    if accept and requested_format is None and not any(kind in accept for kind in JSON_TYPES):
        raise NotAcceptable(f"Accept: {accept} is not supported: ask for application/fhir+json")


RESOURCE_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
FORM = "application/x-www-form-urlencoded"


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower-cased; empty when it has none."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def check_content_type(request: Request, accepted: Sequence[str] = RESOURCE_TYPES) -> None:
    """A body sent without a Content-Type is taken as the first of ``accepted``."""
    content_type = media_type(request)
    if content_type and content_type not in accepted:
        raise UnsupportedMediaType(f"Content-Type {content_type} is not supported here: send {accepted[0]}")


def fhir_base(request: Request) -> str:
    configured = request.app.state.settings.public_base_url
    return (configured.rstrip("/") if configured else str(request.base_url).rstrip("/")) + "/fhir"


def etag(stored: Stored) -> str:
    return f'W/"{stored.version_id}"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def resource_response(
    stored: Stored, status_code: int = 200, headers: dict[str, str] | None = None, *, minimal: bool = False
) -> Response:
    """The stored resource, or with ``minimal`` (``Prefer: return=minimal``) only its headers and no body."""
    all_headers = {"ETag": etag(stored), "Last-Modified": http_date(stored.last_updated), **(headers or {})}
    if minimal:
        return Response(status_code=status_code, headers=all_headers)
    return Response(stored.content, status_code=status_code, media_type=FHIR_JSON, headers=all_headers)


def json_response(body: dict[str, Any], status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type=FHIR_JSON)


def full_url(base: str, stored: Stored) -> str:
    return f"{base}/{stored.resource_type}/{stored.id}"


def paging_links(
    base: str, resource_type: str, query: Sequence[tuple[str, str]], count: int, offset: int, has_more: bool
) -> list[dict[str, str]]:
    """self, first, and previous/next where they exist; every link repeats the search with _count/_offset."""
    kept = [(k, v) for k, v in query if k not in ("_count", "_offset")]

    def link(relation: str, at: int) -> dict[str, str]:
        parameters = urlencode([*kept, ("_count", count), ("_offset", at)])
        return {"relation": relation, "url": f"{base}/{resource_type}?{parameters}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(offset - count, 0)))
    if count and has_more:
        links.append(link("next", offset + count))
    return links


def searchset(
    base: str, resource_type: str, query: Sequence[tuple[str, str]], page: SearchPage, count: int, offset: int
) -> dict[str, Any]:
    entries = [_entry(base, stored, "match") for stored in page.matches]
    entries += [_entry(base, stored, "include") for stored in page.included]
    return _searchset(base, resource_type, query, entries, len(page.matches), page.total, count, offset)


def json_searchset(
    base: str,
    resource_type: str,
    query: Sequence[tuple[str, str]],
    matches: list[dict[str, Any]],
    total: int | None,
    count: int,
    offset: int,
) -> dict[str, Any]:
    """A searchset of resources that are not stored (a read-only type's), each with its id."""
    entries = [
        {"fullUrl": f"{base}/{resource_type}/{match['id']}", "resource": match, "search": {"mode": "match"}}
        for match in matches
    ]
    return _searchset(base, resource_type, query, entries, len(matches), total, count, offset)


def _searchset(
    base: str,
    resource_type: str,
    query: Sequence[tuple[str, str]],
    entries: list[dict[str, Any]],
    matched: int,
    total: int | None,
    count: int,
    offset: int,
) -> dict[str, Any]:
    has_more = total > offset + count if total is not None else matched == count
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = paging_links(base, resource_type, query, count, offset, has_more)
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(base: str, stored: Stored, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": full_url(base, stored),
        "resource": orjson.Fragment(stored.content),
        "search": {"mode": mode},
    }


def history_bundle(base: str, versions: list[Stored], total: int, self_url: str) -> dict[str, Any]:
    entries = []
    for stored in versions:
        url = f"{stored.resource_type}/{stored.id}"
        entry: dict[str, Any] = {"fullUrl": full_url(base, stored)}
        if stored.deleted:
            entry["request"] = {"method": "DELETE", "url": url}
            entry["response"] = {"status": "204", "etag": etag(stored)}
        else:
            entry["resource"] = orjson.Fragment(stored.content)
            method = "POST" if stored.version_id == 1 else "PUT"
            entry["request"] = {"method": method, "url": url if method == "PUT" else stored.resource_type}
            entry["response"] = {
                "status": "201" if method == "POST" else "200",
                "etag": etag(stored),
                "lastModified": stored.last_updated.isoformat().replace("+00:00", "Z"),
            }
        entries.append(entry)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "history",
        "total": total,
        "link": [{"relation": "self", "url": self_url}],
    }
    if entries:
        bundle["entry"] = entries
    return bundle
