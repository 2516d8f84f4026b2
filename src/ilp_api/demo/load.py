"""Load the demo network through the pipeline's ``ResourceService.create``: every demo resource passes the API's
own rules and the write hooks.

The whole load is one unit of work, so an error leaves nothing behind and a second load sees either all of
the demo or none of it. The dinkes is created first with If-None-Exist on its demo identifier: when it
already exists the demo is already loaded and nothing else is written.

``create_demo_credentials`` then registers one API client each for a dinkes, a puskesmas and a posyandu, on
every run: their secrets are stored only as hashes, so a second run cannot print the first run's secrets and
replaces those clients instead, and the operator always leaves with working credentials.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ilp_api.db.engine import Database
from ilp_api.demo.generate import (
    DEFAULT_RESIDENTS,
    DEFAULT_SEED,
    PLACEHOLDER,
    DemoNetwork,
    demo_identifier_system,
    generate_network,
)
from ilp_api.fhir.registry import registry
from ilp_api.fhir.service import ResourceService
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.resources import load_resources
from ilp_api.security.clients import create_demo_clients
from ilp_api.settings import Settings
from ilp_api.wiring import build_pipeline

Progress = Callable[[int, int], None]
"""Called after each resident is stored, with (residents stored, residents to store)."""


@dataclass(frozen=True)
class LoadReport:
    network: DemoNetwork
    already_loaded: bool
    dinkes_id: str
    # generator key → server id: for what this load created or, when the demo was already loaded, for the
    # demo Organizations found by their demo identifier (facility keys do not depend on the seed).
    ids: dict[str, str]
    created: Counter[str]  # resource type → how many this load created

    def facilities(self, kind: str) -> list[tuple[str, str]]:
        """(name, server id) of the demo Organizations of one facility type, in network order."""
        return [
            (r.body["name"], self.ids[r.key])
            for r in self.network.of_type("Organization")
            if r.kind == kind and r.key in self.ids
        ]

    def resident_groups(self) -> list[tuple[str, int]]:
        """(life-cycle group, residents), largest group first."""
        return Counter(r.kind for r in self.network.of_type("Patient")).most_common()

    def client_organizations(self) -> dict[str, str]:
        """label → Organization id of the demo clients: the dinkes, the first posyandu and its puskesmas.

        The puskesmas is the posyandu's own, so the posyandu's residents are visible to all three clients.
        """
        organizations = {r.key: r for r in self.network.of_type("Organization")}
        chosen: dict[str, str] = {}
        posyandu = next((r for r in organizations.values() if r.kind == "posyandu" and r.key in self.ids), None)
        if posyandu is not None:
            chosen["posyandu"] = posyandu.key
            ancestor = posyandu
            while ancestor.kind != "puskesmas" and "partOf" in ancestor.body:
                ancestor = organizations[ancestor.body["partOf"]["reference"].removeprefix(PLACEHOLDER)]
            if ancestor.kind == "puskesmas" and ancestor.key in self.ids:
                chosen["puskesmas"] = ancestor.key
        if self.network.dinkes_key in self.ids:
            chosen["dinkes"] = self.network.dinkes_key
        return {label: self.ids[chosen[label]] for label in ("dinkes", "puskesmas", "posyandu") if label in chosen}


@dataclass(frozen=True)
class DemoCredential:
    """A demo API client, with the only copy of its secret."""

    label: str  # dinkes, puskesmas or posyandu
    organization_id: str
    client_id: str
    client_secret: str
    scope: str


def load_demo(
    database: Database,
    settings: Settings,
    *,
    residents: int = DEFAULT_RESIDENTS,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> LoadReport:
    load_resources()
    pipeline = build_pipeline(database, registry, settings)
    with pipeline.unit_of_work(None, write=True) as unit:
        network = generate_network(
            canonical_base=settings.canonical_base, today=unit.rules.today, residents=residents, seed=seed
        )
        return _load(pipeline.service, unit, network, progress)


def _load(service: ResourceService, unit: UnitOfWork, network: DemoNetwork, progress: Progress | None) -> LoadReport:
    ids: dict[str, str] = {}
    references: dict[str, str] = {}  # generator key → "Type/<server id>"
    created: Counter[str] = Counter()
    total_residents = len(network.of_type("Patient"))
    for resource in network.resources:
        condition = None
        if resource.key == network.dinkes_key:
            condition = f"identifier={demo_identifier_system(service.canonical_base)}|{resource.key}"
        definition = registry.get(resource.resource_type)
        if definition is None:  # the generator only makes registered types; load_resources() registered them
            raise LookupError(f"{resource.resource_type} is not a registered resource type")
        body = orjson.dumps(_resolve(resource.body, references))
        result = service.create(unit, definition, body, condition)
        if not result.created:
            return LoadReport(
                network, True, result.stored.id, _existing_organizations(service, unit, network), Counter()
            )
        ids[resource.key] = result.stored.id
        references[resource.key] = f"{resource.resource_type}/{result.stored.id}"
        created[resource.resource_type] += 1
        if progress is not None and resource.resource_type == "Patient":
            progress(created["Patient"], total_residents)
    return LoadReport(network, False, ids[network.dinkes_key], ids, created)


def _existing_organizations(service: ResourceService, unit: UnitOfWork, network: DemoNetwork) -> dict[str, str]:
    """generator key → server id of the demo Organizations already stored (one deleted since is left out)."""
    definition = registry.get("Organization")
    assert definition is not None  # load_resources() registered it
    system = demo_identifier_system(service.canonical_base)
    ids = {}
    for organization in network.of_type("Organization"):
        page, _, _ = service.search(unit.repository, definition, [("identifier", f"{system}|{organization.key}")])
        if page.matches:
            ids[organization.key] = page.matches[0].id
    return ids


def create_demo_credentials(database: Database, report: LoadReport) -> list[DemoCredential]:
    """Registers (or replaces) the demo clients of ``report.client_organizations()``; their secrets, once."""
    with database.session(write=True) as session:
        created = create_demo_clients(session, report.client_organizations())
    return [
        DemoCredential(c["label"], c["organization_id"], c["client_id"], c["client_secret"], c["scope"])
        for c in created
    ]


def _resolve(value: Any, references: dict[str, str]) -> Any:
    """A copy of ``value`` with each placeholder reference replaced by the stored resource's reference."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith(PLACEHOLDER):
            return {**value, "reference": references[reference.removeprefix(PLACEHOLDER)]}
        return {key: _resolve(item, references) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, references) for item in value]
    return value
