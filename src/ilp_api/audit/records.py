"""An audit record and its FHIR AuditEvent form (IHE BALP-style REST auditing)."""

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ilp_api.db.base import utc_now
from ilp_api.fhir.registry import Ref
from ilp_api.fhir.service import new_id
from ilp_api.fhir.unit_of_work import Access

SUCCESS, MINOR_FAILURE, SERIOUS_FAILURE = "0", "4", "8"
ACTIONS = {
    "create": "C",
    "read": "R",
    "vread": "R",
    "history-instance": "R",
    "search-type": "E",
    "update": "U",
    "delete": "D",
    "transaction": "E",
    "batch": "E",
    "operation": "E",
}


@dataclass(frozen=True)
class AuditRecord:
    """What the trail keeps of one access; ``record_of`` makes it from the pipeline's ``Access``."""

    id: str
    recorded: datetime
    interaction: str
    outcome: str
    status: int
    client_id: str | None
    organization_id: str | None
    source_ip: str | None
    purpose: str | None
    path: str
    query: str | None
    entities: tuple[Ref, ...] = field(default=())

    @property
    def action(self) -> str:
        return ACTIONS[self.interaction]

    def to_fhir(self, canonical_base: str) -> dict[str, Any]:
        agent: dict[str, Any] = {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                        "code": "IRCP",
                        "display": "information recipient",
                    }
                ]
            },
            "who": {"identifier": {"system": f"{canonical_base}/sid/client-id", "value": self.client_id or "-"}},
            "requestor": True,
        }
        if self.source_ip:
            agent["network"] = {"address": self.source_ip, "type": "2"}
        agents = [agent]
        if self.organization_id:
            agents.append({"who": {"reference": f"Organization/{self.organization_id}"}, "requestor": False})
        entities: list[dict[str, Any]] = [
            {"what": {"reference": f"{ref.type}/{ref.id}"}, "role": {"system": ROLE_SYSTEM, "code": "1"}}
            for ref in self.entities
        ]
        if self.query is not None:
            entities.append(
                {
                    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                    "role": {"system": ROLE_SYSTEM, "code": "24", "display": "Query"},
                    "description": self.path,
                    "query": base64.b64encode(self.query.encode()).decode(),
                }
            )
        event: dict[str, Any] = {
            "resourceType": "AuditEvent",
            "id": self.id,
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
            "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": self.interaction}],
            "action": self.action,
            "recorded": self.recorded.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "outcome": self.outcome,
            "outcomeDesc": f"HTTP {self.status}",
            "agent": agents,
            "source": {"observer": {"display": "ILP API"}},
        }
        if self.purpose:
            event["purposeOfEvent"] = [
                {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": self.purpose}]}
            ]
        if entities:
            event["entity"] = entities
        return event


ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/object-role"


def record_of(access: Access) -> AuditRecord:
    """The audit record of one access: a success below status 400, a minor failure for the client's errors, a
    serious one for the server's."""
    origin = access.origin
    outcome = SUCCESS if access.status < 400 else MINOR_FAILURE if access.status < 500 else SERIOUS_FAILURE
    return AuditRecord(
        id=new_id(),
        recorded=utc_now(),
        interaction=access.interaction,
        outcome=outcome,
        status=access.status,
        client_id=origin.caller.client_id,
        organization_id=origin.caller.organization_id,
        source_ip=origin.source_ip,
        purpose=origin.purpose,
        path=origin.path,
        query=origin.query,
        entities=access.entities,
    )
