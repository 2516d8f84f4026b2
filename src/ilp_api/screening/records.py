"""Reads and writes of the screening package in one unit of work, through the same rules as a client's.

Without the caller's organization scope (the unit given is unscoped by the caller): what a visit derives reaches
above the caller's own facility (the referral target, the puskesmas that manages the episodes).
"""

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.outcome import TooCostly
from ilp_api.fhir.registry import Json, parse_reference, registry
from ilp_api.fhir.unit_of_work import UnitOfWork

PAGE = 100  # more than one visit or patient holds of any one kind
ALL_AT_MOST = 20_000  # what ``search_all`` reads before it refuses: a posyandu's or a pustu's residents fit


class UnitRecords:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit
        self.base = unit.rules.canonical_base

    def read(self, reference: Json | None) -> Json | None:
        ref = parse_reference((reference or {}).get("reference", ""))
        return self.unit.rules.read(ref) if ref is not None else None

    def search(self, resource_type: str, *query: tuple[str, str]) -> list[Json]:
        definition = registry.get(resource_type)
        assert definition is not None, resource_type
        page, _, _ = self.unit.resources.search(self.unit.repository, definition, [("_count", str(PAGE)), *query])
        return [fhir_json.loads(stored.content) for stored in page.matches]

    def search_all(self, resource_type: str, *query: tuple[str, str]) -> list[Json]:
        """Every match, page by page (sorted by id, so pages neither skip nor repeat)."""
        found: list[Json] = []
        while True:
            page = self.search(resource_type, *query, ("_sort", "_id"), ("_offset", str(len(found))))
            found += page
            if len(page) < PAGE:
                return found
            if len(found) >= ALL_AT_MOST:
                raise TooCostly(
                    f"More than {ALL_AT_MOST} {resource_type} resources to go through: ask for a smaller area "
                    "(one RW, or a posyandu instead of a puskesmas)"
                )

    def store(self, resource_type: str, resource: Json, *, create: bool) -> None:
        definition = registry.get(resource_type)
        assert definition is not None, resource_type
        body = fhir_json.dumps(resource)
        if create:
            self.unit.resources.create(self.unit, definition, body, resource_id=resource["id"])
        else:
            self.unit.resources.update(self.unit, definition, resource["id"], body, None)
