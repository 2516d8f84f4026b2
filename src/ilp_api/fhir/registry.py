"""What a resource type is to the machinery: a model, domain rules, and a list of search parameters.

A resource module builds one ``ResourceDefinition`` and registers it; routers, storage, search and the
CapabilityStatement are all derived from the registry, so they cannot disagree with each other.
"""

import builtins
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from ilp_api.fhir.datatypes import Resource
from ilp_api.fhir.tables import INDEXED_TEXT_LENGTH
from ilp_api.fhir.visibility_rules import Placement, ScopeRule

Json = dict[str, Any]


class SearchType(StrEnum):
    TOKEN = "token"
    STRING = "string"
    DATE = "date"
    REFERENCE = "reference"
    URI = "uri"  # matched exactly; offered by read-only types (fhir/providers.py), not indexed for stored ones


class Token(NamedTuple):
    system: str
    code: str


class DateRange(NamedTuple):
    """Half-open [low, high): the instants a FHIR date or dateTime covers."""

    low: datetime
    high: datetime


class Ref(NamedTuple):
    type: str
    id: str


class Text(NamedTuple):
    """A string as indexed and as searched with :exact: folded (``normalise``) for FHIR's default and :contains
    matches, and as written for :exact, which is case- and accent-sensitive. Both are cut to the indexed length."""

    folded: str
    exact: str


def indexed_text(value: str) -> Text:
    return Text(normalise(value)[:INDEXED_TEXT_LENGTH], value[:INDEXED_TEXT_LENGTH])


IndexValue = Token | Text | DateRange | Ref


@dataclass(frozen=True)
class SearchParameter:
    name: str
    type: SearchType
    description: str
    extract: Callable[[Json], Iterable[IndexValue]]
    targets: tuple[str, ...] = ()
    # Hierarchical codes (wilayah) match everything below the given code, like FHIR's :below.
    match_below: bool = False
    # Why a searched value cannot be meant (a wilayah code that is no whole level), or None when it is fine.
    value_problem: Callable[[str], str | None] | None = None
    # A value to show in the API documentation; date and reference parameters get one from their type.
    example: str | None = None


class WilayahLookup(Protocol):
    """The imported Kemendagri wilayah list, as rules consult it."""

    def is_loaded(self) -> bool:
        """Whether any wilayah list was imported (without one, codes cannot be checked)."""

    def names(self, codes: Iterable[str]) -> dict[str, str]:
        """Names of the given codes that are in the list (unknown codes are absent)."""


class WriteContext(Protocol):
    """What a resource's domain rules may consult: stored resources, the wilayah list, today's date, the caller.

    ``replacing`` is the stored version an update replaces (None on a create and a delete): rules that treat a
    change of an element differently from its first value, or keep elements the server assigned, compare with
    it. Implemented above fhir/ (wiring.py), where the wilayah list and the settings are known.
    """

    @property
    def wilayah(self) -> WilayahLookup: ...

    @property
    def canonical_base(self) -> str: ...

    @property
    def today(self) -> date:
        """Today at the site (visit dates are local dates, not UTC ones)."""

    @property
    def caller_organization_id(self) -> str | None:
        """The organization the calling client is bound to; None for ilp/admin clients and the CLI."""

    @property
    def replacing(self) -> Json | None: ...

    def read(self, reference: Ref) -> Json | None:
        """A stored resource the caller may see, as JSON; None when unknown, deleted or out of its sight."""

    def updating(self, current: Json) -> "WriteContext":
        """The same context for an update that replaces ``current``."""

    def unscoped(self) -> "WriteContext":
        """The same transaction seen without the caller's organization scope, for an operation that must find a
        resource wherever it lies. Its own checks of the caller come first: rules run on it as for an operator.
        """


ANY_SYSTEM = frozenset({"*"})


@dataclass(frozen=True)
class ResourceDefinition:
    type: str
    model: builtins.type[Resource]
    description: str
    search_parameters: tuple[SearchParameter, ...]
    # Identifier systems that at most one active resource of this type may hold (enforced by a key); ANY_SYSTEM:
    # every identifier that names its system.
    unique_identifier_systems: frozenset[str] = frozenset()
    # Domain rules run on every create and update, after structural validation. They may raise a
    # FhirError, and return the JSON to store (e.g. with data-quality tags added).
    apply_rules: Callable[[WriteContext, Any, Json], Json] | None = None
    # May refuse to delete a stored resource (given as JSON) by raising a FhirError.
    check_delete: Callable[[WriteContext, Json], None] | None = None
    # What to do when a unique identifier a client sends is held outside its area (it is not told where).
    held_elsewhere_advice: str = "ask the dinkes to move that record to you"
    default_sort: tuple[str, ...] = ("_lastUpdated",)
    # Which resources a client bound to an organization may see (see fhir/visibility_rules.py).
    scope_rules: tuple[ScopeRule, ...] = ()
    # Reads, searches and writes of patient data leave an AuditEvent.
    patient_data: bool = False
    # Reference search parameters whose Patient targets are the patients whose compartment a resource of this
    # type belongs to (FHIR R4's Patient CompartmentDefinition, extended where R4 leaves a type out). A Patient
    # belongs to its own compartment without declaring it.
    compartment: tuple[str, ...] = ()
    # For the Patient only: where a resident is placed (managing organization, village, RW), from its JSON.
    placement: "Callable[[Json], Placement] | None" = None
    parameters_by_name: Mapping[str, SearchParameter] = field(init=False)

    def __post_init__(self) -> None:
        by_name = {p.name: p for p in (*COMMON_PARAMETERS, *self.search_parameters)}
        object.__setattr__(self, "parameters_by_name", by_name)
        for name in self.compartment:
            parameter = by_name.get(name)
            if parameter is None or parameter.type is not SearchType.REFERENCE:
                raise ValueError(
                    f"{self.type}'s compartment names {name!r}, which is not one of its reference parameters"
                )
        unindexed = [p.name for p in self.search_parameters if p.type is SearchType.URI]
        if unindexed:
            raise ValueError(f"{self.type}: stored types have no index for uri parameters ({', '.join(unindexed)})")

    def index_values(self, resource: Json) -> Iterator[tuple[SearchParameter, IndexValue]]:
        for parameter in self.parameters_by_name.values():
            for value in parameter.extract(resource):
                yield parameter, value


class Registry:
    def __init__(self) -> None:
        self._definitions: dict[str, ResourceDefinition] = {}

    def register(self, definition: ResourceDefinition) -> ResourceDefinition:
        self._definitions[definition.type] = definition
        return definition

    def unregister(self, resource_type: str) -> None:
        del self._definitions[resource_type]

    def get(self, resource_type: str) -> ResourceDefinition | None:
        return self._definitions.get(resource_type)

    def scope_rules(self) -> dict[str, tuple[ScopeRule, ...]]:
        return {definition.type: definition.scope_rules for definition in self._definitions.values()}

    def __iter__(self) -> Iterator[ResourceDefinition]:
        return iter(sorted(self._definitions.values(), key=lambda d: d.type))


# ---- extraction helpers: small path walkers instead of a FHIRPath engine ----


def walk(resource: Any, path: str) -> Iterator[Any]:
    """Every value at a dotted path, flattening arrays: ``walk(p, "name.given")``."""
    values = [resource]
    for step in path.split("."):
        following = []
        for value in values:
            child = value.get(step) if isinstance(value, dict) else None
            if isinstance(child, list):
                following.extend(child)
            elif child is not None:
                following.append(child)
        values = following
    return iter(values)


def normalise(text: str) -> str:
    """Case- and accent-insensitive form used for string search."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def strings(*paths: str) -> Callable[[Json], Iterator[Text]]:
    def extract(resource: Json) -> Iterator[Text]:
        for path in paths:
            for value in walk(resource, path):
                if isinstance(value, str):
                    yield indexed_text(value)  # cut short, a prefix search still works

    return extract


def codes(path: str, system: str = "") -> Callable[[Json], Iterator[Token]]:
    """A primitive code (``gender``) or an Identifier/Coding/CodeableConcept at ``path``."""

    def extract(resource: Json) -> Iterator[Token]:
        for value in walk(resource, path):
            yield from tokens_of(value, system)

    return extract


def tokens_of(value: Any, default_system: str = "") -> Iterator[Token]:
    if isinstance(value, str | bool):
        yield Token(default_system, str(value).lower() if isinstance(value, bool) else value)
    elif isinstance(value, dict):
        if "coding" in value:
            for coding in value["coding"]:
                yield from tokens_of(coding)
        elif "value" in value and isinstance(value["value"], str):  # Identifier
            yield Token(value.get("system", ""), value["value"])
        elif "code" in value:  # Coding
            yield Token(value.get("system", ""), value["code"])


def dates(*paths: str) -> Callable[[Json], Iterator[DateRange]]:
    """Dates, dateTimes and instants at ``paths``, and Periods: from their start to their end, an open end
    unbounded (a visit still in progress reaches past any later date)."""

    def extract(resource: Json) -> Iterator[DateRange]:
        for path in paths:
            for value in walk(resource, path):
                if isinstance(value, str):
                    yield date_range(value)
                elif isinstance(value, dict) and ("start" in value or "end" in value):
                    start, end = value.get("start"), value.get("end")
                    yield DateRange(
                        date_range(start).low if start else EARLIEST, date_range(end).high if end else LATEST
                    )

    return extract


def references(path: str) -> Callable[[Json], Iterator[Ref]]:
    def extract(resource: Json) -> Iterator[Ref]:
        for value in walk(resource, path):
            ref = parse_reference(value.get("reference", "")) if isinstance(value, dict) else None
            if ref:
                yield ref

    return extract


def parse_reference(reference: str) -> Ref | None:
    """``Organization/123`` or an absolute URL ending in it; contained (#) and urn references yield None."""
    parts = reference.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return Ref(parts[-2], parts[-1])
    return None


# A range reaching past the end of year 9999 (a search for 9999-12-31) ends there instead of overflowing.
EARLIEST = datetime.min.replace(tzinfo=UTC)
MINUTE_PRECISION = re.compile(r"T\d\d:\d\d(?!:)")
LATEST = datetime.max.replace(tzinfo=UTC)


def date_range(value: str) -> DateRange:
    """The instants a FHIR date/dateTime/instant covers, per its precision. Date-only values are read in UTC.

    ValueError for anything else, including days a month does not have and year 0000.
    """
    if not (value[:4].isascii() and value[:4].isdigit()):  # int() would take "+123" or other scripts' digits
        raise ValueError(f"{value!r} does not start with a four-digit year")
    if len(value) == 4:
        low = datetime(int(value), 1, 1, tzinfo=UTC)
        return DateRange(low, _month_start(low.year + 1, 1))
    if len(value) == 7:
        low = datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=UTC)
        return DateRange(low, _month_start(low.year + low.month // 12, low.month % 12 + 1))
    if len(value) == 10:
        low = datetime.combine(date.fromisoformat(value), time.min, UTC)
        return DateRange(low, _later(low, timedelta(days=1)))
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    step = timedelta(microseconds=1) if "." in value else timedelta(seconds=1)
    if MINUTE_PRECISION.search(value):
        step = timedelta(minutes=1)
    try:
        low = moment.astimezone(UTC)
    except OverflowError:  # in UTC, 9999-12-31T23:00-05:00 is in year 10000 and 0001-01-01T00:00+07:00 in year 0
        low = LATEST if moment.year == 9999 else EARLIEST
    return DateRange(low, _later(low, step))


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC) if year <= 9999 else LATEST


def _later(moment: datetime, step: timedelta) -> datetime:
    try:
        return moment + step
    except OverflowError:
        return LATEST


COMMON_PARAMETERS: tuple[SearchParameter, ...] = (
    SearchParameter(
        "_id",
        SearchType.TOKEN,
        "Logical id of the resource",
        lambda r: (),
        example="0d5c3b52-8f3e-4c1a-9d2b-6a7e1f4c2b90",
    ),
    SearchParameter("_lastUpdated", SearchType.DATE, "When the resource version was stored", lambda r: ()),
    SearchParameter(
        "_tag",
        SearchType.TOKEN,
        "Tags in meta.tag (data-quality flags among them)",
        codes("meta.tag"),
        example="nik-tanggal-lahir-berbeda",
    ),
)
# _id and _lastUpdated are columns of the resource table, not index rows.
COLUMN_PARAMETERS = frozenset({"_id", "_lastUpdated"})

registry = Registry()
