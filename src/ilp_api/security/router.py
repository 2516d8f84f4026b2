"""The token endpoint, SMART discovery and the admin API for clients.

The token endpoint speaks OAuth 2.0 (RFC 6749 §4.4, §5): its errors are ``{"error", "error_description"}``
JSON, not OperationOutcomes, because OAuth client libraries parse that shape. Failed client authentications are
limited per client id and per source address (``ratelimit.AuthenticationFailureLimiter``); the source address
is the TCP peer, or the ``X-Forwarded-For`` of a proxy that uvicorn trusts (``--forwarded-allow-ips``).
"""

import base64
import binascii
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ilp_api.db.engine import Database
from ilp_api.fhir.registry import registry
from ilp_api.metrics import RATE_LIMITED, TOKEN_FAILURES
from ilp_api.security.auth import REALM, TOKEN_PATH, AdminPrincipal, SecurityState, security_state
from ilp_api.security.clients import (
    CLIENT_ID_MAX_LENGTH,
    CLIENT_SECRET_MAX_LENGTH,
    CONTROL_CHARACTER,
    ClientInfo,
    authenticate_client,
    credential_problem,
    list_clients,
    register_client,
    revoke_client,
)
from ilp_api.security.ratelimit import retry_after_header
from ilp_api.security.smart_scopes import (
    ADMIN_SCOPE,
    BPJS_PESERTA_IDENTITY_SCOPE,
    BPJS_PESERTA_SCOPE,
    covers,
    split_scopes,
)
from ilp_api.security.tokens import TokenClaims
from ilp_api.settings import Settings

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"


class OAuthError(Exception):
    def __init__(
        self,
        error: str,
        description: str,
        status_code: int = 400,
        basic_challenge: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.basic_challenge = basic_challenge
        self.headers = headers or {}

    def response(self) -> Response:
        headers = NO_STORE | self.headers
        if self.basic_challenge:
            headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status_code, headers=headers)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class OAuthErrorResponse(BaseModel):
    error: str = Field(examples=["invalid_client"])
    error_description: str


TOKEN_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {"type": "string", "description": "Space-separated; omitted: all the client's"},
                        "client_id": {"type": "string", "description": "Unless sent with HTTP Basic"},
                        "client_secret": {"type": "string", "description": "Unless sent with HTTP Basic"},
                    },
                }
            }
        },
    }
}


def _form(request: Request, body: bytes) -> dict[str, str]:
    if request.headers.get("Content-Type", "").split(";")[0].strip().lower() != FORM:
        raise OAuthError("invalid_request", f"The request body must be {FORM}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The request body is not UTF-8") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OAuthError("invalid_request", "A parameter was sent more than once (RFC 6749 §3.2)")
    for key, value in pairs:
        if CONTROL_CHARACTER.search(key + value):
            raise OAuthError("invalid_request", f"The form parameter {key[:40]!r} holds a control character")
    return form


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401, basic_challenge=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401, basic_challenge=True)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _granted_scopes(client: ClientInfo, requested: str | None) -> list[str]:
    if requested is None or not requested.strip():
        return list(client.scopes)  # RFC 6749 §3.3: the default is everything the client was registered for
    scopes = split_scopes(requested)
    for scope in scopes:
        try:
            allowed = covers(client.scopes, scope)
        except ValueError as error:
            raise OAuthError("invalid_scope", str(error)) from None
        if not allowed:
            raise OAuthError("invalid_scope", f"The client is not registered for '{scope}'")
    return scopes


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, bool]:
    """``(client_id, client_secret, sent with HTTP Basic)``, each well-formed."""
    basic = _basic_credentials(request)
    if basic is not None:
        if "client_secret" in form or form.get("client_id", basic[0]) != basic[0]:
            raise OAuthError("invalid_request", "Send the client credentials either with HTTP Basic or in the form")
        client_id, secret = basic
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise OAuthError("invalid_client", "client_id and client_secret are required (form or HTTP Basic)", 401)
    for field, value, max_length in (
        ("client_id", client_id, CLIENT_ID_MAX_LENGTH),
        ("client_secret", secret, CLIENT_SECRET_MAX_LENGTH),
    ):
        problem = credential_problem(field, value, max_length)
        if problem:
            raise OAuthError("invalid_request", problem)
    return client_id, secret, basic is not None


async def _issue_token(request: Request, form: dict[str, str]) -> TokenResponse:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported")
    client_id, secret, basic = _client_credentials(request, form)
    state = security_state(request)
    address = request.client.host if request.client else "unknown"
    wait = state.token_failures.begin_attempt(client_id, address)
    if wait is not None:
        # RFC 6749 defines no error for this. slow_down is the one error the IANA OAuth registry lists for the
        # token endpoint that means "wait, then retry" (RFC 8628 §3.5); invalid_client would tell the client its
        # credentials are wrong, and temporarily_unavailable is registered for the authorization endpoint only.
        raise OAuthError(
            "slow_down",
            "Too many failed token requests for this client_id or from this address; "
            "retry after the number of seconds in Retry-After",
            429,
            headers={"Retry-After": retry_after_header(wait)},
        )
    try:
        client = await authenticate_client(request.app.state.database, client_id, secret)
    except BaseException:
        state.token_failures.cancel_attempt(client_id, address)  # the server failed, not the client
        raise
    if client is None:
        raise OAuthError("invalid_client", "Unknown client, revoked client or wrong secret", 401, basic)
    state.token_failures.cancel_attempt(client_id, address)
    scopes = _granted_scopes(client, form.get("scope"))
    token = state.keys.issue(TokenClaims(client.client_id, client.organization_id, tuple(scopes)))
    return TokenResponse(access_token=token, expires_in=state.keys.lifetime_seconds, scope=" ".join(scopes))


oauth_router = APIRouter(tags=["security"])


@oauth_router.post(
    TOKEN_PATH,
    summary="Get an access token (OAuth 2.0 client credentials)",
    description=(
        "Client authentication by HTTP Basic (`client_secret_basic`) or form fields (`client_secret_post`). "
        "The token is a short-lived JWT; send it as `Authorization: Bearer <token>`. Errors follow RFC 6749 §5.2."
    ),
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthErrorResponse},
        401: {"model": OAuthErrorResponse},
        429: {"model": OAuthErrorResponse, "description": "Too many failed requests; see Retry-After"},
    },
    openapi_extra=TOKEN_REQUEST_BODY,
)
async def token(request: Request) -> Response:
    body = await request.body()
    try:
        form = _form(request, body)
        issued = await _issue_token(request, form)
    except OAuthError as error:
        TOKEN_FAILURES.labels(error=error.error).inc()
        if error.status_code == 429:
            RATE_LIMITED.labels(limiter="token_failures").inc()
        return error.response()
    return JSONResponse(issued.model_dump(), headers=NO_STORE)


def _smart_configuration(request: Request) -> dict[str, Any]:
    configured = request.app.state.settings.public_base_url
    base = configured.rstrip("/") if configured else str(request.base_url).rstrip("/")
    types = sorted(definition.type for definition in registry)
    return {
        "token_endpoint": base + TOKEN_PATH,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [
            "system/*.cruds",
            "system/*.rs",
            *(f"system/{kind}.{permissions}" for kind in types for permissions in ("cruds", "rs")),
            ADMIN_SCOPE,
            BPJS_PESERTA_SCOPE,
            BPJS_PESERTA_IDENTITY_SCOPE,
        ],
        "capabilities": ["client-confidential-symmetric", "permission-v1", "permission-v2"],
    }


@oauth_router.get("/.well-known/smart-configuration", summary="SMART configuration (discovery)")
def smart_configuration(request: Request) -> dict[str, Any]:
    return _smart_configuration(request)


# SMART App Launch places the document under the FHIR base; both locations are served.
@oauth_router.get("/fhir/.well-known/smart-configuration", include_in_schema=False)
def fhir_smart_configuration(request: Request) -> dict[str, Any]:
    return _smart_configuration(request)


class ClientRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["SIMPUS Puskesmas Sukamaju"])
    organization_id: str | None = Field(
        default=None, description="The client's Organization; omitted only for an admin client (scope ilp/admin)"
    )
    scope: str = Field(description="Space-separated SMART scopes", examples=["system/*.cruds"])


class ClientView(BaseModel):
    client_id: str
    name: str
    organization_id: str | None
    scope: str
    created: datetime
    revoked_at: datetime | None


class RegisteredClient(ClientView):
    client_secret: str = Field(description="Shown only in this response; store it now")


clients_router = APIRouter(prefix="/api/v1/clients", tags=["security"])


@clients_router.post("", status_code=201, summary="Register an API client", response_model=RegisteredClient)
def add_client(request: Request, response: Response, registration: ClientRegistration, _: AdminPrincipal) -> Any:
    database: Database = request.app.state.database
    with database.session(write=True) as session:
        new = register_client(session, registration.name, registration.organization_id, registration.scope)
    response.headers.update(NO_STORE)
    return new.to_json()


@clients_router.get("", summary="List API clients (no secrets)", response_model=list[ClientView])
def get_clients(request: Request, _: AdminPrincipal) -> Any:
    database: Database = request.app.state.database
    with database.session(write=False) as session:
        return [client.to_json() for client in list_clients(session)]


@clients_router.post("/{client_id}/revoke", summary="Revoke an API client", response_model=ClientView)
def revoke(request: Request, client_id: str, _: AdminPrincipal) -> Any:
    database: Database = request.app.state.database
    with database.session(write=True) as session:
        return revoke_client(session, client_id).to_json()


def install_security(app: FastAPI, settings: Settings) -> None:
    """Keys, revocation cache and rate limiter on ``app.state.security`` (its routes are ``oauth_router`` and
    ``clients_router``)."""
    app.state.security = SecurityState.from_settings(settings)
