"""ASGI middleware: one structured log line and the Prometheus metrics of each request, naming the route and
never the data in its path or query; and the bound on the request body's size.

A path can carry a person's name (``/fhir/Patient/Bayu Wibowo``) and a query the values of any parameter, even
on requests the API refuses. So a request is logged by its route template, with each path parameter filled in
only when it is a valid FHIR id (else masked), and by the names of its query parameters, never their values.
"""

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ilp_api.api.errors import outcome_response
from ilp_api.fhir.datatypes import ID_PATTERN
from ilp_api.fhir.outcome import PayloadTooLarge
from ilp_api.metrics import count_limit_refusal, observe_request

logger = logging.getLogger("ilp_api.access")

HIDDEN = "***"
# Search parameter names (FHIR codes such as address-village, _lastUpdated, with a :modifier or .chain). Any
# other name is something a client made up and may be data itself.
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.:]{0,63}$")


def route_template(scope: Scope) -> str | None:
    """``/fhir/Patient/{resource_id}``; None when no route matched (the path is then not logged at all).

    The router leaves the matched route in the scope. A route of an included router knows only its own part
    (``/Patient/{resource_id}``), so the static prefixes of the routers above it are taken from the path.
    """
    route: Any = scope.get("route")
    template, pattern, path = getattr(route, "path", None), getattr(route, "path_regex", None), scope.get("path")
    if not isinstance(template, str) or pattern is None or not isinstance(path, str):
        return None
    for cut in (index for index, character in enumerate(path) if character == "/"):
        if pattern.match(path[cut:]):
            return path[:cut] + template
    return template


def loggable_path(scope: Scope, template: str | None) -> str | None:
    """The route ``template`` with each path parameter that is a valid FHIR id filled in, the others masked."""
    if template is None:
        return None
    path = template
    for name, value in scope.get("path_params", {}).items():
        shown = value if isinstance(value, str) and ID_PATTERN.match(value) else HIDDEN
        path = path.replace("{" + name + "}", shown)
    return path


def parameter_names(query_string: str) -> list[str]:
    """The query's parameter names, in order (values are never logged); a name that is not one is masked."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return [name if _PARAMETER_NAME.match(name) else HIDDEN for name, _ in pairs]


class RequestObservationMiddleware:
    """Logs and counts each request. Pure ASGI (not BaseHTTPMiddleware): no per-request task or body buffering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            seconds = time.perf_counter() - started
            # Filled in by the router as it matched the request.
            route = route_template(scope)
            observe_request(scope["method"], route, status, seconds)
            if logger.isEnabledFor(logging.INFO):
                client = scope.get("client")
                logger.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "route": route,
                            "path": loggable_path(scope, route),
                            "params": parameter_names(scope.get("query_string", b"").decode("latin-1")),
                            "status": status,
                            "ms": round(seconds * 1000, 2),
                            "client": client[0] if client else None,
                        }
                    },
                )


class BodySizeLimitMiddleware:
    """413 for a request body over ``max_bytes``, before it is read when Content-Length declares it, otherwise
    as soon as the bytes received pass the bound (a chunked upload), so a client cannot fill the server's memory.

    Not FastAPI's ``max_body_size``: that answers a declared oversize body in text/plain, not an OperationOutcome.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, canonical_base: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.canonical_base = canonical_base

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes (ILP_MAX_BODY_BYTES)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self.max_bytes):
            error = self._too_large()
            count_limit_refusal(issue.code for issue in error.outcome_issues())
            response = outcome_response(error.status_code, error.outcome_issues(), self.canonical_base)
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise self._too_large()  # answered as an OperationOutcome by the FhirError handler
            return message

        await self.app(scope, counted_receive, send)
