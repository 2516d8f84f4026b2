"""Structured JSON logs that never carry a full NIK, KK, BPJS number or a person's name.

Masking happens in the formatter, so every logger (ours, uvicorn's, SQLAlchemy's) goes through it: digit runs
of identifier length are masked anywhere, written whole or with separators (``3310-0619-0395-0038``), and the
row data that libraries put into exception messages (SQLAlchemy's statement parameters, pydantic's input
values) is removed, since a resident's name there cannot be told apart from other text. Requests are logged by
route template, validated ids and parameter names only (see ``middleware``), never by raw path or values.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# 13 digits (BPJS noKartu) up to 16 digits (NIK, KK): keep the first four and the last four.
_IDENTIFIER_DIGITS = re.compile(r"(?<!\d)(\d{4})(\d{5,8})(\d{4})(?!\d)")
# The same with separators people write: 3310-0619-0395-0038, 3310 0619 0395 0038, 33.10.06.190395.0038.
_SEPARATED_DIGITS = re.compile(r"(?<!\d)\d+(?:[-. ]\d+)+(?!\d)")
_IDENTIFIER_MIN_DIGITS = 13
_KEPT_DIGITS = 4  # at each end
_HIDDEN = "***"
# SQLAlchemy appends the statement's parameters (whole rows: names, addresses) to its exception messages.
_SQL_PARAMETERS = re.compile(r"^\[parameters: .*$", re.MULTILINE)
# pydantic's ValidationError text quotes each rejected input.
_PYDANTIC_INPUT = re.compile(r"input_value=.*?, input_type=")


def mask_identifiers(text: str) -> str:
    """``3374010101900001`` → ``3374********0001``, ``3374-0101-0190-0001`` → ``3374-****-****-0001``;
    shorter numbers (ids, years, counts, dates, addresses) pass."""
    return _IDENTIFIER_DIGITS.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], _SEPARATED_DIGITS.sub(_mask_separated, text))


def _mask_separated(match: re.Match[str]) -> str:
    run = match[0]
    digits = sum(character.isdigit() for character in run)
    if digits < _IDENTIFIER_MIN_DIGITS:
        return run
    masked, seen = [], 0
    for character in run:
        if character.isdigit():
            seen += 1
            if _KEPT_DIGITS < seen <= digits - _KEPT_DIGITS:
                character = "*"
        masked.append(character)
    return "".join(masked)


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


class StandardErrorHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when each record is written, unless given a stream of its own: a command run
    in-process (a test's CliRunner) swaps ``sys.stderr`` and closes its own afterwards, and a handler holding the
    stream of the moment logging was configured would then write to a closed file."""

    def __init__(self) -> None:
        self._own: Any = None
        super().__init__()

    @property
    def stream(self) -> Any:
        return self._own or sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._own = None if value is sys.stderr else value


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    handler = StandardErrorHandler()
    handler.setFormatter(JsonFormatter() if json_output else PlainFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log prints raw query strings; ours (masked) replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
