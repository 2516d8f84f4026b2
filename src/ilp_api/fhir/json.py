"""FHIR JSON in and out: orjson's speed, and every FHIR ``decimal`` kept exactly as the client wrote it.

FHIR requires a decimal's precision to be kept (``1.50`` is not ``1.5``), but orjson, like any JSON parser
into floats, forgets the digits a float does not need. So a body is parsed by orjson (fast, and the judge of
what is valid JSON), and only when it holds a number that came back as a float (a literal with ``.`` or an
exponent, or an integer beyond 64 bits) is it parsed again by the standard library, which hands us each such
number's text. That number becomes an ``ExactNumber``: a float, so that index extraction and the rules engine
compute with it as before, that remembers its text, which ``dumps`` writes back verbatim.

Decisions, each tested in tests/fhir/test_decimals.py:
- ``1e400`` (beyond a double) is refused by orjson as invalid JSON: the rules could not compute with it.
- ``1E-7``, ``-0.0`` and ``1.50`` are stored and returned as sent; ``1e-400`` keeps its text and computes as 0.
- Integers are values, not text: ``-0`` is stored as ``0``. An integer beyond 64 bits keeps its text (it can
  only be a decimal: FHIR integers are 32-bit, and the models refuse it where an integer is due).
"""

import json
import math
from typing import Any

import orjson

__all__ = ["ExactNumber", "NestedTooDeep", "dumps", "loads"]

# orjson parses and writes integers in this range as integers; beyond it they become floats.
_SMALLEST_INTEGER = -(2**63)
_LARGEST_INTEGER = 2**64 - 1


class ExactNumber(float):
    """A JSON number as sent: computes as a float, serialises as its original text."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> "ExactNumber":
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __repr__(self) -> str:
        return self.text


def _integer(text: str) -> int | ExactNumber:
    value = int(text)
    return value if _SMALLEST_INTEGER <= value <= _LARGEST_INTEGER else ExactNumber(text)


class NestedTooDeep(ValueError):
    """JSON nesting objects and arrays deeper than allowed."""


def _shape(data: Any, max_depth: float) -> tuple[bool, bool]:
    """Whether ``data`` nests deeper than ``max_depth``, and whether any number in it was parsed as a float.

    One iterative walk, level by level: it runs before anything that recurses (the standard library's parser,
    validation, the encoder), and on every write.
    """
    level = [data] if type(data) is dict or type(data) is list else []
    depth = 0
    floats = type(data) is float
    while level:
        depth += 1
        if depth > max_depth:
            return True, floats
        below = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
                elif kind is float:
                    floats = True
        level = below
    return False, floats


def loads(body: bytes | str, max_depth: int | None = None) -> Any:
    """JSON with its decimals exact. Raises ``orjson.JSONDecodeError`` for what is not JSON, and
    ``NestedTooDeep`` for objects and arrays nested more than ``max_depth`` levels deep (a client's body: what
    was stored passed that check when it was written)."""
    data = orjson.loads(body)
    too_deep, floats = _shape(data, math.inf if max_depth is None else max_depth)
    if too_deep:
        raise NestedTooDeep(f"more than {max_depth} levels deep")
    if not floats:
        return data
    return json.loads(body, parse_float=ExactNumber, parse_int=_integer)


def _exact_text(value: Any) -> orjson.Fragment:
    if isinstance(value, ExactNumber):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(data: Any) -> bytes:
    """JSON bytes, with each ``ExactNumber`` written as the text it was parsed from."""
    return orjson.dumps(data, default=_exact_text)


def without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    """A stored resource as its writer would send it again: without the ``meta`` the server keeps (version, time)."""
    return {key: value for key, value in resource.items() if key != "meta"}
