"""The FHIR machinery as configured: the service, the rules' context and the pipeline, wired to the settings,
the wilayah list, security's visibility and refusal limits, the audit trail and the ids the outbox's destinations
gave resources (shown when they are read). The API (app.py) and the CLI's loaders build them here, the same way.
"""

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from ilp_api.audit.repository import append_accesses
from ilp_api.db.engine import Database
from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.hooks import write_hooks
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.pipeline import Pipeline, RulesContext
from ilp_api.fhir.registry import Json, Ref, Registry, WriteContext
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.service import ResourceService
from ilp_api.fhir.unit_of_work import Caller
from ilp_api.fhir.visibility_rules import Scope
from ilp_api.integrations.outbox.read_side import RemoteIdentifiers
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.repository import enqueue
from ilp_api.integrations.satusehat.hook import install_satusehat_hook
from ilp_api.resources import load_resources
from ilp_api.security.refusals import refusals_per_client
from ilp_api.security.visibility import scope_for
from ilp_api.settings import Settings
from ilp_api.wilayah.repository import WilayahDirectory


@dataclass(frozen=True)
class SiteContext:
    """The rules' context (``fhir.registry.WriteContext``) of one transaction at this site."""

    repository: ResourceRepository
    wilayah: WilayahDirectory
    canonical_base: str
    today: date
    replacing: Json | None = None

    @property
    def caller_organization_id(self) -> str | None:
        scope = self.repository.scope
        return scope.organization_id if scope else None

    def read(self, reference: Ref) -> Json | None:
        stored = self.repository.get(reference.type, reference.id)
        return None if stored is None or stored.deleted else fhir_json.loads(stored.content)

    def updating(self, current: Json) -> "SiteContext":
        return replace(self, replacing=current)

    def unscoped(self) -> "SiteContext":
        return replace(self, repository=ResourceRepository(self.repository.session))


def load_definitions() -> None:
    """Register every stored type, read-only type and operation: each owning package registers its own."""
    load_resources()
    from ilp_api.audit import audit_event  # noqa: F401
    from ilp_api.integrations.satusehat import registration  # noqa: F401
    from ilp_api.screening import evaluate_operation, hook  # noqa: F401
    from ilp_api.terminology import codesystems, concept_maps  # noqa: F401


def rules_context(settings: Settings) -> RulesContext:
    """The rules' context over a transaction's repository, with today read once per transaction."""

    def context(repository: ResourceRepository) -> WriteContext:
        wilayah = WilayahDirectory(repository.session)
        return SiteContext(repository, wilayah, settings.canonical_base, settings.site_today())

    return context


def resource_service(registry: Registry, settings: Settings) -> ResourceService:
    limits = Limits(
        json_depth=settings.max_json_depth,
        string_length=settings.max_string_length,
        array_items=settings.max_array_items,
        identifiers=settings.max_identifiers,
        parameter_repeats=settings.max_parameter_repeats,
        values_per_parameter=settings.max_values_per_parameter,
        sort_keys=settings.max_sort_keys,
        bundle_entries=settings.max_bundle_entries,
    )
    return ResourceService(
        registry,
        canonical_base=settings.canonical_base,
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
        limits=limits,
        external_identifiers=RemoteIdentifiers(destinations, settings.canonical_base),
    )


def build_pipeline(database: Database, registry: Registry, settings: Settings) -> Pipeline:
    """The pipeline, with the write hooks the settings call for (SATUSEHAT's when it is configured)."""
    install_satusehat_hook(enqueue, settings)

    def visibility(session: Session, caller: Caller) -> Scope | None:
        return scope_for(session, caller.organization_id, settings.canonical_base)

    return Pipeline(
        database,
        registry,
        resource_service(registry, settings),
        write_hooks,
        rules_context=rules_context(settings),
        visibility=visibility,
        identifier_refusals=refusals_per_client(
            settings.identifier_refusals_per_hour, settings.rate_limit_tracked_keys
        ),
        audit=append_accesses,
    )
