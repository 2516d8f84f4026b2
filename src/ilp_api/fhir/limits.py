"""Bounds on what one request may ask of the server, so that no client can make it work for minutes.

Each bound is a setting (``ILP_MAX_…``, see settings.py); the defaults are far above what a clinic app sends.
A request beyond a bound is refused before any database work, with an OperationOutcome naming the bound.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    json_depth: int = 32  # nesting of objects and arrays in a resource or Bundle
    string_length: int = 65_536  # characters in one JSON string
    array_items: int = 1_000  # items in one JSON array
    identifiers: int = 20  # Identifiers of one resource: each one is indexed and may be claimed
    parameter_repeats: int = 10  # occurrences of one search parameter in a query
    values_per_parameter: int = 100  # comma-separated (OR-ed) values of one occurrence
    sort_keys: int = 5  # keys in _sort
    bundle_entries: int = 500  # entries of a transaction or batch (Azure's FHIR service allows as many)
