"""The patch interaction's documents applied to a resource's JSON: pure functions, no storage.

FHIR R4 (http.html#patch) has the server apply the patch to its copy of the resource and then process the result
as an update, so the service hands what these functions return to its ordinary update path.

Two documents are understood:
- JSON Patch (RFC 6902, ``application/json-patch+json``), the format FHIR names for JSON;
- JSON Merge Patch (RFC 7386, ``application/merge-patch+json``), which is what fhirpy's ``patch()`` and
  ``save(fields=…)`` send, as a plain JSON object under ``application/json``. Under that media type the document's
  shape tells them apart: an array of operations is a JSON Patch, an object a merge patch.

Status codes follow RFC 5789 §2.2, to which RFC 6902 §5 refers: a malformed document is 400; a ``test`` that fails
is the resource's state conflicting with the patch, 409; an operation that cannot be applied to this resource (a
path that does not exist), or a change of ``id`` or ``resourceType``, is 422. The patched resource then passes the
update's own validation, whose errors are 422 as for PUT.
"""

import copy
import re
from typing import Any

from ilp_api.fhir.outcome import BadRequest, Conflict, TooCostly, Unprocessable, UnsupportedMediaType, shown
from ilp_api.fhir.registry import Json

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
PLAIN_JSON = "application/json"
PATCH_MEDIA_TYPES = (JSON_PATCH, MERGE_PATCH, PLAIN_JSON)

BAD_ESCAPE = re.compile(r"~(?![01])")
OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
# Copies can double a resource with each operation: a patched resource may hold at most this many JSON values.
MAX_PATCHED_VALUES = 100_000


def apply_patch(resource: Json, media_type: str, document: Any) -> Json:
    """The resource with ``document`` applied; ``resource`` itself is left as it was."""
    if media_type == JSON_PATCH or (media_type in (PLAIN_JSON, "") and isinstance(document, list)):
        patched = apply_json_patch(resource, document)
    elif media_type == MERGE_PATCH or (media_type in (PLAIN_JSON, "") and isinstance(document, dict)):
        patched = apply_merge_patch(resource, document)
    elif media_type in (PLAIN_JSON, ""):
        raise BadRequest("A patch is a JSON Patch array of operations or a JSON Merge Patch object")
    else:
        raise UnsupportedMediaType(f"Content-Type {media_type} is not a patch format: send {JSON_PATCH}")
    _check_identity(resource, patched)
    return patched


def apply_merge_patch(resource: Json, document: Any) -> Json:
    """RFC 7386: members of the document replace the resource's, recursively; a null removes the member."""
    if not isinstance(document, dict):
        raise BadRequest("A JSON Merge Patch of a resource is a JSON object of the elements to change")
    merged: Json = _merged(resource, document)
    return merged


def _merged(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = _merged(result.get(name), value)
    return result


def apply_json_patch(resource: Json, operations: Any) -> Json:
    """RFC 6902: every operation in turn, all or nothing (the caller's resource is never changed)."""
    if not isinstance(operations, list):
        raise BadRequest(
            f"A JSON Patch ({JSON_PATCH}) is a JSON array of operations such as "
            '{"op": "replace", "path": "/active", "value": false}'
        )
    document: Any = copy.deepcopy(resource)
    size = _values_in(document, MAX_PATCHED_VALUES)
    for index, operation in enumerate(operations):
        op, path, value, source = _parse_operation(index, operation)
        where = f"operation {index} ({op} {path})"
        if op == "test":
            _test(document, path, value, where)
            continue
        if op in ("move", "copy"):
            assert source is not None
            if op == "move" and path.startswith(source + "/"):
                raise Unprocessable(f"{where}: a value cannot be moved into itself ({source})")
            value = _get(document, source, where)
            if op == "move":
                document = _remove(document, source, where)
            else:
                value = copy.deepcopy(value)
        if op == "remove":
            document = _remove(document, path, where)
        elif op == "replace":
            document = _replace(document, path, value, where)
        else:
            document = _add(document, path, value, where)
        if op in ("add", "replace", "copy"):
            size += _values_in(value, MAX_PATCHED_VALUES - size + 1)
            if size > MAX_PATCHED_VALUES:
                raise TooCostly(f"{where}: the patched resource would hold more than {MAX_PATCHED_VALUES} values")
    if not isinstance(document, dict):
        raise Unprocessable("The patch would replace the resource with something that is not a JSON object")
    return document


def _parse_operation(index: int, operation: Any) -> tuple[str, str, Any, str | None]:
    """(op, path, value, from) of one operation, or a 400 naming what is missing or wrong."""
    if not isinstance(operation, dict):
        raise BadRequest(f"JSON Patch operation {index} is {shown(operation)}, not an object with op and path")
    op = operation.get("op")
    if not isinstance(op, str) or op not in OPERATIONS:
        raise BadRequest(f"JSON Patch operation {index} has op {shown(op)}; use one of {', '.join(OPERATIONS)}")
    where = f"JSON Patch operation {index} ({op})"
    path = _pointer(operation.get("path"), where, "path")
    source = _pointer(operation.get("from"), where, "from") if op in ("move", "copy") else None
    if op in ("add", "replace", "test") and "value" not in operation:
        raise BadRequest(f"{where} needs a value")
    return op, path, operation.get("value"), source


def _pointer(pointer: Any, where: str, member: str) -> str:
    """A JSON Pointer (RFC 6901): empty, or '/'-separated tokens in which '~' is only ever '~0' or '~1'."""
    if not isinstance(pointer, str):
        raise BadRequest(f"{where} needs '{member}', a JSON Pointer such as /name/0/family")
    if pointer and not pointer.startswith("/"):
        raise BadRequest(f"{where}: {member} {shown(pointer)} must start with '/' (a JSON Pointer)")
    if BAD_ESCAPE.search(pointer):
        raise BadRequest(f"{where}: {member} {shown(pointer)} has a '~' that is not ~0 ('~') or ~1 ('/')")
    return pointer


def _tokens(pointer: str) -> list[str]:
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]


def _index(container: list[Any], token: str, where: str, *, end_allowed: bool) -> int:
    """The array index a token names: digits without leading zeros, below the length ('-' and the length itself
    only where a value is added)."""
    if token == "-" and end_allowed:
        return len(container)
    if not (token.isascii() and token.isdigit()) or (token.startswith("0") and token != "0"):
        raise Unprocessable(f"{where}: {shown(token)} is not an index of an array of {len(container)}")
    number = int(token) if len(token) <= len(str(len(container))) else len(container) + 1
    if number > len(container) or (number == len(container) and not end_allowed):
        raise Unprocessable(f"{where}: index {token} is beyond the array's {len(container)} items")
    return number


def _parent(document: Any, pointer: str, where: str) -> tuple[Any, str]:
    """The container holding the value ``pointer`` names, and its last token."""
    tokens = _tokens(pointer)
    container = document
    for token in tokens[:-1]:
        container = _child(container, token, where)
    return container, tokens[-1]


def _child(container: Any, token: str, where: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise Unprocessable(f"{where}: the resource has no element {shown(token)} there")
        return container[token]
    if isinstance(container, list):
        return container[_index(container, token, where, end_allowed=False)]
    raise Unprocessable(f"{where}: {shown(token)} goes into a value that has no elements")


def _get(document: Any, pointer: str, where: str) -> Any:
    value = document
    for token in _tokens(pointer):
        value = _child(value, token, where)
    return value


def _add(document: Any, pointer: str, value: Any, where: str) -> Any:
    if not pointer:
        return value
    container, token = _parent(document, pointer, where)
    if isinstance(container, dict):
        container[token] = value
    elif isinstance(container, list):
        container.insert(_index(container, token, where, end_allowed=True), value)
    else:
        raise Unprocessable(f"{where}: {shown(token)} goes into a value that has no elements")
    return document


def _replace(document: Any, pointer: str, value: Any, where: str) -> Any:
    if not pointer:
        return value
    container, token = _parent(document, pointer, where)
    _child(container, token, where)  # it must exist
    if isinstance(container, dict):
        container[token] = value
    else:
        container[_index(container, token, where, end_allowed=False)] = value
    return document


def _remove(document: Any, pointer: str, where: str) -> Any:
    if not pointer:
        raise Unprocessable(f"{where}: the whole resource cannot be removed")
    container, token = _parent(document, pointer, where)
    _child(container, token, where)  # it must exist
    if isinstance(container, dict):
        del container[token]
    else:
        del container[_index(container, token, where, end_allowed=False)]
    return document


def _test(document: Any, pointer: str, expected: Any, where: str) -> None:
    if not _json_equal(_get(document, pointer, where), expected):
        raise Conflict(
            f"{where} failed: the resource holds another value there; read it again and re-apply your change"
        )


def _json_equal(left: Any, right: Any) -> bool:
    """JSON equality (RFC 6902 §4.6): as Python's, except that true is not 1 and false is not 0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    return bool(left == right)


def _values_in(value: Any, limit: int) -> int:
    """How many JSON values ``value`` holds, counting no further than ``limit``."""
    count, pending = 0, [value]
    while pending and count <= limit:
        current = pending.pop()
        count += 1
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return count


def _check_identity(original: Json, patched: Json) -> None:
    for element in ("resourceType", "id"):
        if patched.get(element) != original.get(element):
            raise Unprocessable(
                f"A patch may not change {element} ({shown(original.get(element))}); create a new resource instead",
                expression=f"{original.get('resourceType')}.{element}",
            )
