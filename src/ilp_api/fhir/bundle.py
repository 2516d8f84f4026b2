"""Transaction and batch Bundles, over the pipeline (the HTTP endpoint is api/bundle.py).

A transaction is all-or-nothing, in one unit of work: entries run in FHIR's order (DELETE, POST, PUT, GET), POST
entries get their ids first so that ``urn:uuid`` references between entries resolve, a failing entry rolls
everything back and is named in the OperationOutcome, and the write hooks see all of its writes at once. A batch
runs each entry in a unit of work of its own and answers each with its own status. Every entry passes the same
permission check, organization scoping and audit as the single interactions do, audited with its own path.
"""

import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import orjson
from pydantic import Field, ValidationError

from ilp_api.db.cancellation import WorkCancelled
from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.datatypes import CONTROL_CHARACTER, Element, Meta
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.outcome import (
    BadRequest,
    Conflict,
    FhirError,
    Issue,
    ServerError,
    TooCostly,
    Unprocessable,
    database_unavailable,
    validation_issues,
)
from ilp_api.fhir.pipeline import CREATE, DELETE, READ, SEARCH, UPDATE, Interaction, Pipeline
from ilp_api.fhir.receipts import EntryReceipt, TransactionReceipts
from ilp_api.fhir.registry import Ref, Registry, ResourceDefinition
from ilp_api.fhir.repository import Page, Stored
from ilp_api.fhir.service import ResourceService, new_id, parse_json, unique_identifiers
from ilp_api.fhir.unit_of_work import Access, Caller, Change, Origin, UnitOfWork

logger = logging.getLogger(__name__)

URN_UUID = "urn:uuid:"


class EntryRequest(Element):
    method: Literal["GET", "POST", "PUT", "DELETE"]
    url: str = Field(min_length=1)
    if_none_exist: str | None = Field(None, alias="ifNoneExist")
    if_match: str | None = Field(None, alias="ifMatch")


class BundleEntry(Element):
    full_url: str | None = Field(None, alias="fullUrl")
    resource: dict[str, Any] | None = None
    request: EntryRequest


class BundleRequest(Element):
    resource_type: Literal["Bundle"] = Field(alias="resourceType")
    id: str | None = None
    meta: Meta | None = None
    type: Literal["transaction", "batch"]
    entry: list[BundleEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """What one entry asks for, resolved against the registry."""

    index: int
    definition: ResourceDefinition
    interaction: Interaction
    resource_id: str | None
    query: list[tuple[str, str]]

    @property
    def path(self) -> str:
        """As audited: percent-encoded like a request path, so any id the client sent can be stored."""
        return f"/fhir/{self.definition.type}" + (f"/{quote(self.resource_id, safe='')}" if self.resource_id else "")


@dataclass(frozen=True)
class Outcome:
    """One entry's answer: its status, and the stored resource, a search's results or the entry's error."""

    status: int
    stored: Stored | None = None
    page: Page | None = None
    error: FhirError | None = None
    touched: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Processed:
    """A processed Bundle: each entry's outcome, in the request's order, and what the write hooks derived."""

    entries: list[Outcome]
    derived: list[Outcome] = field(default_factory=list)


def parse_bundle(raw: bytes, limits: Limits) -> BundleRequest:
    data = parse_json(raw, limits, "Bundle")
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise BadRequest("POST /fhir takes a Bundle of type transaction or batch", expression="resourceType")
    entries = data.get("entry")
    if isinstance(entries, list) and len(entries) > limits.bundle_entries:
        raise TooCostly(
            f"The Bundle has {len(entries)} entries; at most {limits.bundle_entries} are processed at once: "
            "send several Bundles",
            expression="Bundle.entry",
        )
    try:
        return BundleRequest.model_validate(data)
    except ValidationError as error:
        issues = validation_issues(error, root="Bundle")
        raise Unprocessable(issues[0].diagnostics, issues=issues) from None


def entry_target(registry: Registry, index: int, entry: BundleEntry) -> Target:
    """``Patient``, ``Patient/123``, ``Patient?identifier=…`` (absolute URLs ending in these too)."""
    method = entry.request.method
    if CONTROL_CHARACTER.search(entry.request.url):
        raise BadRequest(
            f"Bundle.entry[{index}].request.url holds a control character", expression=f"Bundle.entry[{index}]"
        )
    parts = urlsplit(entry.request.url)
    segments = [s for s in parts.path.split("/") if s]
    if "fhir" in segments:
        segments = segments[segments.index("fhir") + 1 :]
    definition = registry.get(segments[0]) if segments else None
    where = f"Bundle.entry[{index}].request.url"
    if definition is None or len(segments) > 2:
        raise BadRequest(f"{where}: '{entry.request.url}' is not Type, Type/id or Type?query of a supported type")
    resource_id = segments[1] if len(segments) == 2 else None
    interaction = {
        ("POST", False): CREATE,
        ("PUT", True): UPDATE,
        ("DELETE", True): DELETE,
        ("GET", True): READ,
        ("GET", False): SEARCH,
    }.get((method, resource_id is not None))
    if interaction is None:
        raise BadRequest(f"{where}: {method} {entry.request.url} is not a supported interaction")
    if method in ("POST", "PUT") and entry.resource is None:
        raise BadRequest(f"Bundle.entry[{index}].resource is required for {method}")
    return Target(index, definition, interaction, resource_id, parse_qsl(parts.query, keep_blank_values=True))


class EntryRunner:
    """Runs Bundle entries for ``caller`` in a unit of work: the permission check, then the interaction."""

    def __init__(self, service: ResourceService, caller: Caller) -> None:
        self.service = service
        self.caller = caller

    def transaction(
        self, unit: UnitOfWork, bundle: BundleRequest, targets: list[Target], assigned: dict[str, str]
    ) -> dict[int, Outcome]:
        """A transaction's entries in ``unit``, in FHIR's order; the first failing one named in the error."""
        outcomes = {}
        for target in _transaction_order(bundle, targets, assigned):
            entry = bundle.entry[target.index]
            try:
                outcomes[target.index] = self.run(unit, target, entry, assigned)
            except FhirError as error:
                raise _in_entry(error, target, entry) from None
        return outcomes

    def run(self, unit: UnitOfWork, target: Target, entry: BundleEntry, assigned: dict[str, str]) -> Outcome:
        definition = target.definition
        self.caller.require(definition.type, target.interaction.permission)
        if target.interaction is CREATE:
            body = fhir_json.dumps(_resolve(entry.resource, assigned, target.index))
            new_id_ = assigned.get(entry.full_url or "", "").partition("/")[2] or None
            result = self.service.create(unit, definition, body, entry.request.if_none_exist, new_id_)
            return Outcome(201 if result.created else 200, result.stored, touched=_ref(result.stored))
        if target.interaction is UPDATE:
            assert target.resource_id is not None
            body = fhir_json.dumps(_resolve(entry.resource, assigned, target.index))
            result = self.service.update(unit, definition, target.resource_id, body, entry.request.if_match)
            return Outcome(200, result.stored, touched=_ref(result.stored))
        if target.interaction is DELETE:
            assert target.resource_id is not None
            self.service.delete(unit, definition, target.resource_id)
            return Outcome(204, touched=(Ref(definition.type, target.resource_id),))
        if target.interaction is READ:
            assert target.resource_id is not None
            stored = self.service.shown(
                unit.repository, self.service.read(unit.repository, definition, target.resource_id)
            )
            return Outcome(200, stored, touched=_ref(stored))
        page, count, offset = self.service.search(unit.repository, definition, target.query)
        page = self.service.shown_page(unit.repository, page)
        found = tuple(Ref(s.resource_type, s.id) for s in (*page.matches, *page.included))
        return Outcome(200, page=Page(page, count, offset), touched=found)


class BundleProcessor:
    """Runs the entries of one Bundle for ``origin`` over ``pipeline``."""

    def __init__(self, pipeline: Pipeline, origin: Origin) -> None:
        self.pipeline = pipeline
        self.origin = origin
        self.entries = EntryRunner(pipeline.service, origin.caller)

    def transaction(self, bundle: BundleRequest, targets: list[Target]) -> Processed:
        assigned = assign_ids(bundle, targets)
        digest = self._receipt_digest(bundle, targets)
        outcomes: dict[int, Outcome] = {}
        replayed: Processed | None = None  # what an earlier copy of this transaction stored
        processed = Processed([])

        def settle(unit: UnitOfWork) -> None:
            """Once the write hooks have written too: each entry's latest version, and what the hooks derived."""
            nonlocal processed
            if replayed is not None:
                processed = replayed
                return
            processed = _with_derived([outcomes[target.index] for target in targets], unit.changes)
            if digest:
                receipts.complete(digest, [_receipt(o) for o in (*processed.entries, *processed.derived)])

        try:
            with self.pipeline.unit_of_work(self.origin.caller, write=True, settled=settle) as unit:
                receipts = TransactionReceipts(unit.repository.session)
                earlier = receipts.receive(digest, self.origin.caller.client_id) if digest else None
                if earlier is not None:
                    replayed = _replayed(unit, earlier, len(targets))
                    outcomes = dict(enumerate(replayed.entries))
                else:
                    outcomes = self.entries.transaction(unit, bundle, targets, assigned)
                for target in targets:
                    self._audit(unit, outcomes[target.index], target)
        except FhirError as error:
            raise in_writing_entry(error, bundle, targets, outcomes) from None
        return processed

    def _receipt_digest(self, bundle: BundleRequest, targets: list[Target]) -> str | None:
        """The digest a transaction is received by (fhir/receipts.py): for one of creates and updates that claims a
        unique identifier. Its urn:uuid fullUrls are named by entry, so a copy with fresh ones is the same."""
        if any(target.interaction not in (CREATE, UPDATE) for target in targets) or not any(
            target.interaction is CREATE
            and unique_identifiers(target.definition, bundle.entry[target.index].resource or {})
            for target in targets
        ):
            return None
        names = {
            entry.full_url: f"urn:entry:{index}"
            for index, entry in enumerate(bundle.entry)
            if entry.full_url and entry.full_url.startswith(URN_UUID)
        }
        entries = [
            _renamed(entry.model_dump(mode="json", by_alias=True, exclude_none=True), names) for entry in bundle.entry
        ]
        content = orjson.dumps([self.origin.caller.client_id, entries], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(content).hexdigest()

    def batch(self, bundle: BundleRequest, targets: list[Target]) -> Processed:
        outcomes = []
        for target in targets:
            entry = bundle.entry[target.index]
            try:
                with self.pipeline.unit_of_work(self.origin.caller, write=True) as unit:
                    outcome = self.entries.run(unit, target, entry, assigned={})
                    self._audit(unit, outcome, target)
            except FhirError as error:
                outcome = self._failed(target, entry, error)
            except WorkCancelled:
                raise  # the client has gone: nobody waits for the other entries
            except Exception as error:
                # Entries are independent: a server error in one is that entry's answer, not the batch's.
                failure: FhirError | None = database_unavailable(error)
                if failure is None:
                    logger.exception("batch entry failed", extra={"fields": {"entry": target.index}})
                    failure = ServerError("Internal server error in this entry; it has been logged")
                outcome = self._failed(target, entry, failure)
            outcomes.append(outcome)
        return Processed(outcomes)

    def _failed(self, target: Target, entry: BundleEntry, error: FhirError) -> Outcome:
        """The entry's own failure answer, audited (a patient-data entry) like a single failed interaction."""
        placed = _in_entry(error, target, entry)
        if target.definition.patient_data:
            refs = self.pipeline.failure_entities(error, target.definition, target.resource_id)
            self.pipeline.audit_alone(self._access(target, placed.status_code, refs))
        return Outcome(placed.status_code, error=placed)

    def _audit(self, unit: UnitOfWork, outcome: Outcome, target: Target) -> None:
        touched = tuple(ref for ref in outcome.touched if self.pipeline.is_patient_data(ref))
        if target.definition.patient_data or touched:
            unit.audit(self._access(target, outcome.status, touched))

    def _access(self, target: Target, status: int, refs: tuple[Ref, ...]) -> Access:
        return Access(self.origin.at(target.path), target.interaction.code, status, refs)


def in_writing_entry(
    error: FhirError, bundle: BundleRequest, targets: list[Target], outcomes: dict[int, Outcome]
) -> FhirError:
    """An error found after the entries ran (a write hook's), placed in the entry that wrote what it is about."""
    writer = next((t for t in targets if error.about and _wrote(outcomes.get(t.index), error.about)), None)
    return error if writer is None else _in_entry(error, writer, bundle.entry[writer.index])


def _with_derived(entries: list[Outcome], changes: list[Change]) -> Processed:
    """Each entry with the version its resource ended the transaction at (a hook may have written it again), and
    an outcome for every other resource written: 201 if the transaction created it, 200 if it updated it."""
    latest: dict[Ref, Change] = {}
    created: set[Ref] = set()
    for change in changes:
        ref = Ref(change.resource_type, change.id)
        latest[ref] = change
        if change.interaction == "create":
            created.add(ref)
    answered = {_ref(o.stored)[0] for o in entries if o.stored is not None}
    return Processed(
        [replace(o, stored=latest[_ref(o.stored)[0]].stored) if o.stored is not None else o for o in entries],
        [
            Outcome(201 if ref in created else 200, change.stored, touched=(ref,))
            for ref, change in latest.items()
            if ref not in answered and change.after is not None
        ],
    )


def _replayed(unit: UnitOfWork, earlier: list[EntryReceipt], entries: int) -> Processed:
    """An earlier copy's outcomes: each resource at the version it wrote, answered 200 (nothing was written now)."""
    outcomes = []
    for receipt in earlier:
        stored = unit.repository.get_version(receipt.resource_type, receipt.id, receipt.version_id)
        if stored is None:
            raise Conflict(
                f"This transaction was stored before, and {receipt.resource_type}/{receipt.id} it wrote is no "
                "longer yours to read: ask who holds it now"
            )
        outcomes.append(Outcome(200, stored, touched=_ref(stored)))
    return Processed(outcomes[:entries], outcomes[entries:])


def _receipt(outcome: Outcome) -> EntryReceipt:
    stored = outcome.stored
    assert stored is not None  # a receipted transaction creates and updates only
    return EntryReceipt(outcome.status, stored.resource_type, stored.id, stored.version_id)


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every string that is a key of ``names`` replaced by its name."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {key: _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def _wrote(outcome: Outcome | None, reference: str) -> bool:
    stored = outcome.stored if outcome else None
    return stored is not None and f"{stored.resource_type}/{stored.id}" == reference


def _ref(stored: Stored) -> tuple[Ref, ...]:
    return (Ref(stored.resource_type, stored.id),)


def assign_ids(bundle: BundleRequest, targets: list[Target]) -> dict[str, str]:
    """``urn:uuid:…`` fullUrl of each POST entry → ``Type/new-id``, so entries can refer to each other."""
    assigned = {}
    for target in targets:
        full = bundle.entry[target.index].full_url
        if target.interaction is CREATE and full and full.startswith(URN_UUID):
            if full in assigned:
                raise BadRequest(f"Bundle.entry[{target.index}].fullUrl {full} is used twice in the Bundle")
            assigned[full] = f"{target.definition.type}/{new_id()}"
    return assigned


def _transaction_order(bundle: BundleRequest, targets: list[Target], assigned: dict[str, str]) -> list[Target]:
    """DELETE, then POST (each after the POSTs it refers to), then PUT, then GET, as FHIR prescribes."""
    by_method: dict[str, list[Target]] = {}
    for target in targets:
        by_method.setdefault(bundle.entry[target.index].request.method, []).append(target)
    creates = by_method.get("POST", [])
    ordered: list[Target] = []
    waiting = {t.index: _urn_references(bundle.entry[t.index].resource) & set(assigned) for t in creates}
    done: set[str] = set()
    while waiting:
        ready = [t for t in creates if t.index in waiting and waiting[t.index] <= done]
        if not ready:
            cycle = ", ".join(f"entry[{index}]" for index in sorted(waiting))
            raise BadRequest(f"Bundle entries refer to each other in a cycle: {cycle}")
        for target in ready:
            ordered.append(target)
            done.add(bundle.entry[target.index].full_url or "")
            del waiting[target.index]
    others = [t for method in ("PUT", "GET") for t in by_method.get(method, [])]
    return by_method.get("DELETE", []) + ordered + others


def _urn_references(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["reference"]} if str(value.get("reference", "")).startswith(URN_UUID) else set()
        return found.union(*(_urn_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_urn_references(v) for v in value))
    return set()


def _resolve(value: Any, assigned: dict[str, str], index: int) -> Any:
    """Replace references to other entries' fullUrl with ``Type/id``; any other urn:uuid is an error."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith(URN_UUID):
            if reference not in assigned:
                raise BadRequest(
                    f"Bundle.entry[{index}] refers to {reference}, which is the fullUrl of no POST entry of this "
                    "transaction (a batch cannot link its entries: use a transaction)"
                )
            return {**{k: _resolve(v, assigned, index) for k, v in value.items()}, "reference": assigned[reference]}
        return {key: _resolve(item, assigned, index) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, assigned, index) for item in value]
    return value


def _in_entry(error: FhirError, target: Target, entry: BundleEntry) -> FhirError:
    """The same error, its message and expressions placed in the entry that caused it."""
    where = f"Bundle.entry[{target.index}]"
    resource_type = target.definition.type

    def placed(expression: str | None) -> str:
        if expression and expression.startswith(resource_type):
            return f"{where}.resource{expression.removeprefix(resource_type)}"
        return f"{where}.request" + (f" ({expression})" if expression else "")

    label = f"{where} ({entry.request.method} {entry.request.url}): "
    issues = [
        Issue(label + issue.diagnostics, issue.code, placed(issue.expression), issue.ilp_code, issue.severity)
        for issue in error.outcome_issues()
    ]
    return type(error)(issues[0].diagnostics, issues=issues, headers=error.headers)


def refused_bundle_audit(raw: bytes, registry: Registry) -> str | None:
    """How a Bundle refused as a whole is audited: as its ``transaction`` or ``batch`` when any entry was about
    patient data, otherwise not at all (None).

    The Bundle was refused, so its JSON is read defensively: any element may be missing or of the wrong type.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    data = data if isinstance(data, dict) else {}
    entries = data.get("entry")
    requests = (
        [entry.get("request") for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    )
    urls = [str(r.get("url", "")) for r in requests if isinstance(r, dict)]
    patient_types = {d.type for d in registry if d.patient_data}
    if not any(url.lstrip("/").split("/")[0].split("?")[0] in patient_types for url in urls):
        return None
    return "batch" if data.get("type") == "batch" else "transaction"
