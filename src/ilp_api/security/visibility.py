"""The organization visibility of an authenticated client: its subtree, and where its residents live."""

import orjson
from sqlalchemy.orm import Session

from ilp_api.fhir.registry import registry
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.visibility_rules import Scope
from ilp_api.resources.organization import service_area


def scope_for(session: Session, organization_id: str | None, canonical_base: str) -> Scope | None:
    """None (everything) for an organization-less ilp/admin client; otherwise its organization's scope."""
    if organization_id is None:
        return None
    organization = ResourceRepository(session).get("Organization", organization_id)
    area = service_area(orjson.loads(organization.content), canonical_base) if organization else None
    return Scope(organization_id, area, registry.scope_rules())
