"""A search over resources held in memory (a read-only type's few, fixed resources, such as the code systems):
the same filters, modifiers, sort and paging that storage compiles to SQL, evaluated on the resources' JSON with
their search parameters' extractors."""

from collections.abc import Callable, Sequence
from typing import Any

from ilp_api.fhir.outcome import NotFound
from ilp_api.fhir.providers import Found, ReadOnlyType
from ilp_api.fhir.registry import DateRange, IndexValue, Json, Ref, SearchParameter, Text, Token
from ilp_api.fhir.search import DateValue, Filter, SearchRequest, SortKey, TokenValue
from ilp_api.fhir.unit_of_work import UnitOfWork


def fixed_resources_type(
    resource_type: str,
    description: str,
    search_parameters: tuple[SearchParameter, ...],
    resources: Callable[[str], Sequence[Json]],
) -> ReadOnlyType:
    """A read-only type of a few fixed resources (the project's CodeSystems, its Questionnaires), built from the
    canonical base by ``resources``: read by id, searched in memory, sorted by id."""

    def read(unit: UnitOfWork, resource_id: str) -> Json:
        by_id = {resource["id"]: resource for resource in resources(unit.rules.canonical_base)}
        if resource_id not in by_id:
            raise NotFound(f"{resource_type}/{resource_id} is not known. Known: {', '.join(by_id)}")
        return by_id[resource_id]

    def search(unit: UnitOfWork, request: SearchRequest) -> Found:
        return search_in_memory(resources(unit.rules.canonical_base), request)

    return ReadOnlyType(
        type=resource_type,
        description=description,
        search_parameters=search_parameters,
        search=search,
        read=read,
        default_sort=("_id",),
    )


def search_in_memory(resources: Sequence[Json], request: SearchRequest) -> Found:
    matches = [resource for resource in resources if all(_matches(resource, f) for f in request.filters)]
    for key in reversed(request.sort):  # stable sorts, the least significant key first
        keyed = [(_sort_value(resource, key), resource) for resource in matches]
        present = sorted((pair for pair in keyed if pair[0] is not None), key=lambda p: p[0], reverse=key.descending)
        matches = [resource for _, resource in present] + [resource for value, resource in keyed if value is None]
    page = matches[request.offset : request.offset + request.count]
    return Found(page, len(matches) if request.with_total else None)


def _matches(resource: Json, search_filter: Filter) -> bool:
    values = list(search_filter.parameter.extract(resource))
    found = any(_value_matches(search_filter, indexed, wanted) for indexed in values for wanted in search_filter.values)
    return not found if search_filter.modifier == "not" else found


def _value_matches(search_filter: Filter, indexed: IndexValue, wanted: Any) -> bool:
    parameter = search_filter.parameter
    if isinstance(wanted, TokenValue) and isinstance(indexed, Token):
        return _token_matches(parameter, indexed, wanted)
    if isinstance(wanted, DateValue) and isinstance(indexed, DateRange):
        return _date_matches(indexed, wanted)
    if isinstance(wanted, Ref) and isinstance(indexed, Ref):
        return indexed == wanted
    if isinstance(wanted, Text) and isinstance(indexed, Text):  # :exact, case- and accent-sensitive
        return indexed.exact == wanted.exact
    if isinstance(wanted, str) and isinstance(indexed, Text):
        return wanted in indexed.folded if search_filter.modifier == "contains" else indexed.folded.startswith(wanted)
    if isinstance(wanted, str) and isinstance(indexed, str):  # a uri, matched whole
        return indexed == wanted
    return False


def _token_matches(parameter: SearchParameter, indexed: Token, wanted: TokenValue) -> bool:
    if wanted.system is not None and indexed.system != wanted.system:
        return False
    if wanted.code is None:
        return True
    return indexed.code.startswith(wanted.code) if parameter.match_below else indexed.code == wanted.code


def _date_matches(indexed: DateRange, wanted: DateValue) -> bool:
    """FHIR's date prefixes over ranges, as storage compiles them (fhir/repository.py)."""
    searched = wanted.range
    within = indexed.low >= searched.low and indexed.high <= searched.high
    return {
        "eq": within,
        "ne": not within,
        "lt": indexed.low < searched.low,
        "le": indexed.low < searched.high,
        "gt": indexed.high > searched.high,
        "ge": indexed.high > searched.low,
    }[wanted.prefix]


def _sort_value(resource: Json, key: SortKey) -> Any:
    """The smallest of the resource's values ascending, the largest descending; None when it has none (last)."""
    values = [_comparable(value) for value in key.parameter.extract(resource)]
    if not values:
        return None
    return max(values) if key.descending else min(values)


def _comparable(value: IndexValue) -> Any:
    if isinstance(value, Token):
        return value.code
    if isinstance(value, DateRange):
        return value.low
    if isinstance(value, Ref):
        return (value.type, value.id)
    if isinstance(value, Text):
        return value.folded
    return value
