"""Identifiers a resource has in other systems, shown when it is read but not stored in it.

An integration keeps the id a destination gave a local resource (a Patient's IHS number at SATUSEHAT) in a table
of its own, so that recording it writes no version of the resource: a client's If-Match stays valid, and no write
hook sees a change that would queue the resource for delivery again. Reads and searches show those ids as
identifiers of the resource (its ETag and meta unchanged). Where they come from is the integrations' business:
declared here as a Protocol, implemented by integrations/outbox/read_side.py, installed by wiring.py.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from sqlalchemy.orm import Session

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.registry import Json, Ref
from ilp_api.fhir.repository import SearchPage, Stored


class ExternalIdentifiers(Protocol):
    """The identifiers (``{"system", "value"}``) other systems gave these resources, for those that have any."""

    def __call__(self, session: Session, resources: Collection[Ref]) -> Mapping[Ref, Sequence[Json]]: ...


def showing(stored: Stored, identifiers: Sequence[Json]) -> Stored:
    """``stored`` with these identifiers added after its own, those it holds already aside; same version."""
    resource = fhir_json.loads(stored.content)
    held = resource.get("identifier", [])
    new = [identifier for identifier in identifiers if not _holds(held, identifier)]
    if not new:
        return stored
    resource["identifier"] = [*held, *new]
    return replace(stored, content=fhir_json.dumps(resource).decode())


def _holds(held: Sequence[Json], identifier: Json) -> bool:
    return any(h.get("system") == identifier["system"] and h.get("value") == identifier["value"] for h in held)


def with_external_identifiers(
    source: ExternalIdentifiers | None, session: Session, found: Sequence[Stored]
) -> list[Stored]:
    """``found`` as shown to a reader: each with the identifiers other systems gave it."""
    if source is None or not found:
        return list(found)
    known = source(session, {Ref(s.resource_type, s.id) for s in found if not s.deleted})
    return [showing(s, known[ref]) if (ref := Ref(s.resource_type, s.id)) in known else s for s in found]


def page_with_external_identifiers(
    source: ExternalIdentifiers | None, session: Session, page: SearchPage
) -> SearchPage:
    shown = with_external_identifiers(source, session, [*page.matches, *page.included])
    return replace(page, matches=shown[: len(page.matches)], included=shown[len(page.matches) :])
