"""Every error answered as a FHIR OperationOutcome: the app's exception handlers.

The FhirError hierarchy (fhir/outcome.py) says what went wrong; here FastAPI's, Starlette's, pydantic's and the
database's own errors join it, each with the status a client can act on. Anything unexpected is logged and
answered as a 500 without detail.
"""

import logging
from collections.abc import Sequence

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ilp_api.db.cancellation import WorkCancelled
from ilp_api.fhir import FHIR_JSON
from ilp_api.fhir.outcome import FhirError, Issue, database_unavailable, model_in, operation_outcome, validation_issues
from ilp_api.metrics import DATABASE_UNAVAILABLE, count_limit_refusal

logger = logging.getLogger(__name__)


def outcome_response(
    status_code: int, issues: Sequence[Issue], canonical_base: str, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps(operation_outcome(issues, canonical_base))
    return Response(body, status_code=status_code, media_type=FHIR_JSON, headers=headers)


def allowed_methods(request: Request) -> str:
    """The methods the request's path is served with, by every route of the app that matches it.

    Starlette's 405 names only the first matching route's methods, while GET and POST of one path are two routes.
    FastAPI keeps included routers nested: ``iter_route_contexts`` yields their routes with their full paths.
    """
    path = request.scope["path"]
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))


def json_syntax(text: str, position: str | int, reason: str) -> str:
    """The standard library's JSON error where a person looks for it: line and column, and a trailing comma named."""
    at = int(position)
    if text[:at].rstrip().endswith(",") and text[at : at + 1] in ("}", "]"):
        reason = "trailing comma is not allowed"
    line = text.count("\n", 0, at) + 1
    column = at - text.rfind("\n", 0, at)
    return f"The request body is not valid JSON: {reason}: line {line} column {column} (char {at})"


def _body_model(request: Request) -> type[BaseModel] | None:
    """The model of the route's JSON body, if it has one."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    return model_in(body_field.field_info.annotation) if body_field is not None else None


def install_exception_handlers(app: FastAPI, canonical_base: str) -> None:
    async def on_fhir_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, FhirError)
        count_limit_refusal(issue.code for issue in error.outcome_issues())
        return outcome_response(error.status_code, error.outcome_issues(), canonical_base, error.headers)

    async def on_request_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        details = error.errors()
        if all(detail["type"] == "json_invalid" for detail in details):
            # Malformed JSON is a malformed request (400), as on the FHIR API; its location is a character position.
            issues = [
                Issue(json_syntax(str(error.body), detail["loc"][-1], (detail.get("ctx") or {}).get("error", "")))
                for detail in details
            ]
            return outcome_response(400, issues, canonical_base)
        return outcome_response(422, validation_issues(error, root="", model=_body_model(request)), canonical_base)

    async def on_http_exception(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 404:
            issue = Issue(f"No route {request.url.path}: see /docs for the API", "not-found")
        elif error.status_code == 405:
            allowed = allowed_methods(request)
            issue = Issue(f"{request.method} is not supported on {request.url.path}; use {allowed}", "not-supported")
            return outcome_response(405, [issue], canonical_base, {**(error.headers or {}), "Allow": allowed})
        else:
            issue = Issue(str(error.detail), "processing")
        return outcome_response(error.status_code, [issue], canonical_base, dict(error.headers or {}))

    async def on_database_error(request: Request, error: Exception) -> Response:
        unavailable = database_unavailable(error)
        if unavailable is None:
            return await on_unexpected(request, error)
        # One line, no traceback: an outage makes every request fail the same way.
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        logger.warning("database unavailable: %s", cause, extra={"fields": {"issue": unavailable.issue_code}})
        DATABASE_UNAVAILABLE.labels(kind=unavailable.issue_code).inc()
        return await on_fhir_error(request, unavailable)

    async def on_unexpected(request: Request, error: Exception) -> Response:
        # The route's template, not the path: a path can hold a name (the access log line has the validated ids).
        route = getattr(request.scope.get("route"), "path", None)
        logger.exception("unhandled error", extra={"fields": {"route": route}})
        issue = Issue("Internal server error; it has been logged", "exception", severity="fatal")
        return outcome_response(500, [issue], canonical_base)

    app.add_exception_handler(FhirError, on_fhir_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(SQLAlchemyError, on_database_error)
    app.add_exception_handler(WorkCancelled, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
