"""The FHIR interactions, once, for every registered resource type.

Each method runs inside the caller's transaction (one per request), so a failed rule, a unique-key
violation or any error leaves nothing half-written.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import ValidationError

from ilp_api.db.base import utc_now
from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.compartment import membership
from ilp_api.fhir.datatypes import ID_PATTERN, json_problems
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.outcome import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    Issue,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    shown,
    validation_issues,
)
from ilp_api.fhir.patch import apply_patch
from ilp_api.fhir.registry import (
    ANY_SYSTEM,
    Json,
    Ref,
    Registry,
    ResourceDefinition,
    SearchType,
    Token,
    WriteContext,
    tokens_of,
)
from ilp_api.fhir.repository import (
    ConcurrentClaim,
    IdentifierTaken,
    ResourceRepository,
    SearchPage,
    Stored,
    VersionConflict,
)
from ilp_api.fhir.search import MAX_OFFSET, Searchable, SearchRequest, paging_number, parse_search
from ilp_api.fhir.shown_identifiers import (
    ExternalIdentifiers,
    page_with_external_identifiers,
    with_external_identifiers,
)
from ilp_api.fhir.unit_of_work import Change, UnitOfWork


@dataclass
class IdentifierHeldElsewhere(Conflict):
    """409: a unique identifier is held by a resource outside the caller's area.

    The client is told neither the holder nor its id; ``holder`` is for the audit trail, so that the
    record's owners can see who asked.
    """

    holder: Ref | None = None


@dataclass(frozen=True)
class WriteResult:
    stored: Stored
    created: bool


def new_id() -> str:
    return str(uuid.uuid4())


def parse_body(definition: ResourceDefinition, body: bytes, limits: Limits) -> tuple[Any, Json]:
    """Bytes → (validated model, JSON dict), or a 400/422 OperationOutcome naming what is wrong."""
    data = parse_json(body, limits, definition.type)
    if not isinstance(data, dict):
        raise BadRequest(f"The request body must be a JSON object: a FHIR {definition.type} resource")
    if data.get("resourceType") != definition.type:
        wanted = f'send a FHIR {definition.type} resource with "resourceType": "{definition.type}"'
        given = f"resourceType {shown(data['resourceType'])}" if "resourceType" in data else "no resourceType"
        raise BadRequest(f"The body has {given}; {wanted}", expression="resourceType")
    problems = json_problems(data, definition.type, limits)
    identifiers = data.get("identifier")
    if isinstance(identifiers, list) and len(identifiers) > limits.identifiers:
        message = f"{len(identifiers)} identifiers are more than the {limits.identifiers} a resource may have"
        problems.append((f"{definition.type}.identifier", message, "too-long"))
    if problems:
        raise Unprocessable(
            problems[0][1],
            issues=[Issue(message, code, expression=path) for path, message, code in problems],
        )
    try:
        model = definition.model.model_validate(data)
    except ValidationError as error:
        issues = validation_issues(error, root=definition.type, model=definition.model)
        raise Unprocessable(issues[0].diagnostics, issues=issues) from None
    return model, data


def parse_json(body: bytes, limits: Limits, what: str) -> Any:
    """Bytes → JSON, refused when malformed or nested deeper than ``limits.json_depth`` (400)."""
    try:
        return fhir_json.loads(body, limits.json_depth)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The request body is not valid JSON: {error}") from None
    except fhir_json.NestedTooDeep:
        message = f"The {what} nests objects and arrays more than {limits.json_depth} levels deep"
        raise BadRequest(message, issues=[Issue(message, "too-long", expression=what)]) from None


# Version ids are stored as 32-bit integers; a longer digit string names no version (and int() of 8,000 digits
# would fail).
MAX_VERSION_ID = 2**31 - 1


def version_number(text: str) -> int | None:
    """The version a string names, or None when it cannot name one."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_VERSION_ID))):
        return None
    number = int(text)
    return number if number <= MAX_VERSION_ID else None


def etag_version(if_match: str) -> int:
    number = version_number(if_match.strip().removeprefix("W/").strip('"'))
    if number is None:
        raise BadRequest(f'If-Match must be an ETag like W/"3", not {shown(if_match)}', expression="If-Match")
    return number


class ResourceService:
    def __init__(
        self,
        registry: Registry,
        *,
        canonical_base: str,
        default_count: int,
        max_count: int,
        limits: Limits,
        external_identifiers: ExternalIdentifiers | None = None,
    ) -> None:
        self.registry = registry
        self.canonical_base = canonical_base
        self.default_count = default_count
        self.max_count = max_count
        self.limits = limits
        self.external_identifiers = external_identifiers

    # ---- as a reader is shown them (never written back: the rules read resources as stored) ----

    def shown(self, repository: ResourceRepository, stored: Stored) -> Stored:
        """A resource read, with the identifiers other systems gave it (fhir/shown_identifiers.py)."""
        return with_external_identifiers(self.external_identifiers, repository.session, [stored])[0]

    def shown_page(self, repository: ResourceRepository, page: SearchPage) -> SearchPage:
        return page_with_external_identifiers(self.external_identifiers, repository.session, page)

    # ---- reads ----

    def read(self, repository: ResourceRepository, definition: ResourceDefinition, resource_id: str) -> Stored:
        stored = _get(repository, definition, resource_id)
        if stored is None:
            raise NotFound(f"{definition.type}/{resource_id} is not known")
        if stored.deleted:
            raise Gone(f"{definition.type}/{resource_id} was deleted (version {stored.version_id})")
        return stored

    def vread(
        self,
        repository: ResourceRepository,
        definition: ResourceDefinition,
        resource_id: str,
        version_id: str,
    ) -> Stored:
        number = version_number(version_id)
        stored = None
        if number is not None and _get(repository, definition, resource_id) is not None:
            stored = repository.get_version(definition.type, resource_id, number)
        if stored is None:
            raise NotFound(f"{definition.type}/{resource_id} has no version {shown(version_id)}")
        if stored.deleted:
            raise Gone(f"Version {version_id} of {definition.type}/{resource_id} is its deletion")
        return stored

    def history(
        self,
        repository: ResourceRepository,
        definition: ResourceDefinition,
        resource_id: str,
        query: Sequence[tuple[str, str]],
    ) -> tuple[list[Stored], int]:
        parameters = dict(query)
        count = paging_number(parameters.get("_count"), "_count", self.default_count, self.max_count)
        offset = paging_number(parameters.get("_offset"), "_offset", 0, MAX_OFFSET)
        self.read_including_deleted(repository, definition, resource_id)
        return repository.history(definition.type, resource_id, count, offset)

    def read_including_deleted(
        self, repository: ResourceRepository, definition: ResourceDefinition, resource_id: str
    ) -> Stored:
        stored = _get(repository, definition, resource_id)
        if stored is None:
            raise NotFound(f"{definition.type}/{resource_id} is not known")
        return stored

    def search(
        self,
        repository: ResourceRepository,
        definition: ResourceDefinition,
        query: Sequence[tuple[str, str]],
        *,
        lenient: bool = False,
        patient_id: str | None = None,
    ) -> tuple[SearchPage, int, int]:
        """``patient_id``: search only the compartment of that Patient."""
        request = self.parse_search(definition, query, lenient=lenient)
        return repository.search(definition, request, patient_id=patient_id), request.count, request.offset

    def parse_search(
        self, definition: Searchable, query: Sequence[tuple[str, str]], *, lenient: bool = False
    ) -> SearchRequest:
        """The query as a typed search of ``definition``, stored or read-only, with this server's page sizes."""
        return parse_search(
            definition,
            query,
            self.registry,
            default_count=self.default_count,
            max_count=self.max_count,
            limits=self.limits,
            lenient=lenient,
        )

    # ---- writes ----

    def create(
        self,
        unit: UnitOfWork,
        definition: ResourceDefinition,
        body: bytes,
        if_none_exist: str | None = None,
        resource_id: str | None = None,
    ) -> WriteResult:
        """``resource_id`` is for a transaction Bundle, which assigns ids first to resolve its urn:uuid references."""
        if if_none_exist is not None:
            existing = self._conditional_match(unit.repository, definition, if_none_exist)
            if existing is not None:
                return WriteResult(existing, created=False)
        model, data = parse_body(definition, body, self.limits)
        data = self._apply_rules(unit.rules, unit.repository, definition, model, data)
        stored = Stored(definition.type, resource_id or new_id(), 1, utc_now(), False, "")
        try:
            stored = self._store(unit, definition, stored, data, expected_version=None)
        except IdentifierTaken as taken:
            # The holder is None when it lies outside the caller's scope: then neither it nor its id is shown.
            holder = unit.repository.get(definition.type, taken.holder_id)
            if if_none_exist is not None and holder is not None:
                # Lost a race with a concurrent conditional create of the same person: answer with theirs.
                return WriteResult(holder, created=False)
            raise _refuse_taken(unit, definition, taken, holder) from None
        unit.record(Change(definition.type, stored.id, "create", None, data, stored))
        return WriteResult(stored, created=True)

    def update(
        self,
        unit: UnitOfWork,
        definition: ResourceDefinition,
        resource_id: str,
        body: bytes,
        if_match: str | None,
    ) -> WriteResult:
        model, data = parse_body(definition, body, self.limits)
        if data.get("id") != resource_id:
            raise BadRequest(
                f"The body's id ({data.get('id')!r}) must equal the id in the URL ({resource_id!r})",
                expression=f"{definition.type}.id",
            )
        current = _get(unit.repository, definition, resource_id)
        if current is None:
            raise NotFound(f"{definition.type}/{resource_id} is not known; create it with POST /{definition.type}")
        _check_if_match(definition, current, if_match)
        before = fhir_json.loads(current.content)
        data = self._apply_rules(unit.rules.updating(before), unit.repository, definition, model, data)
        stored = replace(current, version_id=current.version_id + 1, last_updated=utc_now(), deleted=False)
        try:
            stored = self._store(unit, definition, stored, data, expected_version=current.version_id)
        except IdentifierTaken as taken:
            holder = unit.repository.get(definition.type, taken.holder_id)
            raise _refuse_taken(unit, definition, taken, holder) from None
        except VersionConflict:
            # A concurrent update of this resource committed after our read: the client's version is stale.
            if if_match is not None:
                raise PreconditionFailed(
                    f"{definition.type}/{resource_id} was changed by someone else after version "
                    f"{current.version_id} ({if_match}): read it again and re-apply your change",
                    expression="If-Match",
                ) from None
            raise Conflict(
                f"{definition.type}/{resource_id} was changed by someone else at the same time; read it and retry"
            ) from None
        unit.record(Change(definition.type, resource_id, "update", before, data, stored))
        return WriteResult(stored, created=False)

    def patch(
        self,
        unit: UnitOfWork,
        definition: ResourceDefinition,
        resource_id: str,
        body: bytes,
        media_type: str,
        if_match: str | None,
    ) -> WriteResult:
        """The patch interaction: the current version, patched (fhir/patch.py), stored through ``update``.

        The update is bound to the version patched: a concurrent write in between fails it instead of being lost.
        """
        current = self.read(unit.repository, definition, resource_id)
        _check_if_match(definition, current, if_match)
        patched = apply_patch(fhir_json.loads(current.content), media_type, parse_json(body, self.limits, "patch"))
        return self.update(
            unit, definition, resource_id, fhir_json.dumps(patched), if_match or f'W/"{current.version_id}"'
        )

    def delete(self, unit: UnitOfWork, definition: ResourceDefinition, resource_id: str) -> None:
        repository = unit.repository
        current = self.read_including_deleted(repository, definition, resource_id)
        if current.deleted:
            return
        before = fhir_json.loads(current.content)
        if definition.check_delete:
            definition.check_delete(unit.rules, before)
        stored = replace(current, version_id=current.version_id + 1, last_updated=utc_now(), deleted=True)
        try:
            # Index and compartment rows stay (searches skip deleted resources): the clients that could see the
            # resource still find it, and are told it is gone (410) and shown its history. Its identifiers are freed.
            repository.store(stored, "DELETE", expected_version=current.version_id, index_values=None, claims=())
        except VersionConflict:
            raise Conflict(f"{definition.type}/{resource_id} changed while deleting it; try again") from None
        unit.record(Change(definition.type, resource_id, "delete", before, None, stored))

    # ---- internals ----

    def _conditional_match(
        self, repository: ResourceRepository, definition: ResourceDefinition, criteria: str
    ) -> Stored | None:
        query = parse_qsl(criteria.removeprefix("?").split("?")[-1], keep_blank_values=True)
        if not query:
            raise BadRequest("If-None-Exist needs search criteria, e.g. identifier=system|value")
        page, _, _ = self.search(repository, definition, [*query, ("_count", "2")])
        if page.total and page.total > 1:
            raise PreconditionFailed(
                f"If-None-Exist '{criteria}' matches {page.total} {definition.type} resources; make it more specific",
                expression="If-None-Exist",
            )
        return page.matches[0] if page.matches else None

    def _apply_rules(
        self,
        context: WriteContext,
        repository: ResourceRepository,
        definition: ResourceDefinition,
        model: Any,
        data: Json,
    ) -> Json:
        data = definition.apply_rules(context, model, data) if definition.apply_rules else data
        self._check_references(context, repository, definition, data)
        return data

    def _check_references(
        self, context: WriteContext, repository: ResourceRepository, definition: ResourceDefinition, data: Json
    ) -> None:
        """Every reference a search parameter follows must point at a stored resource of an allowed type.

        A reference the stored version already holds is not looked up again: it was checked when it was set,
        and it may point where the caller cannot see (a posyandu's parent, a resident's puskesmas elsewhere).
        """
        kept = set(definition.index_values(context.replacing)) if context.replacing is not None else set()
        wanted: dict[Ref, str] = {}
        for parameter, value in definition.index_values(data):
            if parameter.type is SearchType.REFERENCE and isinstance(value, Ref):
                if parameter.targets and value.type not in parameter.targets:
                    raise Unprocessable(
                        f"{parameter.name} must refer to {' or '.join(parameter.targets)}, not {value.type}",
                        expression=f"{definition.type} ({parameter.name})",
                    )
                if (parameter, value) not in kept:
                    wanted[value] = parameter.name
        missing = set(wanted) - repository.existing_ids(wanted)
        if missing:
            issues = [
                Issue(
                    f"{ref.type}/{ref.id} does not exist",
                    "not-found",
                    expression=f"{definition.type} ({wanted[ref]})",
                )
                for ref in sorted(missing)
            ]
            raise Unprocessable(issues[0].diagnostics, issues=issues)

    def _store(
        self,
        unit: UnitOfWork,
        definition: ResourceDefinition,
        stored: Stored,
        data: Json,
        expected_version: int | None,
    ) -> Stored:
        repository = unit.repository
        data["id"] = stored.id
        meta = {k: v for k, v in data.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
        data["meta"] = {
            "versionId": str(stored.version_id),
            "lastUpdated": stored.last_updated.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **meta,
        }
        stored = replace(stored, content=fhir_json.dumps(data).decode())
        claims = unique_identifiers(definition, data)
        if claims and unit.identifier_refusals is not None:
            unit.identifier_refusals.check()
        try:
            repository.store(
                stored,
                "POST" if expected_version is None else "PUT",
                expected_version=expected_version,
                index_values=definition.index_values(data),
                claims=claims,
                membership=membership(definition, stored.id, data),
            )
        except ConcurrentClaim:
            raise Conflict(
                f"Another request was registering or releasing the same identifier of a {definition.type} at the "
                "same moment; send this request again",
                expression=f"{definition.type}.identifier",
            ) from None
        if not repository.is_visible(definition.type, stored.id):
            raise Forbidden(
                f"This {definition.type} would lie outside your organization's area (its subtree, wilayah and "
                "RWs): check managingOrganization, partOf or the address",
                expression=definition.type,
            )
        return stored


def _get(repository: ResourceRepository, definition: ResourceDefinition, resource_id: str) -> Stored | None:
    """A string that cannot be a FHIR id names no resource: answered without asking the database."""
    return repository.get(definition.type, resource_id) if ID_PATTERN.match(resource_id) else None


def _check_if_match(definition: ResourceDefinition, current: Stored, if_match: str | None) -> None:
    if if_match is not None and etag_version(if_match) != current.version_id:
        raise PreconditionFailed(
            f"{definition.type}/{current.id} is at version {current.version_id}, not {if_match}: "
            "read it again and re-apply your change",
            expression="If-Match",
        )


def unique_identifiers(definition: ResourceDefinition, data: Json) -> list[Token]:
    systems = definition.unique_identifier_systems
    if not systems or data.get("active") is False:
        return []
    found = {
        token
        for identifier in data.get("identifier", [])
        for token in tokens_of(identifier)
        if token.system in systems or (systems is ANY_SYSTEM and token.system)
    }
    return sorted(found)


def _refuse_taken(
    unit: UnitOfWork, definition: ResourceDefinition, taken: IdentifierTaken, holder: Stored | None
) -> Conflict:
    """The 409 for an identifier another resource holds; one held outside the caller's area (``holder`` None)
    is not named, and counts against the caller's refusal limit."""
    if holder is None:
        if unit.identifier_refusals is not None:
            unit.identifier_refusals.record()
        return IdentifierHeldElsewhere(
            f"Identifier {taken.system}|{taken.value} is already registered to a {definition.type} outside your "
            f"organization's area; {definition.held_elsewhere_advice}",
            expression=f"{definition.type}.identifier",
            ilp_code="identitas-sudah-terdaftar",
            holder=Ref(definition.type, taken.holder_id),
        )
    return Conflict(
        f"An active {definition.type} ({definition.type}/{holder.id}) already has identifier "
        f"{taken.system}|{taken.value}. Update that resource, or create with If-None-Exist to get it back instead",
        expression=f"{definition.type}.identifier",
        ilp_code="identitas-sudah-terdaftar",
    )
