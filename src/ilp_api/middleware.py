"""ASGI middleware: one structured log line per request (identifiers and names masked), and the body-size bound."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ilp_api.fhir.outcome import PayloadTooLarge, outcome_response
from ilp_api.logging import mask_query

logger = logging.getLogger("ilp_api.access")


class RequestLogMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware): it adds no per-request task or body buffering."""

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
            if logger.isEnabledFor(logging.INFO):
                client = scope.get("client")
                logger.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "path": scope["path"],
                            "query": mask_query(scope.get("query_string", b"").decode("latin-1")),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
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
