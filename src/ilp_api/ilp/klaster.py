"""Klaster routing R1–R7 (§3): a set of {klaster, role, reasons}, exactly one of them primary.

R8 (``jadwalkan``) is a follow-up and lives in ``referrals``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ilp_api.ilp.inputs import Service
from ilp_api.ilp.results import Rule

Role = Literal["primary", "screening", "surveillance", "lintas"]

R1 = Rule("3-R1-gawat-darurat", "JUK Gawat darurat")
R2 = Rule("3-R2-kehamilan", "JUK K2")
R3 = Rule("3-R3-siklus-hidup", "JUK K2/K3")
R5 = Rule("3-R5-skrining-ibu", "REQ")
R6 = Rule("3-R6-surveilans", "JUK K4")
R7 = Rule("3-R7-lintas-klaster", "JUK ILP Puskesmas")

MATERNAL_REASONS = {"ibu-hamil": "kehamilan", "ibu-bersalin": "persalinan", "ibu-nifas": "nifas"}
SURVEILLANCE_FINDINGS = ("terduga-tb", "kontak-erat")


@dataclass(frozen=True)
class KlasterAssignment:
    klaster: int
    role: Role
    reasons: tuple[str, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class RoutingFacts:
    age_years: int
    stages: tuple[str, ...]
    emergency: bool
    gawat_darurat_referral: bool
    findings: frozenset[str]  # classification codes and flags of this visit
    services: frozenset[Service]


def route_klaster(facts: RoutingFacts) -> tuple[KlasterAssignment, ...]:
    entries: dict[tuple[int, Role], tuple[list[str], list[Rule]]] = {}

    def add(klaster: int, role: Role, reasons: Iterable[str], rule: Rule) -> None:
        known_reasons, rules = entries.setdefault((klaster, role), ([], []))
        known_reasons.extend(reason for reason in reasons if reason not in known_reasons)
        if rule not in rules:
            rules.append(rule)

    if facts.emergency or facts.gawat_darurat_referral:
        add(5, "lintas", ["gawat-darurat"], R1)
    maternal = [reason for stage, reason in MATERNAL_REASONS.items() if stage in facts.stages]
    if maternal:
        add(2, "primary", maternal, R2)
        # R4: under 18 the ≥15 y adult items stay with klaster 2; R5 excludes bersalin [interpretation].
        if facts.age_years >= 18 and ({"ibu-hamil", "ibu-nifas"} & set(facts.stages)):
            screening = "skrining-lansia" if facts.age_years >= 60 else "skrining-usia-produktif"
            add(3, "screening", [screening], R5)
    else:
        # The 18th birthday counts as klaster 3 [interpretation].
        add(2 if facts.age_years < 18 else 3, "primary", ["siklus-hidup"], R3)
    if surveillance := [finding for finding in SURVEILLANCE_FINDINGS if finding in facts.findings]:
        add(4, "surveillance", surveillance, R6)
    if facts.services:
        add(5, "lintas", sorted(facts.services), R7)
    return tuple(
        KlasterAssignment(klaster, role, tuple(reasons), tuple(rules))
        for (klaster, role), (reasons, rules) in sorted(entries.items())
    )
