"""Who is calling: the Bearer access token checked, the client's revocation and rate limit applied.

``authenticate(request)`` returns the caller's ``Principal`` or raises a 401/429 OperationOutcome;
``require(principal, type, interaction)`` raises a 403 unless the scopes allow it. As FastAPI dependencies:
``CurrentPrincipal`` (any valid token) and ``AdminPrincipal`` (a token with ``ilp/admin``), which also declare
the security schemes in OpenAPI so Swagger UI's "Authorize" button works.

Revocation bound: each process remembers a client's status for ``client_status_cache_seconds`` (default 30),
so the tokens of a revoked client stop working on every worker within that many seconds (0: each request
reads the database). Tokens live ``token_lifetime_seconds``, so without the check the bound would be that.

Rate limit: applied here, after the signature check and before the database is read, so it is per client id
and unauthenticated floods never reach a bucket (see ``ratelimit``).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2
from starlette.concurrency import run_in_threadpool

from ilp_api.db.engine import Database
from ilp_api.fhir.outcome import Forbidden, TooManyRequests, Unauthorized
from ilp_api.metrics import RATE_LIMITED
from ilp_api.security.clients import client_is_active
from ilp_api.security.ratelimit import AuthenticationFailureLimiter, RateLimiter, retry_after_header
from ilp_api.security.smart_scopes import ADMIN_SCOPE, BPJS_PESERTA_IDENTITY_SCOPE, BPJS_PESERTA_SCOPE, grants
from ilp_api.security.tokens import InvalidToken, KeyRing, TokenClaims
from ilp_api.settings import Settings

REALM = "ilp-api"
TOKEN_PATH = "/oauth2/token"


@dataclass(frozen=True)
class Principal:
    """The authenticated API client a request acts for."""

    client_id: str
    organization_id: str | None  # None only for admin clients
    scopes: frozenset[str]

    def can(self, resource_type: str, interaction: str) -> bool:
        """Whether the scopes allow ``interaction`` (c r u d s) on ``resource_type``; ilp/admin allows all."""
        return self.is_admin or grants(self.scopes, resource_type, interaction)

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes

    def require(self, resource_type: str, permission: str) -> None:
        """The pipeline's permission check (``fhir.unit_of_work.Caller``): ``require`` below."""
        require(self, resource_type, permission)


class ClientStatusCache:
    """Whether a client is still active, as read from the database at most ``ttl_seconds`` ago."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        # Keyed by client ids from verified tokens only, so it holds at most one entry per registered client.
        self._seen: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def known(self, client_id: str) -> bool | None:
        """The status read less than ``ttl_seconds`` ago, or None: then ``is_active`` reads the database."""
        with self._lock:
            seen = self._seen.get(client_id)
        return seen[1] if seen is not None and self._clock() - seen[0] < self._ttl else None

    def is_active(self, client_id: str, database: Database) -> bool:
        known = self.known(client_id)
        if known is not None:
            return known
        now = self._clock()
        with database.session(write=False) as session:
            active = client_is_active(session, client_id)
        with self._lock:
            self._seen[client_id] = (now, active)
        return active


@dataclass(frozen=True)
class SecurityState:
    """The per-application security objects, kept on ``app.state.security``."""

    keys: KeyRing
    client_status: ClientStatusCache
    limiter: RateLimiter
    token_failures: AuthenticationFailureLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> "SecurityState":
        return cls(
            KeyRing.from_settings(settings),
            ClientStatusCache(settings.client_status_cache_seconds),
            RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst, settings.rate_limit_tracked_keys),
            AuthenticationFailureLimiter(
                settings.token_failures_per_minute, settings.token_failures_burst, settings.rate_limit_tracked_keys
            ),
        )


def security_state(request: Request) -> SecurityState:
    state: SecurityState = request.app.state.security
    return state


def _invalid_token(description: str) -> Unauthorized:
    challenge = f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
    return Unauthorized(description, headers={"WWW-Authenticate": challenge})


async def authenticate(request: Request) -> Principal:
    """The Principal of the request's Bearer token; 401 without a valid one, 429 over the client's rate.

    Runs on the event loop: the database is read in the thread pool, and only when the client's cached status
    is older than ``client_status_cache_seconds`` (a thread pool hop per request would cost more than the rest
    of authentication)."""
    claims = _verified_claims(request)
    client_status = security_state(request).client_status
    active = client_status.known(claims.client_id)
    if active is None:
        active = await run_in_threadpool(client_status.is_active, claims.client_id, request.app.state.database)
    return _principal(claims, active)


def _verified_claims(request: Request) -> TokenClaims:
    """The claims of the request's Bearer token, verified and within the client's rate (no database access)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        # RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
        raise Unauthorized(
            f"An access token is required: 'Authorization: Bearer <token>' from POST {TOKEN_PATH}",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise _invalid_token("The Authorization header must be 'Bearer <access token>'")
    state = security_state(request)
    try:
        claims = state.keys.verify(token.strip())
    except InvalidToken as error:
        raise _invalid_token(str(error)) from None
    wait = state.limiter.acquire(claims.client_id)
    if wait is not None:
        RATE_LIMITED.labels(limiter="api_client").inc()
        raise TooManyRequests(
            "Too many requests from this client; retry after the number of seconds in Retry-After",
            headers={"Retry-After": retry_after_header(wait)},
        )
    return claims


def _principal(claims: TokenClaims, active: bool) -> Principal:
    if not active:
        raise _invalid_token("The client of this token has been revoked")
    return Principal(claims.client_id, claims.organization_id, frozenset(claims.scopes))


def _insufficient_scope(message: str, scope: str) -> Forbidden:
    challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
    return Forbidden(message, headers={"WWW-Authenticate": challenge})


def require(principal: Principal, resource_type: str, interaction: str) -> None:
    """403 unless the principal's scopes allow ``interaction`` (c r u d s) on ``resource_type``."""
    if not principal.can(resource_type, interaction):
        needed = f"system/{resource_type}.{interaction}"
        raise _insufficient_scope(f"The client's scopes do not allow this; it needs {needed}", needed)


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise _insufficient_scope(
            f"Operators only: this needs the scope {ADMIN_SCOPE} (managing clients, the outbox)", ADMIN_SCOPE
        )


oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl=TOKEN_PATH,
            scopes={
                "system/*.rs": "Read and search every resource type of the client's organization",
                "system/*.cruds": "Create, read, update, delete and search them",
                ADMIN_SCOPE: "Manage API clients, and every interaction on every organization's data",
                BPJS_PESERTA_SCOPE: "Look a person up at BPJS (GET /api/v1/bpjs/peserta), NIK and phone masked",
                BPJS_PESERTA_IDENTITY_SCOPE: "The same look-up's NIK and phone number unmasked",
            },
        )
    ),
    scheme_name="oauth2",
    description=(
        "OAuth 2.0 client credentials (SMART Backend Services style, with a client secret). Leave the scopes "
        "unticked: the token then carries every scope the client is registered for."
    ),
    auto_error=False,
)
bearer_scheme = HTTPBearer(
    scheme_name="bearer", bearerFormat="JWT", description="An access token from POST /oauth2/token.", auto_error=False
)


async def _current_principal(
    request: Request,
    _oauth2: Annotated[str | None, Security(oauth2_scheme)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    # The two scheme parameters only declare in OpenAPI how a token is obtained; authenticate reads it.
    return await authenticate(request)


def _admin_principal(principal: Annotated[Principal, Depends(_current_principal)]) -> Principal:
    require_admin(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]
AdminPrincipal = Annotated[Principal, Depends(_admin_principal)]
