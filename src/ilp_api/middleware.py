"""One structured log line per request, with identifiers and names masked."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
