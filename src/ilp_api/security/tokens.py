"""Short-lived HS256 access tokens, signed with the first configured key and verified with any of them.

Rotation without downtime: put the new key first in ILP_JWT_KEYS (it signs from then on) and keep the old
one listed until the last token it signed has expired (``token_lifetime_seconds``), then drop it.
"""

import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from ilp_api.db.base import utc_now
from ilp_api.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
# Tolerated clock difference between the API servers that issue and verify tokens.
CLOCK_SKEW_SECONDS = 10
# Verified tokens remembered until they expire (a client sends one token many times); only tokens whose
# signature verified get in, so the bound is on tokens issued, and it empties when full.
VERIFIED_TOKENS_KEPT = 4096


class InvalidToken(Exception):
    """A token that must not be accepted; the message is safe to return to the client."""


@dataclass(frozen=True)
class TokenClaims:
    client_id: str
    organization_id: str | None
    scopes: tuple[str, ...]


class KeyRing:
    def __init__(self, keys: dict[str, bytes], issuer: str, audience: str, lifetime_seconds: int) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._keys = keys  # insertion order: the first signs
        self._signing_kid = next(iter(keys))
        self.issuer = issuer
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self._verified: dict[str, tuple[float, TokenClaims]] = {}  # token → (when it stops being valid, claims)

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRing":
        keys = {key.kid: key.secret.get_secret_value().encode() for key in settings.jwt_keys}
        if not keys:
            # Settings refuse production without keys, so this is development only.
            logger.warning(
                "ILP_JWT_KEYS is not set: signing tokens with a random key of this process; "
                "tokens stop working on restart and are not accepted by other workers"
            )
            keys = {f"dev-{secrets.token_hex(4)}": secrets.token_bytes(32)}
        return cls(keys, settings.token_issuer, settings.token_audience, settings.token_lifetime_seconds)

    def issue(self, claims: TokenClaims, now: datetime | None = None) -> str:
        now = now or utc_now()
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": claims.client_id,
            "aud": self.audience,
            "iat": now,
            "exp": now + timedelta(seconds=self.lifetime_seconds),
            "jti": uuid.uuid4().hex,
            "scope": " ".join(claims.scopes),
        }
        if claims.organization_id is not None:
            payload["org"] = claims.organization_id
        kid = self._signing_kid
        return jwt.encode(payload, self._keys[kid], algorithm=ALGORITHM, headers={"kid": kid})

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; InvalidToken for a bad signature, unknown kid, wrong iss or aud, expiry.

        A token verified before is not decoded again until it expires: its signature, issuer and audience cannot
        have changed, and its expiry is the one thing time changes.
        """
        verified = self._verified.get(token)
        if verified is not None and time.time() < verified[0]:
            return verified[1]
        claims, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (expires + CLOCK_SKEW_SECONDS, claims)
        return claims

    def _decode(self, token: str) -> tuple[TokenClaims, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidToken("The token was not signed by a key this server knows")
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "iat", "exp", "jti", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The access token has expired") from None
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"The access token is invalid ({type(error).__name__})") from None
        organization = payload.get("org")
        if not isinstance(payload["sub"], str) or not isinstance(payload["scope"], str):
            raise InvalidToken("The access token is invalid (claims)")
        if organization is not None and not isinstance(organization, str):
            raise InvalidToken("The access token is invalid (claims)")
        return TokenClaims(payload["sub"], organization, tuple(payload["scope"].split())), float(payload["exp"])
