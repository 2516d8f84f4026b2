"""Structured JSON logs that never carry a full NIK, KK, BPJS number or a person's name.

Masking happens in the formatter, so every logger (ours, uvicorn's, SQLAlchemy's) goes through it.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

# 13 digits (BPJS noKartu) up to 16 digits (NIK, KK): keep the first four and the last four.
_IDENTIFIER_DIGITS = re.compile(r"(?<!\d)(\d{4})(\d{5,8})(\d{4})(?!\d)")
# Query parameters whose values are personal names or free text about a person.
_NAME_PARAMETERS = frozenset({"name", "family", "given", "name:contains", "name:exact", "phonetic"})


def mask_identifiers(text: str) -> str:
    """``3374010101900001`` → ``3374********0001``; shorter numbers (ids, years, counts) pass."""
    return _IDENTIFIER_DIGITS.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)


def mask_query(query: str) -> str:
    """Mask a URL query string: identifier digits everywhere, and whole values of name parameters."""
    if not query:
        return query
    pairs = [
        (key, "***" if key.split(":")[0] in _NAME_PARAMETERS or key in _NAME_PARAMETERS else value)
        for key, value in parse_qsl(query, keep_blank_values=True)
    ]
    return mask_identifiers(urlencode(pairs, safe="|:,"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_identifiers(json.dumps(entry, default=str, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        suffix = " ".join(f"{key}={value}" for key, value in fields.items())
        return mask_identifiers(f"{super().format(record)} {suffix}".rstrip())


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
