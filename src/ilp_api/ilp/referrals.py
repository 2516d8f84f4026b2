"""Referral and follow-up pathways (§7, decided by §11).

Each ``Pathway`` is one row of the §7 table: the findings it reacts to and what an outreach site, the pustu and
the puskesmas do. Only the first hop is returned, so "→P rutin → F rutin" is →P from outreach and the pustu and
→F at the puskesmas. Referrals merge to one per target at the highest urgency; a gawat-darurat referral
replaces the others and carries their reasons.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Generic, Literal, TypeVar

from ilp_api.ilp.age import Age
from ilp_api.ilp.classify import adl, blood_pressure, bmi, glucose, kpsp, skilas, srq20, waist, weight_trend
from ilp_api.ilp.classify import anemia as anemia_
from ilp_api.ilp.classify import kek as kek_
from ilp_api.ilp.classify import puma as puma_
from ilp_api.ilp.classify import tb_symptoms as tb
from ilp_api.ilp.classify import vision_hearing as sense
from ilp_api.ilp.inputs import Site
from ilp_api.ilp.results import Classification, Rule, Sex

Level = TypeVar("Level")
Target = Literal["pustu", "puskesmas", "fkrtl"]
Urgency = Literal["rutin", "segera", "gawat-darurat"]
URGENCY_ORDER: tuple[Urgency, ...] = ("rutin", "segera", "gawat-darurat")
URGENCY_RANK = {urgency: rank for rank, urgency in enumerate(URGENCY_ORDER)}
IMPLAUSIBLE_Z = "z-tidak-wajar"


@dataclass(frozen=True)
class Referral:
    target: Target
    urgency: Urgency
    reasons: tuple[str, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class FollowUp:
    code: str
    due_in_days: int
    reasons: tuple[str, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Refer:
    target: Target
    urgency: Urgency


@dataclass(frozen=True)
class Follow:
    code: str
    due_in_days: int


Action = Refer | Follow


@dataclass(frozen=True)
class Person:
    """What the pathways may ask about the person beyond the finding itself."""

    age: Age
    sex: Sex
    stages: frozenset[str]
    weight_kg: float | None


Condition = Callable[[Classification, Person], bool]


def always(finding: Classification, person: Person) -> bool:
    return True


@dataclass(frozen=True)
class Finding:
    """Classifications a pathway reacts to: a key with one of ``codes``, or carrying ``flag``."""

    key: str
    codes: frozenset[str] = frozenset()
    flag: str | None = None
    rule_id: str | None = None  # only the classification this rule made (adult vs adolescent BP)
    when: Condition = always

    def reason(self, classification: Classification, person: Person) -> str | None:
        if classification.key != self.key or (self.rule_id and classification.rule.id != self.rule_id):
            return None
        if IMPLAUSIBLE_Z in classification.flags:
            return None  # §6.9: re-measure, no referral
        hit = self.flag if self.flag in classification.flags else None
        if classification.code in self.codes:
            hit = classification.code
        return hit if hit and self.when(classification, person) else None


def finding(
    key: str, *codes: str, flag: str | None = None, rule_id: str | None = None, when: Condition = always
) -> Finding:
    return Finding(key, frozenset(codes), flag, rule_id, when)


@dataclass(frozen=True)
class Pathway:
    rule: Rule
    findings: tuple[Finding, ...]
    outreach: tuple[Action, ...] = ()
    puskesmas: tuple[Action, ...] = ()
    pustu: tuple[Action, ...] | None = None  # None: the pustu acts like an outreach site
    reason: str | None = None  # a readable reason where the bare code is not (``T``, ``lulus``)

    def actions_at(self, site: Site) -> tuple[Action, ...]:
        if site == "puskesmas":
            return self.puskesmas
        if site == "pustu" and self.pustu is not None:
            return self.pustu
        return self.outreach


def _rule(section: str, source: str) -> Rule:
    return Rule(f"7-{section}", source)


def _child_under_15(finding: Classification, person: Person) -> bool:
    return person.age.years < 15


def _adult_severe(finding: Classification, person: Person) -> bool:
    return finding.code == "hipertensi-3" or finding.details.get("derajatSistolik") == 3


def _adult_not_severe(finding: Classification, person: Person) -> bool:
    return not _adult_severe(finding, person)


def _value_below(limit: float) -> Condition:
    return lambda finding, person: finding.value is not None and finding.value < limit


def _severe_malnutrition_to_fkrtl(finding: Classification, person: Person) -> bool:
    return person.age.months < 6 or (person.weight_kg is not None and person.weight_kg < 4)


def _takes_ttd(finding: Classification, person: Person) -> bool:
    girl = person.sex == "female" and 12 <= person.age.years < 18
    return girl or "ibu-hamil" in person.stages


def _not_presumptive_tb(finding: Classification, person: Person) -> bool:
    return finding.code != tb.PRESUMPTIVE_TB  # a symptomatic contact follows the terduga pathway (§11)


def _pregnant(finding: Classification, person: Person) -> bool:
    return "ibu-hamil" in person.stages


P_RUTIN = (Refer("puskesmas", "rutin"),)
P_SEGERA = (Refer("puskesmas", "segera"),)
F_RUTIN = (Refer("fkrtl", "rutin"),)
EDUKASI = Follow("edukasi", 0)
ADULT_BP, TEEN_BP = blood_pressure.ADULT_RULE.id, blood_pressure.ADOLESCENT_RULE.id
WEIGHT_FOR_HEIGHT_KEYS = ("bb-tb", "imt-u")
RANDOM_GLUCOSE_HIGH = ("prediabetes", "suspek-diabetes")

PATHWAYS: tuple[Pathway, ...] = (
    Pathway(
        _rule("td-normal-tinggi", "JUK HT"),
        (
            finding(blood_pressure.KEY, "normal-tinggi", rule_id=ADULT_BP),
            finding(blood_pressure.KEY, "meningkat"),
        ),
        outreach=(Follow("pantau-td-bulanan", 30), EDUKASI),
        puskesmas=(Follow("pantau-td-bulanan", 30), EDUKASI),
    ),
    Pathway(
        _rule("td-dewasa-hipertensi", "JUK K3 HT"),
        (
            finding(
                blood_pressure.KEY,
                *blood_pressure.ADULT_HYPERTENSION,
                rule_id=ADULT_BP,
                when=_adult_not_severe,
            ),
        ),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("td-dewasa-berat", "[interpretation]; PKG"),
        (finding(blood_pressure.KEY, *blood_pressure.ADULT_HYPERTENSION, rule_id=ADULT_BP, when=_adult_severe),),
        outreach=P_SEGERA,
    ),
    Pathway(
        _rule("td-remaja-hipertensi", "JUK K2 HT"),
        (finding(blood_pressure.KEY, *blood_pressure.ADOLESCENT_HYPERTENSION, rule_id=TEEN_BP),),
        outreach=P_RUTIN,
        puskesmas=F_RUTIN,
    ),
    Pathway(
        _rule("td-hamil-tinggi", "[interpretation]"),
        (finding(blood_pressure.PREGNANCY_KEY, "td-hamil-tinggi"),),
        outreach=P_SEGERA,
    ),
    Pathway(
        _rule("td-hamil-berat", "NYW [unverified]"),
        (finding(blood_pressure.PREGNANCY_KEY, "td-hamil-berat"),),
        outreach=(Refer("fkrtl", "gawat-darurat"),),
        puskesmas=(Refer("fkrtl", "gawat-darurat"),),
    ),
    Pathway(
        _rule("prediabetes", "JUK DM"),
        tuple(finding(key, "prediabetes") for key in glucose.TABLES),
        outreach=(Follow("cek-gula-3-bulan", 90),),
        puskesmas=(Follow("cek-gula-3-bulan", 90),),
    ),
    Pathway(
        _rule("suspek-diabetes", "JUK DM"),
        tuple(
            finding(key, "suspek-diabetes", when=lambda finding, person: person.age.years >= 15)
            for key in glucose.TABLES
        ),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("gds-anak", "PKG"),
        (finding(glucose.RANDOM_KEY, *RANDOM_GLUCOSE_HIGH, when=_child_under_15),),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("gdp-anak", "PKG"),
        (finding(glucose.FASTING_KEY, *RANDOM_GLUCOSE_HIGH, when=_child_under_15),),
        puskesmas=F_RUTIN,
    ),
    Pathway(
        _rule("obesitas", "JUK Obesitas"),
        (finding(bmi.KEY, *bmi.OBESITY), finding(waist.KEY, waist.CENTRAL_OBESITY)),
        outreach=(Follow("evaluasi-3-bulan", 90),),
        puskesmas=(Follow("evaluasi-3-bulan", 90),),
    ),
    Pathway(
        _rule("berat-badan-lebih", "ilp-profile §11"),
        (finding(bmi.KEY, "berat-badan-lebih"),),
        outreach=(EDUKASI,),
        puskesmas=(EDUKASI,),
    ),
    Pathway(
        _rule("anemia", "JUK Anemia; PPK"),
        (finding(anemia_.KEY, "anemia"),),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("anemia-hb-di-bawah-8", "PPK"),
        (finding(anemia_.KEY, "anemia", when=_value_below(8)),),
        puskesmas=F_RUTIN,
    ),
    Pathway(
        _rule("anemia-hb-di-bawah-7", "PPK"),
        (finding(anemia_.KEY, "anemia", when=_value_below(anemia_.SEVERE_BELOW)),),
        puskesmas=(Refer("fkrtl", "segera"),),
    ),
    Pathway(
        _rule("ttd", "JUK Anemia; JUK KEK"),
        (finding(anemia_.KEY, "anemia", when=_takes_ttd),),
        outreach=(Follow("ttd", 30),),
        puskesmas=(Follow("ttd", 30),),
    ),
    Pathway(
        _rule("kek", "JUK KEK"),
        (finding(kek_.KEY, "kek", when=_pregnant),),
        outreach=(*P_RUTIN, Follow("mt-bumil-kek-90-hari", 90)),
        puskesmas=(Follow("mt-bumil-kek-90-hari", 90),),
    ),
    Pathway(
        _rule("gizi-buruk", "JUK Gizi; PKG"),
        tuple(finding(key, "gizi-buruk") for key in WEIGHT_FOR_HEIGHT_KEYS),
        outreach=P_SEGERA,
    ),
    Pathway(
        _rule("gizi-buruk-rujuk-fkrtl", "JUK Gizi; PKG"),
        tuple(finding(key, "gizi-buruk", when=_severe_malnutrition_to_fkrtl) for key in WEIGHT_FOR_HEIGHT_KEYS),
        puskesmas=(Refer("fkrtl", "segera"),),
    ),
    Pathway(
        _rule("gizi-kurang", "JUK Gizi; PKG"),
        (
            *(finding(key, "gizi-kurang") for key in WEIGHT_FOR_HEIGHT_KEYS),
            finding("bb-u", "berat-badan-kurang", "berat-badan-sangat-kurang"),
            finding(weight_trend.KEY, "2T"),
        ),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("tren-berat-t", "NYW"),
        (finding(weight_trend.KEY, "T"),),
        outreach=(Follow("timbang-ulang-bulan-depan", 30), EDUKASI),  # PMBA counselling
        puskesmas=(Follow("timbang-ulang-bulan-depan", 30), EDUKASI),
        reason="tren-berat-t",
    ),
    Pathway(
        _rule("pendek", "JUK Gizi; PKG"),
        (finding("tb-u", "pendek", "sangat-pendek"),),
        outreach=P_RUTIN,
        puskesmas=F_RUTIN,
    ),
    Pathway(
        _rule("obesitas-anak-lk-u", "PKG"),
        (
            *(finding(key, "obesitas") for key in WEIGHT_FOR_HEIGHT_KEYS),
            finding("lk-u", "mikrosefali", "makrosefali"),
        ),
        outreach=P_RUTIN,
        puskesmas=F_RUTIN,
    ),
    Pathway(
        _rule("gizi-lebih-anak", "PKG"),
        tuple(finding(key, "berisiko-gizi-lebih", "gizi-lebih") for key in WEIGHT_FOR_HEIGHT_KEYS),
        outreach=(Follow("review-gizi-2-minggu", 14), EDUKASI),
        puskesmas=(Follow("review-gizi-2-minggu", 14), EDUKASI),
    ),
    Pathway(
        _rule("kpsp-meragukan", "PKG"),
        (finding(kpsp.KEY, "meragukan"),),
        outreach=(Follow("ulang-kpsp-14-hari", 14),),
        puskesmas=(Follow("ulang-kpsp-14-hari", 14),),
        reason="kpsp-meragukan",
    ),
    Pathway(
        _rule("kpsp-penyimpangan", "PKG"),
        (finding(kpsp.KEY, "penyimpangan"),),
        outreach=P_RUTIN,
        puskesmas=F_RUTIN,
        reason="kpsp-penyimpangan",
    ),
    Pathway(
        _rule("srq-20", "JUK Jiwa"),
        (finding(srq20.KEY, "masalah-kesehatan-jiwa"),),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("risiko-bunuh-diri", "JUK Jiwa; [interpretation]"),
        (finding(srq20.KEY, flag=srq20.SUICIDE_RISK),),
        outreach=P_SEGERA,
    ),
    Pathway(
        _rule("ppok", "JUK PPOK"),
        (finding(puma_.KEY, "risiko-tinggi-ppok"),),
        outreach=(*P_RUTIN, EDUKASI),  # UBM: counselling to stop smoking
        puskesmas=(EDUKASI,),
    ),
    Pathway(
        _rule("geriatri", "JUK Geriatri"),
        (finding(adl.KEY, *adl.DEPENDENCY), finding(skilas.KEY, skilas.NEEDS_FOLLOW_UP)),
        outreach=(Refer("pustu", "rutin"),),
        pustu=P_RUTIN,
        puskesmas=(Follow("pemeriksaan-geriatri", 7),),
    ),
    Pathway(
        _rule("perawatan-rumah", "JUK Geriatri"),
        (finding(adl.KEY, *adl.SEVERE_DEPENDENCY),),
        outreach=(Follow("perawatan-rumah", 30),),
        puskesmas=(Follow("perawatan-rumah", 30),),
    ),
    Pathway(
        _rule("terduga-tb", "JUK TB"),
        (finding(tb.KEY, tb.PRESUMPTIVE_TB),),
        outreach=(Refer("pustu", "rutin"),),
        pustu=(Follow("pemeriksaan-dahak", 1),),
        puskesmas=(Follow("pemeriksaan-dahak", 1),),
    ),
    Pathway(
        _rule("kontak-erat", "JUK TB"),
        (finding(tb.KEY, flag=tb.CLOSE_CONTACT, when=_not_presumptive_tb),),
        outreach=P_RUTIN,
    ),
    Pathway(
        _rule("penglihatan", "JUK Mata; PKG"),
        (finding(sense.VISUS_KEY, *sense.IMPAIRED_VISION),),
        outreach=P_RUTIN,
        reason="gangguan-penglihatan",
    ),
    Pathway(
        _rule("pendengaran", "PKG"),
        (finding(sense.WHISPER_KEY, "tidak-lulus"),),
        outreach=P_RUTIN,
        reason="tes-bisik-tidak-lulus",
    ),
)


@cache  # keys and codes are a fixed vocabulary: each pair is worked out once
def candidate_pathways(key: str, code: str) -> tuple[tuple[Pathway, tuple[Finding, ...]], ...]:
    """The pathways, in table order, that can react to a classification with this key and code, each with the
    findings that can match it: those listing the code, and those reacting to a flag whatever the code."""
    candidates = []
    for pathway in PATHWAYS:
        findings = tuple(
            finding
            for finding in pathway.findings
            if finding.key == key and (code in finding.codes or finding.flag is not None)
        )
        if findings:
            candidates.append((pathway, findings))
    return tuple(candidates)


@dataclass
class _Merged(Generic[Level]):
    """The actions merged under one referral target or follow-up code: the level kept, every reason and rule."""

    level: Level  # the highest urgency, or the fewest days
    reasons: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    def take(self, reason: str, rule: Rule) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        if rule not in self.rules:
            self.rules.append(rule)


class _Collector:
    """Merges actions: one referral per target at the highest urgency, one follow-up per code."""

    def __init__(self) -> None:
        self.referrals: dict[Target, _Merged[Urgency]] = {}
        self.follow_ups: dict[str, _Merged[int]] = {}

    def add(self, action: Action, reason: str, rule: Rule) -> None:
        if isinstance(action, Refer):
            referral = self.referrals.get(action.target)
            if referral is None:
                referral = self.referrals[action.target] = _Merged(action.urgency)
            elif URGENCY_RANK[action.urgency] > URGENCY_RANK[referral.level]:
                referral.level = action.urgency
            referral.take(reason, rule)
        else:
            follow_up = self.follow_ups.get(action.code)
            if follow_up is None:
                follow_up = self.follow_ups[action.code] = _Merged(action.due_in_days)
            else:
                follow_up.level = min(follow_up.level, action.due_in_days)
            follow_up.take(reason, rule)

    def result(self) -> tuple[tuple[Referral, ...], tuple[FollowUp, ...]]:
        referrals = [
            Referral(target, merged.level, tuple(merged.reasons), tuple(merged.rules))
            for target, merged in self.referrals.items()
        ]
        emergencies = [referral for referral in referrals if referral.urgency == "gawat-darurat"]
        if emergencies:
            # Gawat-darurat replaces every other referral; their findings travel with it [interpretation].
            all_reasons = tuple(dict.fromkeys(reason for referral in referrals for reason in referral.reasons))
            all_rules = tuple(dict.fromkeys(rule for referral in referrals for rule in referral.rules))
            referrals = [
                Referral(referral.target, referral.urgency, all_reasons, all_rules) for referral in emergencies
            ]
        follow_ups = tuple(
            FollowUp(code, merged.level, tuple(merged.reasons), tuple(merged.rules))
            for code, merged in self.follow_ups.items()
        )
        return tuple(sorted(referrals, key=lambda referral: referral.target)), follow_ups


SCHEDULE = Follow("jadwalkan", 0)
SCHEDULE_RULE = Rule("3-R8-jadwalkan", "JUK ILP Puskesmas")


def _first_reason(findings: Iterable[Finding], classification: Classification, person: Person) -> str | None:
    for candidate in findings:
        if (reason := candidate.reason(classification, person)) is not None:
            return reason
    return None


def plan_actions(
    classifications: Iterable[Classification],
    person: Person,
    site: Site,
    unavailable_here: Iterable[str] = (),
) -> tuple[tuple[Referral, ...], tuple[FollowUp, ...]]:
    """Referrals and follow-ups for this visit's findings at ``site``; ``unavailable_here`` are due items
    this site cannot provide (R8 ``jadwalkan``, due now)."""
    collector = _Collector()
    for classification in classifications:
        for pathway, findings in candidate_pathways(classification.key, classification.code):
            reason = _first_reason(findings, classification, person)  # one finding per pathway and classification
            if reason is None:
                continue
            for action in pathway.actions_at(site):
                collector.add(action, pathway.reason or reason, pathway.rule)
    for item in unavailable_here:
        collector.add(SCHEDULE, item, SCHEDULE_RULE)
    return collector.result()
