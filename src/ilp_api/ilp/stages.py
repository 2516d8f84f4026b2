"""Life-cycle stages (§2); several can apply at once."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ilp_api.ilp.age import Age
from ilp_api.ilp.inputs import Pregnancy
from ilp_api.ilp.results import Rule

RULE = Rule("2-tahap-siklus-hidup", "JUK K2 Balita, K2 Sekolah, K3, Nifas")
NIFAS_DAYS = 42


@dataclass(frozen=True)
class StageFacts:
    age: Age
    pregnancy: Pregnancy | None
    visit_date: date

    def days_since_delivery(self) -> int | None:
        pregnancy = self.pregnancy
        if pregnancy is None or pregnancy.delivery_date is None:
            return None
        return (self.visit_date - pregnancy.delivery_date).days

    def pregnancy_status_is(self, status: str) -> bool:
        return self.pregnancy is not None and self.pregnancy.status == status


def _in_nifas(facts: StageFacts) -> bool:
    # A nifas status past day 42 is not an error; the stage simply no longer applies (§11).
    days = facts.days_since_delivery()
    return facts.pregnancy_status_is("nifas") and (days is None or days <= NIFAS_DAYS)


STAGE_RULES: tuple[tuple[str, Callable[[StageFacts], bool]], ...] = (
    ("bayi-baru-lahir", lambda f: f.age.days <= 28),
    ("bayi", lambda f: f.age.months <= 11),
    ("balita", lambda f: f.age.months <= 59),
    ("anak-prasekolah", lambda f: 60 <= f.age.months < 84),
    ("anak-usia-sekolah", lambda f: 6 <= f.age.years < 18),
    ("remaja", lambda f: 10 <= f.age.years < 18),
    ("dewasa", lambda f: 18 <= f.age.years <= 59),
    ("lansia", lambda f: f.age.years >= 60),
    ("ibu-hamil", lambda f: f.pregnancy_status_is("hamil")),
    ("ibu-bersalin", lambda f: f.pregnancy_status_is("bersalin")),
    ("ibu-nifas", _in_nifas),
)


def life_cycle_stages(age: Age, pregnancy: Pregnancy | None, visit_date: date) -> tuple[str, ...]:
    """Stage codes in §2 order. The caller has already refused a pregnancy on a male."""
    facts = StageFacts(age, pregnancy, visit_date)
    return tuple(code for code, applies in STAGE_RULES if applies(facts))
