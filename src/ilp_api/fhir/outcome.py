"""One exception hierarchy for every client-facing error, rendered as a FHIR OperationOutcome.

Raise a ``FhirError`` subclass anywhere below a router; the handlers of api/errors.py turn it (and FastAPI's,
Starlette's and pydantic's own errors) into an OperationOutcome with the right status. Each issue names the
element (``expression``) and, where the ILP profile defines one, the profile's error code (``details.coding``),
so a clinic developer can act on it.
"""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ilp_api.db.errors import Unavailability, unavailability
from ilp_api.fhir.datatypes import FORMAT_HINTS

ILP_ERROR_SYSTEM_PATH = "/CodeSystem/ilp-error"


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue. ``code`` is the FHIR issue-type; ``ilp_code`` the profile's own code."""

    diagnostics: str
    code: str = "invalid"
    expression: str | None = None
    ilp_code: str | None = None
    severity: str = "error"

    def to_fhir(self, canonical_base: str) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.ilp_code:
            issue["details"] = {
                "coding": [{"system": canonical_base + ILP_ERROR_SYSTEM_PATH, "code": self.ilp_code}],
                "text": self.ilp_code,
            }
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


@dataclass
class FhirError(Exception):
    """Base of every error a client can cause. Subclasses fix the HTTP status and the default issue code."""

    message: str
    expression: str | None = None
    ilp_code: str | None = None
    issues: Sequence[Issue] = ()
    headers: dict[str, str] = field(default_factory=dict)
    # The resource ("Encounter/123") an error found after the writes (a write hook's) is about: a transaction
    # Bundle names the entry that wrote it.
    about: str | None = None

    status_code = 400
    issue_code = "invalid"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def outcome_issues(self) -> Sequence[Issue]:
        return self.issues or (
            Issue(self.message, self.issue_code, expression=self.expression, ilp_code=self.ilp_code),
        )


class BadRequest(FhirError):
    status_code = 400


class TooCostly(BadRequest):
    """A request beyond one of the server's bounds (fhir/limits.py): refused before doing the work."""

    issue_code = "too-costly"


class Unauthorized(FhirError):
    status_code = 401
    issue_code = "login"


class Forbidden(FhirError):
    status_code = 403
    issue_code = "forbidden"


class NotFound(FhirError):
    status_code = 404
    issue_code = "not-found"


class NotAcceptable(FhirError):
    status_code = 406
    issue_code = "not-supported"


class Conflict(FhirError):
    status_code = 409
    issue_code = "conflict"


class Gone(FhirError):
    status_code = 410
    issue_code = "deleted"


class PreconditionFailed(FhirError):
    status_code = 412
    issue_code = "conflict"


class PayloadTooLarge(FhirError):
    status_code = 413
    issue_code = "too-long"


class UnsupportedMediaType(FhirError):
    status_code = 415
    issue_code = "not-supported"


class Unprocessable(FhirError):
    status_code = 422
    issue_code = "invalid"


class TooManyRequests(FhirError):
    status_code = 429
    issue_code = "throttled"


class ServerError(FhirError):
    """Our fault, not the client's: only for answering one entry of a batch (elsewhere, the handler answers 500)."""

    status_code = 500
    issue_code = "exception"


def shown(value: Any, limit: int = 64) -> str:
    """A client's value quoted in a message, cut short: an error must not echo megabytes back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BadGateway(FhirError):
    """An outside system the request needed (BPJS) answered wrongly: not the client's fault, nor ours."""

    status_code = 502
    issue_code = "exception"


class ServiceUnavailable(FhirError):
    status_code = 503
    issue_code = "transient"


class DatabaseTimeout(ServiceUnavailable):
    issue_code = "timeout"


DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable(error: Exception) -> ServiceUnavailable | None:
    """The 503 for a database that cannot serve this request now (down, or too slow); None for any other error."""
    kind = unavailability(error)
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if kind is Unavailability.TIMEOUT:
        return DatabaseTimeout(
            "The database did not finish this request in time; narrow it (fewer search parameters, a smaller "
            "_count) or retry later",
            headers=headers,
        )
    if kind is Unavailability.DOWN:
        return ServiceUnavailable(
            "The database is unavailable; retry after the number of seconds in Retry-After", headers=headers
        )
    return None


def status_of(error: Exception) -> int:
    """The HTTP status ``error`` is answered with (as audited)."""
    if isinstance(error, FhirError):
        return error.status_code
    return 503 if unavailability(error) else 500


def operation_outcome(issues: Sequence[Issue], canonical_base: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.to_fhir(canonical_base) for issue in issues]}


def fhir_path(root: str, location: Sequence[str | int]) -> str:
    """Turn a pydantic error location into a FHIRPath-like expression: ``Patient.name[0].family``."""
    path = root
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part and not part.startswith(("function-", "tagged-union")):
            path += f".{part}"
    return path


class ValidationErrors(Protocol):
    """pydantic's ValidationError, or FastAPI's RequestValidationError of an /api/v1 body."""

    def errors(self) -> Sequence[Any]: ...


def validation_issues(error: ValidationErrors, root: str, model: type[BaseModel] | None = None) -> list[Issue]:
    """Readable issues from pydantic errors: unknown elements, wrong types and our own value checks.

    ``root`` names a FHIR resource type ("" for an /api/v1 request); ``model``, the model validated, lets an
    unknown element be answered with the known one it most resembles.
    """
    issues = []
    for detail in error.errors():
        location = [part for part in detail["loc"] if part not in ("body",)]
        expression = fhir_path(root, location) if root else ".".join(str(p) for p in location) or None
        kind = detail["type"]
        context = detail.get("ctx") or {}
        ilp_code = context.get("ilp_code") if isinstance(context, dict) else None
        if kind == "extra_forbidden":
            issues.append(Issue(_unknown_element(root, location, model), "structure", expression=expression))
            continue
        message = detail["msg"].removeprefix("Value error, ")
        if kind == "missing" and not location:
            message = f"The request has no body: send the {words(model)} as JSON"
        if kind == "string_pattern_mismatch" and context.get("pattern") in FORMAT_HINTS:
            message = f"{shown(detail['input'])} is not in the right format: {FORMAT_HINTS[context['pattern']]}"
        issues.append(Issue(f"{expression}: {message}" if expression else message, "invalid", expression, ilp_code))
    return issues


def words(model: type[BaseModel] | None) -> str:
    """What an /api/v1 body is, in words from its model's name: ``EvaluateRequest`` → ``evaluate request``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower() if model else "request"


def _unknown_element(root: str, location: Sequence[str | int], model: type[BaseModel] | None) -> str:
    """Names the unknown element, and the known one it most resembles, if one does."""
    unknown = str(location[-1])
    known = [field.alias or name for name, field in _fields_at(model, location[:-1]).items()]
    nearest = difflib.get_close_matches(unknown, known, n=1, cutoff=0.6)
    suggestion = f"; did you mean '{nearest[0]}'?" if nearest else ""
    if root:
        where = fhir_path(root, location)
        return f"Unknown element '{where}': it is not part of this {root} as ILP API supports it{suggestion}"
    where = ".".join(str(part) for part in location)
    return f"The {words(model)} has no field '{where}'{suggestion}"


def _fields_at(model: type[BaseModel] | None, location: Sequence[str | int]) -> dict[str, FieldInfo]:
    """The fields of the model found by following ``location`` (element names and list indices) from ``model``."""
    for part in location:
        if model is None or isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        model = model_in(field.annotation) if field else None
    return model.model_fields if model else {}


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: ``Quantity``, ``Quantity | None``, ``list[HumanName]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, (model_in(argument) for argument in get_args(annotation))), None)
