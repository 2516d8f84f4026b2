"""Client secrets as stored: HMAC-SHA256 under a random per-client key, checked in constant time and memory.

The server generates every client secret (``secrets.token_urlsafe(32)``, 256 random bits); people never choose
them. Against such a secret a memory-hard password hash adds nothing (no dictionary, no brute force even from a
leaked table), while at 64 MiB and tens of milliseconds per check it lets anyone with the token endpoint's
address exhaust the server's memory. A keyed fast hash is as strong here and costs microseconds and no memory.

Format: ``hmac-sha256$<key>$<digest>``, both unpadded base64url: ``key`` is 16 random bytes of this client,
``digest`` is HMAC-SHA256(key, secret). The prefix makes the format self-describing, so it can change again.

Legacy: secrets stored before this format are argon2id hashes (``$argon2id$...``), in deployed databases and
demo databases alike. They still verify, at most one at a time per process (each takes 64 MiB), and the caller
re-hashes the secret to the current format on the first success. argon2 remains in the project only for this.
Until then such a check takes longer than an unknown id's, which tells that the id exists: a transition cost.
"""

import base64
import enum
import hashlib
import hmac
import secrets

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HMAC_SHA256 = "hmac-sha256"
_KEY_BYTES = 16
# Unknown client ids are checked against this, so they cost what a known id costs.
_UNKNOWN_CLIENT_KEY = secrets.token_bytes(_KEY_BYTES)
_UNKNOWN_CLIENT_DIGEST = bytes(hashlib.sha256().digest_size)

_legacy_hasher = PasswordHasher()
# A capacity limiter, not a lock in the worker thread: requests waiting for it hold no thread of the pool.
_legacy_checks = anyio.CapacityLimiter(1)


class SecretCheck(enum.Enum):
    RIGHT = "right"
    WRONG = "wrong"
    LEGACY = "legacy"  # an argon2 hash: decide with check_legacy_secret


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(key: bytes, secret: str) -> bytes:
    return hmac.digest(key, secret.encode("utf-8"), "sha256")


def hash_secret(secret: str) -> str:
    """The stored form of a new secret: ``hmac-sha256$<key>$<digest>`` with a fresh random key."""
    key = secrets.token_bytes(_KEY_BYTES)
    return f"{HMAC_SHA256}${_encode(key)}${_encode(_digest(key, secret))}"


def check_secret(stored: str | None, secret: str) -> SecretCheck:
    """Whether ``secret`` matches the ``stored`` hash (None: an unknown client, always WRONG at the same cost).

    Constant time and memory for the current format; LEGACY, unchecked, for an argon2 hash. Anything else (a
    damaged value, or a row made without a usable secret) is WRONG.
    """
    if stored is not None and stored.startswith("$argon2"):
        return SecretCheck.LEGACY
    key, expected = _UNKNOWN_CLIENT_KEY, _UNKNOWN_CLIENT_DIGEST
    known = False
    if stored is not None:
        scheme, _, rest = stored.partition("$")
        encoded_key, _, encoded_digest = rest.partition("$")
        try:
            if scheme == HMAC_SHA256:
                key, expected, known = _decode(encoded_key), _decode(encoded_digest), True
        except ValueError:
            pass
    matches = hmac.compare_digest(_digest(key, secret), expected)
    return SecretCheck.RIGHT if matches and known else SecretCheck.WRONG


def _argon2_matches(stored: str, secret: str) -> bool:
    try:
        return _legacy_hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


async def check_legacy_secret(stored: str, secret: str) -> bool:
    """Verifies against an argon2 hash, one verification at a time per process: memory stays bounded."""
    return await anyio.to_thread.run_sync(_argon2_matches, stored, secret, limiter=_legacy_checks)
