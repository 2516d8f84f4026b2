"""Result types shared by every part of the engine."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Sex = Literal["male", "female"]


class Interpretation(StrEnum):
    """HL7 v3 ObservationInterpretation codes used by the profile (§6)."""

    NORMAL = "N"
    HIGH = "H"
    CRITICAL_HIGH = "HH"
    LOW = "L"
    CRITICAL_LOW = "LL"
    ABNORMAL = "A"


NOT_CLASSIFIED = "tidak-diklasifikasi"


@dataclass(frozen=True)
class Rule:
    """Which rule produced a result: a stable id (``6.1-td-dewasa``) and its source key (``JUK K3 HT``)."""

    id: str
    source: str


@dataclass(frozen=True)
class Classification:
    """One classified finding (§6): ``key`` is the response key, ``code`` the profile's category code."""

    key: str
    code: str
    interpretation: Interpretation | None
    rule: Rule
    flags: tuple[str, ...] = ()
    value: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def not_classified(cls, key: str, rule: Rule, **details: Any) -> "Classification":
        return cls(key=key, code=NOT_CLASSIFIED, interpretation=None, rule=rule, details=details)
