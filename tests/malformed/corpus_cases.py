"""Reading the committed corpus: placeholders, generator specs, and what an answer must look like.

The corpus format is described in generate_corpus.py.
"""

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson

CORPUS = Path(__file__).with_name("corpus.jsonl")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_]+)\}")
TOKEN_PATH = "/oauth2/token"
# RFC 6749 §5.2
OAUTH_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}
ISSUE_SEVERITIES = {"fatal", "error", "warning", "information"}


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def substitute(value: Any, seeds: dict[str, str]) -> Any:
    """``${name}`` in every string (keys included) replaced by the seeded dataset's value."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: seeds[match[1]], value)
    if isinstance(value, list):
        return [substitute(item, seeds) for item in value]
    if isinstance(value, dict):
        return {substitute(key, seeds): substitute(item, seeds) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class CorpusRequest:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


def build_request(case: dict[str, Any], seeds: dict[str, str], tokens: dict[str, str]) -> CorpusRequest:
    url = substitute(case["path"], seeds)
    if "query" in case:
        url += "?" + urlencode(_pairs(substitute(case["query"], seeds)), quote_via=quote)
    headers = {"Authorization": f"Bearer {tokens[case['auth']]}"} if case["auth"] != "none" else {}
    headers.update(substitute(case.get("headers", {}), seeds))
    content = body_bytes(case["body"], seeds) if "body" in case else None
    return CorpusRequest(case["method"], url, headers, content)


def _pairs(pairs: list[list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs]


def body_bytes(body: dict[str, Any], seeds: dict[str, str]) -> bytes:
    if "text" in body:
        return substitute(body["text"], seeds).encode("utf-8")  # type: ignore[no-any-return]
    if "base64" in body:
        return base64.b64decode(body["base64"])
    if "form" in body:
        return urlencode(_pairs(substitute(body["form"], seeds))).encode("ascii")
    text = json.dumps(substitute(body["json"], seeds))
    for marker, spec in body.get("expand", {}).items():
        text = text.replace(json.dumps(marker), _expansion(spec, seeds))
    data = text.encode("utf-8")
    if "pad_to" in body:
        data += b" " * (body["pad_to"] - len(data))
    return data


def _expansion(spec: dict[str, Any], seeds: dict[str, str]) -> str:
    """The JSON text a generator spec stands for (see generate_corpus.py)."""
    ((kind, parameters),) = spec.items()
    if kind == "string":
        return '"' + "a" * parameters["length"] + '"'
    if kind == "array":
        item = json.dumps(substitute(parameters["item"], seeds))
        return "[" + ",".join([item] * parameters["count"]) + "]"
    depth = parameters["depth"]
    if parameters["kind"] == "array":
        return "[" * depth + "]" * depth
    if parameters["kind"] == "object":
        return '{"a":' * depth + "{}" + "}" * depth
    level = '{"url":"http://example.org/nested","extension":['
    innermost = '{"url":"http://example.org/nested","valueString":"x"}'
    return "[" + level * (depth - 1) + innermost + "]}" * (depth - 1) + "]"


def answer_problems(case: dict[str, Any], response: httpx.Response) -> list[str]:
    """What is wrong with the answer to a malformed request (empty: nothing)."""
    status = response.status_code
    if status >= 500:
        return [f"server error {status}"]
    if case.get("expect") == "answered" and status < 400:
        return []
    if case["path"] == TOKEN_PATH and status != 413:  # the body bound answers before any route, in FHIR's shape
        return _oauth_error_problems(response)
    if status == 200 and _is_batch(case):
        return _batch_problems(case, response)
    if status < 400:
        return [f"accepted with {status}: a malformed request must be rejected with a 4xx"]
    return _outcome_problems(response)


def _is_batch(case: dict[str, Any]) -> bool:
    body = case.get("body", {}).get("json")
    return isinstance(body, dict) and body.get("type") == "batch" and case["path"] == "/fhir"


def _batch_problems(case: dict[str, Any], response: httpx.Response) -> list[str]:
    """A batch answers 200 with each entry's own answer: every malformed entry a 4xx OperationOutcome."""
    try:
        bundle = orjson.loads(response.content)
        entries = bundle.get("entry", [])
    except (orjson.JSONDecodeError, AttributeError):
        return ["a batch answered 200 with a body that is no Bundle"]
    sent = case["body"]["json"].get("entry")
    expected = case.get("entries") or ["4xx"] * (len(sent) if isinstance(sent, list) else 0)
    if len(entries) != len(expected):
        return [f"a batch answered 200 with {len(entries)} entries, expected {len(expected)} ({expected})"]
    problems = []
    for index, (entry, wanted) in enumerate(zip(entries, expected, strict=True)):
        status = str(entry.get("response", {}).get("status", ""))
        if not status.startswith(wanted[0]):
            problems.append(f"batch entry {index} answered {status or 'nothing'}, expected {wanted}")
        elif wanted == "4xx":
            problems += [f"batch entry {index}: {p}" for p in _issue_problems(entry["response"].get("outcome"))]
    return problems


def _outcome_problems(response: httpx.Response) -> list[str]:
    if not response.headers.get("content-type", "").startswith("application/fhir+json"):
        return [f"{response.status_code} answered as {response.headers.get('content-type')}, not application/fhir+json"]
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return [f"{response.status_code} with a body that is no JSON"]
    return _issue_problems(body)


def _issue_problems(body: Any) -> list[str]:
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ["the answer is no OperationOutcome"]
    issues = body.get("issue")
    if not isinstance(issues, list) or not issues:
        return ["the OperationOutcome has no issue"]
    return [
        f"OperationOutcome issue {index} lacks severity, code or diagnostics"
        for index, issue in enumerate(issues)
        if issue.get("severity") not in ISSUE_SEVERITIES or not issue.get("code") or not issue.get("diagnostics")
    ]


def _oauth_error_problems(response: httpx.Response) -> list[str]:
    """The token endpoint answers RFC 6749 §5.2 error JSON, which OAuth client libraries parse."""
    if response.status_code < 400:
        return [f"the token endpoint issued a token ({response.status_code}) for a malformed request"]
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return [f"{response.status_code} with a body that is no JSON"]
    if not isinstance(body, dict) or body.get("error") not in OAUTH_ERRORS:
        return [f"{response.status_code} without an RFC 6749 error code: {response.text[:200]}"]
    if not isinstance(body.get("error_description"), str):
        return ["the OAuth error has no error_description"]
    return []
