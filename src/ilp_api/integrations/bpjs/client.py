"""The PCare client: one signed GET, every answer turned into a member or into one of the outcomes of errors.py.

One timestamp per request, used for the signature and for decrypting the answer. Each call waits at most the
configured timeout to connect and for each read, and goes through the circuit breaker: while PCare is down,
calls answer 503 at once. A refusal, or an answer that does not decrypt, while this server's clock differs from
the answer's ``Date`` by more than the tolerance is reported as clock skew, its likely cause.
"""

import re
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from ilp_api.fhir.outcome import FhirError, Issue
from ilp_api.integrations.bpjs.breaker import BreakerOpen, CircuitBreaker
from ilp_api.integrations.bpjs.errors import BpjsOutcome, BpjsRefusal, bad_reply, unavailable
from ilp_api.integrations.bpjs.protocol import (
    Credentials,
    Envelope,
    UndecryptableResponse,
    decrypt_response,
    parse_envelope,
    request_headers,
    timestamp_at,
)

Jenis = Literal["noka", "nik"]
JENIS_WORDS = {"noka": "card number (noKartu)", "nik": "NIK"}
# How a client names a member (parameter → PCare's jenis kartu, the shape of the number, in words).
MEMBER_NUMBERS: dict[str, tuple[Jenis, re.Pattern[str], str]] = {
    "noKartu": ("noka", re.compile(r"\d{13}"), "13 digits"),
    "nik": ("nik", re.compile(r"\d{16}"), "16 digits"),
}

# Unverified (bpjs-pcare.md §13): PCare's code for an unknown card is unpublished; 201 and 204 are the candidates.
NOT_FOUND_CODES = frozenset({201, 204})
REFUSAL_CODES = frozenset({401, 403})


class PcareClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float,
        breaker: CircuitBreaker,
        clock_skew_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self.breaker = breaker
        self.clock_skew_seconds = clock_skew_seconds
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.http = httpx.Client(timeout=httpx.Timeout(timeout_seconds))

    def close(self) -> None:
        self.http.close()

    def peserta(self, credentials: Credentials, jenis: Jenis, nomor: str) -> dict[str, Any]:
        """The member BPJS has under this card number or NIK (PCare's decrypted ``response``)."""
        envelope, timestamp, answered = self._get(credentials, f"/peserta/{jenis}/{nomor}")
        if envelope.code == 200 and envelope.encrypted:
            try:
                member = decrypt_response(credentials.cons_id, credentials.secret, timestamp, envelope.response)
            except UndecryptableResponse as error:
                raise self._skew(answered) or bad_reply(
                    BpjsOutcome.MALFORMED_REPLY, f"PCare's answer could not be read: {error}"
                ) from None
            if isinstance(member, dict):
                return member
            raise bad_reply(BpjsOutcome.MALFORMED_REPLY, "PCare's answer holds no member")
        if envelope.code in NOT_FOUND_CODES or (envelope.code == 200 and not envelope.response):
            raise BpjsRefusal(
                f"BPJS has no member with {JENIS_WORDS[jenis]} {nomor} (PCare: {envelope.message!r})",
                ilp_code=BpjsOutcome.MEMBER_NOT_FOUND,
            )
        if envelope.code == 412 and isinstance(envelope.response, list):
            raise _refused_fields(envelope)
        if envelope.code == 404:
            raise bad_reply(
                BpjsOutcome.SERVICE_NOT_REGISTERED,
                f"PCare refuses this consumer id the peserta service ({envelope.message!r}): ask BPJS to register "
                "ILP_BPJS_CONS_ID for PCare",
            )
        if envelope.code in REFUSAL_CODES:
            raise self._skew(answered) or bad_reply(
                BpjsOutcome.CREDENTIALS_REFUSED,
                f"PCare refused this puskesmas' credentials ({envelope.message!r}): check ILP_BPJS_CONS_ID, "
                "ILP_BPJS_SECRET, ILP_BPJS_USER_KEY, ILP_BPJS_USERNAME, ILP_BPJS_PASSWORD and ILP_BPJS_KD_APLIKASI",
            )
        raise self._skew(answered) or bad_reply(
            BpjsOutcome.MALFORMED_REPLY, f"PCare answered code {envelope.code} ({envelope.message!r})"
        )

    def _get(self, credentials: Credentials, path: str) -> tuple[Envelope, str, httpx.Response]:
        """PCare's envelope, the timestamp the request was signed with, and the raw answer."""
        try:
            self.breaker.admit()
        except BreakerOpen as error:
            raise unavailable(
                BpjsOutcome.BREAKER_OPEN,
                f"BPJS PCare failed {self.breaker.threshold} times in a row; calls are paused, retry after "
                "the number of seconds in Retry-After",
                error.retry_after,
            ) from None
        timestamp = timestamp_at(self.clock())
        try:
            answered = self.http.get(self.base_url + path, headers=request_headers(credentials, timestamp))
        except httpx.TimeoutException:
            self.breaker.failed()
            raise unavailable(
                BpjsOutcome.TIMEOUT, f"BPJS PCare did not answer within {self.timeout_seconds:g} s", 5
            ) from None
        except httpx.HTTPError as error:
            self.breaker.failed()
            raise unavailable(
                BpjsOutcome.UNREACHABLE, f"BPJS PCare cannot be reached ({type(error).__name__})", 5
            ) from None
        envelope = parse_envelope(answered.content)
        if envelope is None:
            self.breaker.failed()
            if answered.status_code >= 500:
                raise bad_reply(
                    BpjsOutcome.SERVER_ERROR, f"BPJS PCare answered HTTP {answered.status_code} with an error page"
                )
            raise bad_reply(
                BpjsOutcome.MALFORMED_REPLY,
                f"BPJS PCare answered HTTP {answered.status_code} with something that is not a PCare answer",
            )
        self.breaker.succeeded()
        return envelope, timestamp, answered

    def _skew(self, answered: httpx.Response) -> FhirError | None:
        """Clock skew, when the answer's Date shows this server's clock off by more than the tolerance."""
        try:
            their_time = parsedate_to_datetime(answered.headers["date"]).timestamp()
        except (KeyError, TypeError, ValueError):
            return None
        offset = self.clock() - their_time
        if abs(offset) <= self.clock_skew_seconds:
            return None
        direction = "ahead of" if offset > 0 else "behind"
        return bad_reply(
            BpjsOutcome.CLOCK_SKEW,
            f"This server's clock is {abs(offset):.0f} s {direction} BPJS's, and PCare refuses or garbles requests "
            f"whose X-timestamp is off: synchronise the server's clock (NTP)",
        )


def _refused_fields(envelope: Envelope) -> FhirError:
    items = [item for item in envelope.response if isinstance(item, dict)]
    issues = [
        Issue(
            f"PCare refused {item.get('field')!s}: {item.get('message')!s}",
            "invalid",
            ilp_code=BpjsOutcome.REFUSED_FIELDS,
        )
        for item in items
    ] or [Issue(f"PCare refused the request ({envelope.message!r})", "invalid", ilp_code=BpjsOutcome.REFUSED_FIELDS)]
    return BpjsRefusal(issues[0].diagnostics, ilp_code=BpjsOutcome.REFUSED_FIELDS, issues=issues)
