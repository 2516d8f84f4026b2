"""Structured JSON logs that never carry a full NIK, KK, BPJS number or a person's name.

Masking happens in the formatter, so every logger (ours, uvicorn's, SQLAlchemy's) goes through it: digit runs
of identifier length are masked anywhere, and the row data that libraries put into exception messages
(SQLAlchemy's statement parameters, pydantic's input values) is removed, since a resident's name there cannot
be told apart from other text. Query strings are masked by ``mask_query`` where they are logged.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

# 13 digits (BPJS noKartu) up to 16 digits (NIK, KK): keep the first four and the last four.
_IDENTIFIER_DIGITS = re.compile(r"(?<!\d)(\d{4})(\d{5,8})(\d{4})(?!\d)")
# Query parameters whose values are codes, ids, references, dates of records or paging: logged (with
# identifier digits masked). Every other value is hidden: names, phone numbers, birth dates, and parameters the
# API does not know (a misspelt "nama=Budi" is refused, but its value is still a person's name), so a parameter
# added later stays hidden until it is listed here.
_LOGGED_PARAMETERS = frozenset(
    {
        "_id", "_lastUpdated", "_tag", "_profile", "_security", "_count", "_offset", "_sort", "_include",
        "_revinclude", "_total", "_format", "_summary", "_elements",
        "identifier", "organization", "general-practitioner", "practitioner", "location", "partof", "entity",
        "type", "role", "status", "active", "gender", "wilayah", "address-village", "rw", "url", "date",
    }
)  # fmt: skip
_HIDDEN = "***"
# SQLAlchemy appends the statement's parameters (whole rows: names, addresses) to its exception messages.
_SQL_PARAMETERS = re.compile(r"^\[parameters: .*$", re.MULTILINE)
# pydantic's ValidationError text quotes each rejected input.
_PYDANTIC_INPUT = re.compile(r"input_value=.*?, input_type=")


def mask_identifiers(text: str) -> str:
    """``3374010101900001`` → ``3374********0001``; shorter numbers (ids, years, counts) pass."""
    return _IDENTIFIER_DIGITS.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)


def mask_query(query: str) -> str:
    """Mask a URL query string: identifier digits everywhere, and whole values of parameters not known to
    carry only codes, ids or references (names, phone numbers, unknown parameters)."""
    if not query:
        return query
    pairs = [
        # The modifier is ignored (name:contains is name); a chained "organization.name" is not a listed name.
        (key, value if key.split(":")[0] in _LOGGED_PARAMETERS else _HIDDEN)
        for key, value in parse_qsl(query, keep_blank_values=True)
    ]
    # "/", "*" and "|" stay readable (all legal in a query): identifier=https://…/nik|3374********0001, name=***
    return mask_identifiers(urlencode(pairs, safe="|:,/*"))


def redact(text: str) -> str:
    """``text`` without the row data libraries quote in error messages, and with identifier digits masked."""
    text = _SQL_PARAMETERS.sub("[parameters: hidden, row data is not logged]", text)
    text = _PYDANTIC_INPUT.sub(f"input_value={_HIDDEN}, input_type=", text)
    return mask_identifiers(text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            # Before json.dumps, which escapes the newlines the line-anchored patterns rely on.
            entry["exception"] = redact(self.formatException(record.exc_info))
        return mask_identifiers(json.dumps(entry, default=str, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        suffix = " ".join(f"{key}={value}" for key, value in fields.items())
        return redact(f"{super().format(record)} {suffix}".rstrip())


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_output else PlainFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log prints raw query strings; ours (masked) replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
