"""PCare's wire protocol, pure: request signing, the response envelope, and response encryption.

Every request carries ``X-cons-id``, ``X-timestamp`` (UTC epoch seconds), ``X-signature`` (base64 of
HMAC-SHA256(secret, "consId&timestamp")), ``X-authorization`` (Basic base64("username:password:kdAplikasi")) and
``user_key``. A string ``response`` is encrypted with AES-256-CBC under key = SHA-256(consId + secret + timestamp),
iv = its first 16 bytes, PKCS#7-padded, of the lz-string ``compressToEncodedURIComponent`` form of the JSON: the
timestamp is the one the request sent, so the caller keeps that one string for both (see bpjs-pcare.md §2, §6).
The simulator encrypts with the same functions.
"""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lzstring import LZString  # type: ignore[import-untyped]

DEFAULT_KD_APLIKASI = "095"


@dataclass(frozen=True)
class Credentials:
    """What one puskesmas signs its PCare requests with."""

    cons_id: str
    secret: str
    user_key: str
    username: str
    password: str
    kd_aplikasi: str = DEFAULT_KD_APLIKASI


def timestamp_at(epoch_seconds: float) -> str:
    """The ``X-timestamp`` of a request sent at ``epoch_seconds`` (UTC epoch, whole seconds)."""
    return str(int(epoch_seconds))


def hmac_sha256_base64(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()


def signature(cons_id: str, secret: str, timestamp: str) -> str:
    return hmac_sha256_base64(secret, f"{cons_id}&{timestamp}")


def authorization(username: str, password: str, kd_aplikasi: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}:{kd_aplikasi}".encode()).decode()


def request_headers(credentials: Credentials, timestamp: str) -> dict[str, str]:
    return {
        "X-cons-id": credentials.cons_id,
        "X-timestamp": timestamp,
        "X-signature": signature(credentials.cons_id, credentials.secret, timestamp),
        "X-authorization": authorization(credentials.username, credentials.password, credentials.kd_aplikasi),
        "user_key": credentials.user_key,
    }


class UndecryptableResponse(ValueError):
    """A ``response`` that does not decrypt, decompress or parse under the request's key."""


def response_key(cons_id: str, secret: str, timestamp: str) -> bytes:
    return hashlib.sha256((cons_id + secret + timestamp).encode()).digest()


def encrypt_response(cons_id: str, secret: str, timestamp: str, value: Any) -> str:
    """``value`` as PCare sends it in ``response`` (the simulator's side)."""
    key = response_key(cons_id, secret, timestamp)
    padder = padding.PKCS7(128).padder()
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # as JavaScript's JSON.stringify
    padded = padder.update(compress(text).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def decrypt_response(cons_id: str, secret: str, timestamp: str, payload: str) -> Any:
    """The JSON value of an encrypted ``response``; UndecryptableResponse when the key or the data is wrong."""
    key = response_key(cons_id, secret, timestamp)
    try:
        ciphertext = base64.b64decode(payload, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        # Unpadding is what detects a wrong key (a timestamp off by one second): lz-string alone would not.
        unpadder = padding.PKCS7(128).unpadder()
        compressed = (unpadder.update(padded) + unpadder.finalize()).decode()
    except (binascii.Error, ValueError) as error:
        raise UndecryptableResponse(f"the response does not decrypt with this request's key ({error})") from None
    text = decompress(compressed)
    if text is None:
        raise UndecryptableResponse("the decrypted response is not lz-string data")
    try:
        return json.loads(text)
    except ValueError as error:
        raise UndecryptableResponse(f"the decompressed response is not JSON ({error})") from None


# lz-string works on UTF-16 code units (JavaScript strings). PyPI lzstring 1.0.4 works on Python characters, so
# outside the Basic Multilingual Plane (emoji, some scripts' letters) it truncates each character to 16 bits when
# compressing and returns lone surrogates when decompressing. Both wrappers convert at the boundary.


def compress(text: str) -> str:
    """npm lz-string's ``compressToEncodedURIComponent`` of ``text``, for any Unicode text."""
    return str(LZString().compressToEncodedURIComponent(_code_units(text)))


def decompress(compressed: str) -> str | None:
    """npm lz-string's ``decompressFromEncodedURIComponent``; None for data that is not lz-string's."""
    try:
        units = LZString().decompressFromEncodedURIComponent(compressed)
    except (IndexError, KeyError, TypeError, ValueError):  # the port has no error path of its own for garbage
        return None
    if not units:
        return None
    try:
        return str(units).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:  # a lone surrogate: not text
        return None


def _code_units(text: str) -> str:
    """``text`` with each character outside the BMP as its two UTF-16 surrogates, as JavaScript sees it."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(encoded[i : i + 2], "little")) for i in range(0, len(encoded), 2))


@dataclass(frozen=True)
class Envelope:
    """PCare's ``{"response": …, "metaData": {"message": …, "code": …}}``."""

    code: int | None
    message: str
    response: Any

    @property
    def encrypted(self) -> bool:
        # Only a non-empty string is ciphertext: a 412's field list and a null come in clear.
        return isinstance(self.response, str) and self.response != ""


def parse_envelope(body: bytes) -> Envelope | None:
    """The envelope of a PCare answer, or None when the body is not one (an HTML error page, garbage)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    meta = document.get("metaData", document.get("metadata"))
    if not isinstance(meta, dict) or "response" not in document:
        return None
    code = meta.get("code")
    # PCare sends a number, VClaim a string: accept both.
    number = int(code) if isinstance(code, int | str) and str(code).strip().lstrip("-").isdigit() else None
    return Envelope(number, str(meta.get("message", "")), document["response"])
