"""``GET /api/v1/bpjs/peserta?noKartu=…`` or ``?nik=…``: look a person up at BPJS before registering them.

Someone not yet in the register is no organization's resident, so this needs a scope of its own
(``ilp/bpjs-peserta``; ``ilp/admin`` too), a stated purpose of use (``X-Purpose-Of-Use``), is limited per client
(``ILP_BPJS_LOOKUPS_PER_MINUTE``), and every call past authentication and the rate limit leaves one AuditEvent
whose query holds the looked-up number's keyed hash, never the number. NIK and phone number are masked unless the
client holds ``ilp/bpjs-peserta-identitas``. Answers come from the cache while fresh; while BPJS is unreachable a
cached answer is served marked stale with its age, else 503.
"""

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ilp_api.api.resources import ERROR_RESPONSES, origin_of, pipeline, stated_purpose
from ilp_api.fhir.outcome import BadRequest, Forbidden, TooManyRequests, status_of
from ilp_api.fhir.unit_of_work import PURPOSE_HEADER, Access, Origin
from ilp_api.integrations.bpjs.client import MEMBER_NUMBERS, Jenis
from ilp_api.integrations.bpjs.lookup import hashed_identifier, masked
from ilp_api.integrations.bpjs.service import BpjsIntegration
from ilp_api.security.auth import CurrentPrincipal, Principal
from ilp_api.security.ratelimit import retry_after_header
from ilp_api.security.smart_scopes import ADMIN_SCOPE, BPJS_PESERTA_IDENTITY_SCOPE, BPJS_PESERTA_SCOPE

router = APIRouter(prefix="/api/v1/bpjs", tags=["bpjs"])
PATH = "/api/v1/bpjs/peserta"


class PesertaAnswer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    peserta: dict[str, Any] = Field(
        description="BPJS PCare's member as PCare sends it (dates dd-MM-yyyy, aktif, kdProviderPst, jnsKelas, "
        "tunggakan …); noKTP and noHP masked unless the client holds ilp/bpjs-peserta-identitas"
    )
    stale: bool = Field(description="True: BPJS could not be asked; this is an older answer, ageSeconds old")
    age_seconds: int = Field(alias="ageSeconds", description="How long ago BPJS gave this answer")


@router.get(
    "/peserta",
    summary="Look a person up at BPJS by card number or NIK, before registering them",
    description=(
        "Exactly one of `noKartu` (13 digits) and `nik` (16 digits). Needs the scope `ilp/bpjs-peserta` and an "
        "`X-Purpose-Of-Use` header; audited with the number hashed; rate-limited per client. NIK and phone are "
        "masked unless the client holds `ilp/bpjs-peserta-identitas`. BPJS unreachable: a cached answer marked "
        "`stale` with its age, or 503. Failures carry the codes of the README's BPJS section."
    ),
    response_model=PesertaAnswer,
    response_model_by_alias=True,
    # Declared here, read in the body: a malformed look-up is refused, and audited, after the client is known.
    openapi_extra={
        "parameters": [
            *(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"{shape}; or the other one",
                    "schema": {"type": "string", "pattern": f"^{pattern.pattern}$"},
                }
                for name, (_, pattern, shape) in MEMBER_NUMBERS.items()
            ),
            {
                "name": PURPOSE_HEADER,
                "in": "header",
                "required": True,
                "description": "HL7 v3 ActReason, e.g. COVERAGE",
                "schema": {"type": "string", "pattern": "^[A-Z]{2,16}$"},
            },
        ]
    },
    responses={
        **ERROR_RESPONSES,
        502: {"description": "BPJS answered wrongly (OperationOutcome)", "content": {"application/fhir+json": {}}},
        503: {"description": "BPJS unreachable or off (OperationOutcome)", "content": {"application/fhir+json": {}}},
    },
)
def peserta(request: Request, principal: CurrentPrincipal) -> PesertaAnswer:
    bpjs: BpjsIntegration = request.app.state.bpjs
    wait = bpjs.lookup_limiter.acquire(principal.client_id)
    if wait is not None:
        raise TooManyRequests(
            "Too many BPJS look-ups by this client: retry after the number of seconds in Retry-After",
            headers={"Retry-After": retry_after_header(wait)},
        )
    origin = replace(origin_of(request, principal), query=None)  # the raw query holds the number: never audited
    try:
        _require_scope(principal)
        jenis, nomor = _asked(request)
        origin = replace(origin, query=hashed_identifier(bpjs.identifier_hash_key, jenis, nomor))
        _require_purpose(request)
        found = bpjs.lookup(principal.organization_id, jenis, nomor)
    except Exception as error:
        _audit(request, origin, status_of(error))
        raise
    _audit(request, origin, 200)
    reveal = principal.is_admin or BPJS_PESERTA_IDENTITY_SCOPE in principal.scopes
    return PesertaAnswer(peserta=masked(found.peserta, reveal), stale=found.stale, age_seconds=found.age_seconds)


def _require_scope(principal: Principal) -> None:
    if not ({BPJS_PESERTA_SCOPE, ADMIN_SCOPE} & principal.scopes):
        raise Forbidden(
            f"Looking a person up at BPJS needs the scope {BPJS_PESERTA_SCOPE}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{BPJS_PESERTA_SCOPE}"'},
        )


def _asked(request: Request) -> tuple[Jenis, str]:
    given = request.query_params.multi_items()
    unknown = [name for name, _ in given if name not in MEMBER_NUMBERS]
    if unknown or len(given) != 1:
        raise BadRequest(
            "Send exactly one of noKartu (13 digits) and nik (16 digits)"
            + (f"; {unknown[0]!r} is not a parameter of this look-up" if unknown else ""),
            expression=unknown[0] if unknown else None,
        )
    name, value = given[0]
    jenis, pattern, shape = MEMBER_NUMBERS[name]
    if not pattern.fullmatch(value):
        raise BadRequest(
            f"{name} is {shape}",
            expression=name,
            ilp_code="bpjs-tidak-valid" if name == "noKartu" else "nik-tidak-valid",
        )
    return jenis, value


def _require_purpose(request: Request) -> None:
    if stated_purpose(request) is None:
        raise BadRequest(
            f"{PURPOSE_HEADER} is required: an HL7 v3 ActReason code such as TREAT or COVERAGE",
            expression=PURPOSE_HEADER,
        )


def _audit(request: Request, origin: Origin, status: int) -> None:
    pipeline(request).audit_alone(Access(origin, "search-type", status, ()))
