"""What FHIR JSON forbids whatever the element (null, empty values, control characters), and the server's
bounds on size and nesting: checked on the parsed JSON before any model sees it."""

from typing import Any

from ilp_api.fhir.datatypes.primitives import CONTROL_CHARACTER
from ilp_api.fhir.limits import Limits

# The longest FHIR R4 element name has fewer than 40 characters.
MAX_ELEMENT_NAME = 64


def json_problems(data: Any, path: str, limits: Limits) -> list[tuple[str, str, str]]:
    """What FHIR JSON forbids (null, empty values, control characters) and what exceeds ``limits``.

    Each problem is (path, message, OperationOutcome issue code). Call it only on JSON that passed
    ``fhir.json.loads`` with a depth: it recurses.
    """
    problems: list[tuple[str, str, str]] = []
    if data is None:
        problems.append((path, "null is not allowed in FHIR JSON; leave the element out", "invalid"))
    elif isinstance(data, str):
        if not data.strip():
            problems.append((path, "empty strings are not allowed in FHIR JSON; leave the element out", "invalid"))
        elif len(data) > limits.string_length:
            message = f"{len(data)} characters are more than the {limits.string_length} a string may have"
            problems.append((path, message, "too-long"))
        elif CONTROL_CHARACTER.search(data):
            message = "control characters (other than tab, CR and LF) are not allowed in FHIR strings"
            problems.append((path, message, "invalid"))
    elif isinstance(data, list):
        if not data:
            problems.append((path, "empty arrays are not allowed in FHIR JSON; leave the element out", "invalid"))
        elif len(data) > limits.array_items:
            message = f"{len(data)} items are more than the {limits.array_items} an array may have"
            return [(path, message, "too-long")]
        for index, item in enumerate(data):
            problems.extend(json_problems(item, f"{path}[{index}]", limits))
    elif isinstance(data, dict):
        if not data:
            problems.append((path, "empty objects are not allowed in FHIR JSON; leave the element out", "invalid"))
        for key, value in data.items():
            if CONTROL_CHARACTER.search(key) or len(key) > MAX_ELEMENT_NAME:
                message = f"element names have at most {MAX_ELEMENT_NAME} characters and no control characters"
                problems.append((path, message, "invalid"))
                continue
            problems.extend(json_problems(value, f"{path}.{key}", limits))
    return problems
