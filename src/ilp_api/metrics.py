"""Prometheus metrics: requests by route template, the database pool, token failures and refusals.

No label carries request data: a route is its template (``/fhir/Patient/{resource_id}``), a method one of the
standard ones, and every other label value is a constant of the code. Modules count their refusals with the
counters below, e.g. ``LIMIT_REFUSALS.labels(limit="body_size").inc()``.

The metric objects belong to the process; each application exposes them, with its own pool's gauges and the
process's memory and CPU, from a registry of its own (``metrics_registry``). With several worker processes each
scrape sees one worker.
"""

from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

REQUESTS = Counter(
    "ilp_http_requests", "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"], registry=None,
)  # fmt: skip
REQUEST_DURATION = Histogram(
    "ilp_http_request_duration_seconds", "Time to answer an HTTP request, by route template and method",
    ["route", "method"], registry=None,
)  # fmt: skip
TOKEN_FAILURES = Counter(
    "ilp_token_failures", "Token requests refused, by OAuth error code (invalid_client, ...)", ["error"], registry=None
)
RATE_LIMITED = Counter(
    "ilp_rate_limited", "Requests refused with 429 by a rate limit, by limiter (api_client, ...)", ["limiter"],
    registry=None,
)  # fmt: skip
LIMIT_REFUSALS = Counter(
    "ilp_limit_refusals", "Requests refused for exceeding a configured limit, by limit (body_size, ...)", ["limit"],
    registry=None,
)  # fmt: skip
DATABASE_UNAVAILABLE = Counter(
    "ilp_database_unavailable", "Requests answered 503 because the database was down (transient) or too slow (timeout)",
    ["kind"], registry=None,
)  # fmt: skip
_PROCESS_METRICS = (REQUESTS, REQUEST_DURATION, TOKEN_FAILURES, RATE_LIMITED, LIMIT_REFUSALS, DATABASE_UNAVAILABLE)

UNMATCHED_ROUTE = "unmatched"  # no route: the path itself is never a label
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


BOUND_ISSUE_CODES = frozenset({"too-long", "too-costly"})  # OperationOutcome codes of a request over a bound


def count_limit_refusal(issue_codes: Iterable[str]) -> None:
    """Count a request refused for going over one of the bounds (ILP_MAX_…), by its issue code."""
    for code in BOUND_ISSUE_CODES.intersection(issue_codes):
        LIMIT_REFUSALS.labels(limit=code).inc()


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    route = route or UNMATCHED_ROUTE
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_DURATION.labels(route, method).observe(seconds)


class PoolCollector(Collector):
    """The application's connection pool as gauges, read at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self._engine.pool
        for name, help_text, method in (
            ("ilp_db_pool_size", "Connections the pool keeps (overflow comes on top)", "size"),
            ("ilp_db_pool_checked_out", "Pooled connections in use by requests", "checkedout"),
            ("ilp_db_pool_overflow", "Connections open beyond the pool size", "overflow"),
        ):
            reading = getattr(pool, method, None)
            if reading is not None:
                yield GaugeMetricFamily(name, help_text, value=reading())


def metrics_registry(engine: Engine) -> CollectorRegistry:
    registry = CollectorRegistry()
    for metric in _PROCESS_METRICS:
        registry.register(metric)
    registry.register(PoolCollector(engine))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The Prometheus text format of ``registry`` and its media type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
