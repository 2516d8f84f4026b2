"""When a klaster or pregnancy episode ends: the closing rules, pure (dates in, a closure or None out).

- A pregnancy ends 42 days after the delivery (the end of nifas, profile §2). Without a recorded delivery it ends
  42 days after the EDD plus a grace period for a delivery not yet recorded, and the closure is flagged so that
  someone looks for the missing record.
- The klaster-2 life-cycle episode ends on the 18th birthday, when klaster 3 takes over (R3: the 18th birthday
  counts as klaster 3).
- Any episode ends 12 months after its last visit (or its start, if it had none).

Whichever applies first closes the episode, on its own date, so a sweep run late records the right end.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ilp_api.ilp.age import add_months
from ilp_api.ilp.results import Rule

NIFAS_DAYS = 42
IDLE_MONTHS = 12
ADULT_YEARS = 18
DEFAULT_DELIVERY_GRACE_DAYS = 30

NIFAS_ENDED = Rule("episode-nifas-selesai", "JUK K2; profile §2 (nifas 42 hari)")
EDD_PASSED = Rule("episode-hpl-terlewati", "JUK K2; project rule")
TURNED_18 = Rule("episode-usia-18", "JUK K2/K3; profile §3 R3")
IDLE = Rule("episode-tanpa-kunjungan-12-bulan", "project rule")

EpisodeKind = Literal["kehamilan", "siklus-hidup", "lainnya"]


@dataclass(frozen=True)
class EpisodeFacts:
    kind: EpisodeKind  # a pregnancy, the klaster-2 life-cycle episode of a child, or any other klaster episode
    started: date
    birth_date: date
    last_visit: date | None = None
    delivery: date | None = None
    edd: date | None = None


@dataclass(frozen=True)
class Closure:
    on: date
    rule: Rule
    flagged: bool = False  # closed on a presumption (no delivery recorded): to be checked


def closure(facts: EpisodeFacts, today: date, delivery_grace_days: int = DEFAULT_DELIVERY_GRACE_DAYS) -> Closure | None:
    """The closure that applies by ``today`` (the earliest, if several), or None while the episode runs."""
    candidates = [Closure(add_months(facts.last_visit or facts.started, IDLE_MONTHS), IDLE)]
    if facts.kind == "kehamilan" and facts.delivery is not None:
        candidates.append(Closure(facts.delivery + timedelta(days=NIFAS_DAYS), NIFAS_ENDED))
    elif facts.kind == "kehamilan" and facts.edd is not None:
        end = facts.edd + timedelta(days=NIFAS_DAYS + delivery_grace_days)
        candidates.append(Closure(end, EDD_PASSED, flagged=True))
    if facts.kind == "siklus-hidup":
        candidates.append(Closure(add_months(facts.birth_date, 12 * ADULT_YEARS), TURNED_18))
    due = [candidate for candidate in candidates if candidate.on <= today]
    return min(due, key=lambda candidate: candidate.on) if due else None
