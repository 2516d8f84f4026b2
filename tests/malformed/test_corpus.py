"""The malformed-input corpus: every case is rejected with a 4xx, changes no table and is audited exactly.

Oracle, per case: no 5xx; a 4xx OperationOutcome with severity, code and diagnostics (RFC 6749 error JSON at
the token endpoint; for a batch answered 200, each entry's own answer); every table as the previous case left
it, except the audit trail, which gains exactly the events audit_expectations.py derives from the exchange
(one failure event per rejected request that touches patient data).
"""

import logging
from collections import Counter
from typing import Any

import httpx
import pytest
from corpus_cases import CORPUS, answer_problems, build_request, load_corpus
from corpus_environment import CorpusEnvironment, table_state
from generate_corpus import MIN_CASES_PER_OPERATION, build_corpus, serialise

from audit_expectations import ExchangeLog, recorded_events
from ilp_api.openapi_document import openapi_document

CASES = load_corpus()
MIN_CASES = 500
REGENERATE = "run `python tests/malformed/generate_corpus.py` and commit tests/malformed/corpus.jsonl"


def test_corpus_covers_every_operation() -> None:
    document = openapi_document()
    operations = {f"{method.upper()} {path}" for path, methods in document["paths"].items() for method in methods}
    counts = Counter(case["operation"] for case in CASES)

    uncovered = {
        operation: counts[operation] for operation in sorted(operations) if counts[operation] < MIN_CASES_PER_OPERATION
    }
    assert not uncovered, f"operations with fewer than {MIN_CASES_PER_OPERATION} cases: {uncovered}; {REGENERATE}"
    assert not set(counts) - operations, f"cases for operations the API no longer has; {REGENERATE}"
    assert len(CASES) >= MIN_CASES


def test_committed_corpus_is_what_the_generator_writes() -> None:
    assert CORPUS.read_text(encoding="utf-8") == serialise(build_corpus()), f"the corpus is stale: {REGENERATE}"


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_malformed_request_is_rejected(
    case: dict[str, Any], corpus_environment: CorpusEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    environment = corpus_environment
    request = build_request(case, environment.seeds, environment.tokens)
    exchanges = ExchangeLog()
    environment.client.event_hooks = {"request": [], "response": [exchanges.record]}
    response = environment.client.request(request.method, request.url, headers=request.headers, content=request.content)

    problems = answer_problems(case, response)
    state = table_state(environment.database)
    changed = sorted(name for name in state if state[name] != environment.state.get(name))
    environment.state = state
    if changed:
        problems.append(f"tables changed: {', '.join(changed)}")
    audit = recorded_events(environment.database)
    gained, environment.audit = audit - environment.audit, audit
    expected = exchanges.expected_events()
    if gained != expected:
        problems.append(f"the audit trail gained {dict(gained)}, expected {dict(expected)}")
    assert not problems, _report(case, request.url, response, problems, caplog.records)


def _report(
    case: dict[str, Any], url: str, response: httpx.Response, problems: list[str], records: list[logging.LogRecord]
) -> str:
    lines = [f"{case['method']} {url[:200]}", *problems, f"answer: {response.status_code} {response.text[:300]}"]
    for record in records:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frames = logging.Formatter().formatException(record.exc_info).splitlines()
            where = [line.strip() for line in frames if "/ilp_api/" in line][-1:]
            lines.append(f"logged: {type(error).__name__}: {str(error).splitlines()[0][:300]} {' '.join(where)}")
    return "\n".join(lines)
