"""Every way a PCare call can fail, as the OperationOutcome the client gets: the project's own codes (issue
``details``, system ``{canonical base}/CodeSystem/ilp-error``), documented in the README's BPJS section.

PCare being slow, unreachable or shut off by the circuit breaker is a 503 with ``Retry-After``; PCare answering
wrongly (an error page, garbage, refusing our credentials or our clock) a 502; what BPJS says about the member
(unknown, or a field it refuses) a 422.
"""

from enum import StrEnum

from ilp_api.fhir.outcome import BadGateway, FhirError, ServiceUnavailable, Unprocessable


class BpjsOutcome(StrEnum):
    NOT_CONFIGURED = "bpjs-tidak-dikonfigurasi"
    TIMEOUT = "bpjs-waktu-habis"
    UNREACHABLE = "bpjs-tidak-terjangkau"
    BREAKER_OPEN = "bpjs-pemutus-terbuka"
    SERVER_ERROR = "bpjs-galat-server"
    MALFORMED_REPLY = "bpjs-respons-rusak"
    CREDENTIALS_REFUSED = "bpjs-kredensial-ditolak"
    CLOCK_SKEW = "bpjs-jam-tidak-sinkron"
    SERVICE_NOT_REGISTERED = "bpjs-layanan-tidak-terdaftar"
    MEMBER_NOT_FOUND = "peserta-tidak-ditemukan"
    REFUSED_FIELDS = "bpjs-validasi"


class BpjsUnavailable(ServiceUnavailable):
    """BPJS cannot be asked now: retry later (the Retry-After header says when)."""


class BpjsTimeout(BpjsUnavailable):
    issue_code = "timeout"


class BpjsNotConfigured(ServiceUnavailable):
    issue_code = "not-supported"


class BpjsBadReply(BadGateway):
    """PCare answered, but not with an answer: an error page, garbage, or a refusal of this server's setup."""


class BpjsRefusal(Unprocessable):
    """PCare's answer about the member asked for: unknown, or a field it does not accept."""

    issue_code = "not-found"


def unavailable(outcome: BpjsOutcome, message: str, retry_after: float) -> BpjsUnavailable:
    kind = BpjsTimeout if outcome is BpjsOutcome.TIMEOUT else BpjsUnavailable
    return kind(message, ilp_code=outcome, headers={"Retry-After": str(max(1, round(retry_after)))})


def bad_reply(outcome: BpjsOutcome, message: str) -> FhirError:
    return BpjsBadReply(message, ilp_code=outcome)


def not_configured() -> FhirError:
    return BpjsNotConfigured(
        "The BPJS integration is off on this server: set ILP_BPJS_PCARE_URL, ILP_BPJS_CONS_ID, ILP_BPJS_SECRET, "
        "ILP_BPJS_USER_KEY, ILP_BPJS_USERNAME and ILP_BPJS_PASSWORD to turn it on",
        ilp_code=BpjsOutcome.NOT_CONFIGURED,
    )
