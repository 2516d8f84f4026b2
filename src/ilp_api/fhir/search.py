"""Parse a FHIR search query into a typed ``SearchRequest``; the repository turns it into SQL.

Unknown parameters are an error by default (a silently ignored typo returns the wrong patients);
``Prefer: handling=lenient`` ignores them, as the FHIR specification allows.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ilp_api.fhir.datatypes import CONTROL_CHARACTER
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.outcome import BadRequest, TooCostly, shown
from ilp_api.fhir.registry import (
    DateRange,
    Ref,
    Registry,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    Text,
    date_range,
    indexed_text,
    normalise,
    parse_reference,
)

DATE_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")
MODIFIERS = {SearchType.STRING: ("contains", "exact"), SearchType.TOKEN: ("not",)}
RESULT_PARAMETERS = frozenset(
    {"_count", "_offset", "_sort", "_total", "_summary", "_include", "_revinclude", "_format"}
)
# _summary=count asks for the number of matches only; false (whole resources) is what a search returns anyway.
SUMMARIES = ("count", "false")


class Searchable(Protocol):
    """A type a search is parsed for: a stored one (``ResourceDefinition``) or a read-only one (fhir/providers.py)."""

    @property
    def type(self) -> str: ...

    @property
    def parameters_by_name(self) -> Mapping[str, SearchParameter]: ...

    @property
    def default_sort(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class TokenValue:
    system: str | None  # None: any system
    code: str | None  # None: any code in the system ("system|")


@dataclass(frozen=True)
class DateValue:
    prefix: str
    range: DateRange


SearchValue = TokenValue | str | Text | DateValue | Ref  # str: a folded string; Text: one searched with :exact


@dataclass(frozen=True)
class Filter:
    """One query parameter occurrence: its comma-separated values are OR-ed; filters are AND-ed."""

    parameter: SearchParameter
    modifier: str | None
    values: tuple[SearchValue, ...]


@dataclass(frozen=True)
class SortKey:
    parameter: SearchParameter
    descending: bool


@dataclass(frozen=True)
class Include:
    source: ResourceDefinition  # the type holding the reference
    parameter: SearchParameter


@dataclass(frozen=True)
class SearchRequest:
    filters: tuple[Filter, ...]
    sort: tuple[SortKey, ...]
    count: int
    offset: int
    with_total: bool
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()


def parse_search(
    definition: Searchable,
    query: Sequence[tuple[str, str]],
    registry: Registry,
    *,
    default_count: int,
    max_count: int,
    limits: Limits,
    lenient: bool = False,
) -> SearchRequest:
    filters: list[Filter] = []
    result: dict[str, list[str]] = {}
    occurrences: Counter[str] = Counter()
    for key, raw in query:
        if CONTROL_CHARACTER.search(key + raw):
            raise BadRequest(f"Search parameter {shown(key)} holds a control character", expression=key)
        name, _, modifier = key.partition(":")
        occurrences[name] += 1
        if occurrences[name] > limits.parameter_repeats:
            raise TooCostly(
                f"'{name}' is given more than {limits.parameter_repeats} times; combine values with commas (OR)",
                expression=name,
            )
        if name in RESULT_PARAMETERS:
            result.setdefault(name, []).append(raw)
            continue
        parameter = definition.parameters_by_name.get(name)
        if parameter is None:
            if lenient:
                continue
            known = ", ".join(sorted(definition.parameters_by_name))
            raise BadRequest(
                f"Unknown search parameter '{name}' for {definition.type}. Supported: {known}",
                expression=key,
                issues=(),
            )
        filters.append(_parse_filter(parameter, modifier or None, raw, key, limits))
    summary = _last(result.get("_summary"))
    if summary is not None and summary not in SUMMARIES:
        raise BadRequest(
            f"_summary={shown(summary)} is not supported: _summary=count gives the number of matches only",
            expression="_summary",
        )
    count = paging_number(_last(result.get("_count")), "_count", default_count, max_count)
    return SearchRequest(
        filters=tuple(filters),
        sort=_parse_sort(definition, result.get("_sort", []), limits),
        count=0 if summary == "count" else count,
        offset=paging_number(_last(result.get("_offset")), "_offset", 0, MAX_OFFSET),
        with_total=summary == "count" or (result.get("_total") or ["accurate"])[-1] != "none",
        includes=tuple(_parse_include(v, registry, definition, reverse=False) for v in result.get("_include", [])),
        revincludes=tuple(_parse_include(v, registry, definition, reverse=True) for v in result.get("_revinclude", [])),
    )


def _last(values: list[str] | None) -> str | None:
    return values[-1] if values else None


def _parse_filter(parameter: SearchParameter, modifier: str | None, raw: str, key: str, limits: Limits) -> Filter:
    allowed = MODIFIERS.get(parameter.type, ())
    if modifier and modifier not in allowed:
        supported = ", ".join(f":{m}" for m in allowed) or "none"
        raise BadRequest(
            f"Modifier ':{modifier}' is not supported on '{parameter.name}' ({parameter.type}); supported: {supported}",
            expression=key,
        )
    if not raw:
        raise BadRequest(f"Search parameter '{key}' has no value", expression=key)
    parts = _split_or(raw)
    if len(parts) > limits.values_per_parameter:
        raise TooCostly(
            f"'{key}' has {len(parts)} comma-separated values; at most {limits.values_per_parameter} are searched "
            "at once",
            expression=key,
        )
    values = tuple(_parse_value(parameter, part, key, exact=modifier == "exact") for part in parts)
    return Filter(parameter, modifier, values)


def _split_or(raw: str) -> list[str]:
    """Split on commas not escaped with a backslash, as FHIR search requires."""
    parts, current, escaped = [], "", False
    for char in raw:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _parse_value(parameter: SearchParameter, raw: str, key: str, *, exact: bool = False) -> SearchValue:
    if parameter.type is SearchType.STRING:
        return indexed_text(raw) if exact else normalise(raw)
    if parameter.type is SearchType.URI:
        return raw  # matched exactly
    if parameter.type is SearchType.TOKEN:
        system, _, code = raw.rpartition("|") if "|" in raw else (None, "", raw)
        problem = parameter.value_problem(code) if parameter.value_problem and code else None
        if problem:
            raise BadRequest(f"{key}={raw}: {problem}", expression=key)
        return TokenValue(system, code or None)
    if parameter.type is SearchType.DATE:
        return date_value(raw, key)
    reference = parse_reference(raw) if "/" in raw else _bare_id_reference(parameter, raw, key)
    if reference is None or (parameter.targets and reference.type not in parameter.targets):
        targets = " or ".join(parameter.targets)
        raise BadRequest(f"'{raw}' is not a reference to {targets} for '{key}'", expression=key)
    return reference


def date_value(raw: str, key: str) -> DateValue:
    """``ge2026-11-01`` → DateValue("ge", its range); a 400 naming ``key``, and why, for anything else."""
    prefix = raw[:2] if raw[:2] in DATE_PREFIXES else "eq"
    text = raw[2:] if raw[:2] in DATE_PREFIXES else raw
    try:
        return DateValue(prefix, date_range(text))
    except ValueError as error:
        raise BadRequest(
            f"{shown(raw)} is not a FHIR date for '{key}' ({error}): use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime "
            f"with a time zone, optionally prefixed by {', '.join(DATE_PREFIXES)}",
            expression=key,
        ) from None


def _bare_id_reference(parameter: SearchParameter, raw: str, key: str) -> Ref:
    if len(parameter.targets) != 1:
        raise BadRequest(f"Give '{key}' as Type/id: it can refer to {', '.join(parameter.targets)}", expression=key)
    return Ref(parameter.targets[0], raw)


def _parse_sort(definition: Searchable, values: list[str], limits: Limits) -> tuple[SortKey, ...]:
    names = [name for value in values for name in value.split(",") if name] or list(definition.default_sort)
    if len(names) > limits.sort_keys:
        raise TooCostly(f"_sort has {len(names)} keys; at most {limits.sort_keys} are allowed", expression="_sort")
    keys = []
    for name in names:
        parameter = definition.parameters_by_name.get(name.lstrip("-"))
        if parameter is None or parameter.type is SearchType.REFERENCE:
            sortable = ", ".join(
                sorted(p.name for p in definition.parameters_by_name.values() if p.type is not SearchType.REFERENCE)
            )
            raise BadRequest(f"Cannot sort {definition.type} by '{name}'. Sortable: {sortable}", expression="_sort")
        keys.append(SortKey(parameter, name.startswith("-")))
    return tuple(keys)


MAX_OFFSET = 10_000_000


def paging_number(value: str | None, name: str, default: int, high: int) -> int:
    """``_count`` or ``_offset``: a whole number ≥ 0, capped at ``high``; a 400 naming it otherwise."""
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()):
        raise BadRequest(f"{name} must be a whole number ≥ 0, not {shown(value)}", expression=name)
    # A number longer than any bound is the bound (and int() refuses strings of thousands of digits).
    return high if len(value) > len(str(high)) else min(int(value), high)


def _parse_include(value: str, registry: Registry, searched: Searchable, *, reverse: bool) -> Include:
    name = "_revinclude" if reverse else "_include"
    source_type, _, parameter_name = value.partition(":")
    source = registry.get(source_type)
    parameter = source.parameters_by_name.get(parameter_name.split(":")[0]) if source else None
    if source is None or parameter is None or parameter.type is not SearchType.REFERENCE:
        raise BadRequest(f"{name}={value} is not Type:reference-parameter of a supported type", expression=name)
    if not reverse and source.type != searched.type:
        raise BadRequest(f"_include must start with the searched type {searched.type}", expression=name)
    if reverse and parameter.targets and searched.type not in parameter.targets:
        raise BadRequest(f"{value} does not refer to {searched.type}", expression=name)
    return Include(source, parameter)
