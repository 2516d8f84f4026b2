"""Follow-up worklists: who among an organization's residents is due or overdue, and why.

Computed when asked, from what is stored and today's date: nothing is precomputed, so an item that depends only
on elapsed time (a follow-up falling due, a pregnant woman's next K visit, a referral left unanswered, a new year
without screening) appears on the day it becomes due, without any write. The unit of work given is scoped to the
organization the list is for, so "its residents" are the ones it sees, and the list holds nothing it may not.

Items, each with the rule that makes it:
- ``tindak-lanjut``: an open follow-up Task (KPSP re-test, BP monitoring, glucose re-check …), due on its date.
- ``rujukan-belum-dijawab``: a referral still ``requested`` after ``referral_answer_days``.
- ``kunjungan-anc``: a pregnant woman whose next K visit is due (``anc_interval_days`` after her last).
- ``skrining-tahunan``: a resident not seen this calendar year.
- ``imunisasi/<dose>``: a child under 24 months missing a dose of the schedule that is due (drop-out follow-up,
  DOFU), from the day it fell due: its month of age reached and its interval after the dose before passed.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from ilp_api.fhir.datatypes import parse_date
from ilp_api.fhir.registry import Json
from ilp_api.ilp.age import add_months
from ilp_api.ilp.screening_packages import BADUTA_MONTHS, IMMUNISATION_RULE, doses_due
from ilp_api.resources.patient import residence
from ilp_api.resources.task_workflow import WAITING
from ilp_api.resources.vaccines import DOSE_DISPLAY
from ilp_api.screening.derivation import TASK_CODE, code_system
from ilp_api.screening.episodes import PREGNANCY, klaster_system
from ilp_api.screening.immunizations import counted_immunizations, doses_given
from ilp_api.screening.records import UnitRecords

OPEN_TASK = ",".join(WAITING)
FOLLOW_UP = "worklist-tindak-lanjut"
UNANSWERED = "worklist-rujukan-belum-dijawab"
ANC_DUE = "worklist-kunjungan-anc"
YEARLY_SCREENING = "worklist-skrining-tahunan"


@dataclass(frozen=True)
class WorklistSettings:
    referral_answer_days: int = 7
    anc_interval_days: int = 30


@dataclass(frozen=True)
class WorkItem:
    patient_id: str
    item: str  # what is due, one of the items above: tindak-lanjut/<code>, kunjungan-anc, imunisasi/<dose> …
    reason: str
    since: date  # when it arose
    due: date
    rule: str
    source: str | None  # the resource that holds it (Task/…, EpisodeOfCare/…), if any
    patient_name: str = ""
    rw: str | None = None

    def overdue(self, today: date) -> bool:
        return self.due < today


def worklist(records: UnitRecords, today: date, settings: WorklistSettings, rw: str | None = None) -> list[WorkItem]:
    """Every item of the residents the unit sees (of one RW, if given), the longest due first, each with the
    resident's name and RW so that an app can show it as it is."""
    residents = {p["id"]: p for p in records.search_all("Patient", *([("rw", rw)] if rw else []))}
    items = [
        *follow_ups(records),
        *unanswered_referrals(records, today, settings.referral_answer_days),
        *anc_visits_due(records, today, settings.anc_interval_days),
        *not_screened_this_year(records, today, set(residents)),
        *immunizations_due(records, today, residents),
    ]
    return sorted(
        (
            replace(item, patient_name=display_name(residents[item.patient_id]), rw=home_rw(residents[item.patient_id]))
            for item in items
            if item.patient_id in residents
        ),
        key=lambda item: (item.due, item.patient_id, item.item),
    )


def display_name(patient: Json) -> str:
    name = (patient.get("name") or [{}])[0]
    return str(name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip())


def home_rw(patient: Json) -> str | None:
    return residence(patient.get("address", [])).get("rw")


def _patient_id(reference: Json | None) -> str:
    return str((reference or {}).get("reference", "")).removeprefix("Patient/")


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def follow_ups(records: UnitRecords) -> Iterator[WorkItem]:
    follow_up_codes = code_system(records.base, "tindak-lanjut")
    for task in records.search_all("Task", ("status", OPEN_TASK), ("code", f"{follow_up_codes}|")):
        code = task["code"]["coding"][0]["code"]
        since = _day(task["authoredOn"])
        yield WorkItem(
            patient_id=_patient_id(task.get("for")),
            item=f"tindak-lanjut/{code}",
            reason=f"Tindak lanjut {code} sejak {since.isoformat()}",
            since=since,
            due=_day(task.get("restriction", {}).get("period", {}).get("end", task["authoredOn"])),
            rule=FOLLOW_UP,
            source=f"Task/{task['id']}",
        )


def unanswered_referrals(records: UnitRecords, today: date, answer_days: int) -> Iterator[WorkItem]:
    waited_since = today - timedelta(days=answer_days)
    for task in records.search_all(
        "Task", ("status", "requested"), ("code", f"{TASK_CODE}|fulfill"), ("authored-on", f"lt{waited_since}")
    ):
        since = _day(task["authoredOn"])
        owner = task.get("owner", {}).get("reference", "the facility referred to")
        yield WorkItem(
            patient_id=_patient_id(task.get("for")),
            item="rujukan-belum-dijawab",
            reason=f"Rujukan ke {owner} belum dijawab sejak {since.isoformat()}",
            since=since,
            due=since + timedelta(days=answer_days),
            rule=UNANSWERED,
            source=f"Task/{task['id']}",
        )


def anc_visits_due(records: UnitRecords, today: date, interval_days: int) -> Iterator[WorkItem]:
    for pregnancy in records.search_all(
        "EpisodeOfCare", ("status", "active"), ("type", f"{klaster_system(records.base)}|{PREGNANCY}")
    ):
        visits = records.search(
            "Encounter", ("episode-of-care", f"EpisodeOfCare/{pregnancy['id']}"), ("_sort", "-date"), ("_count", "1")
        )
        last = _day(visits[0]["period"]["start"]) if visits else _day(pregnancy["period"]["start"])
        due = last + timedelta(days=interval_days)
        if due <= today:
            yield WorkItem(
                patient_id=_patient_id(pregnancy.get("patient")),
                item="kunjungan-anc",
                reason=f"Kunjungan kehamilan berikutnya jatuh tempo {due.isoformat()} (terakhir {last.isoformat()})",
                since=last,
                due=due,
                rule=ANC_DUE,
                source=f"EpisodeOfCare/{pregnancy['id']}",
            )


def not_screened_this_year(records: UnitRecords, today: date, residents: set[str]) -> Iterator[WorkItem]:
    new_year = date(today.year, 1, 1)
    visits = records.search_all("Encounter", ("date", f"ge{new_year.isoformat()}"))
    seen = {_patient_id(visit.get("subject")) for visit in visits}
    for patient_id in sorted(residents - seen):
        yield WorkItem(
            patient_id=patient_id,
            item="skrining-tahunan",
            reason=f"Belum skrining tahun {today.year}",
            since=new_year,
            due=new_year,
            rule=YEARLY_SCREENING,
            source=None,
        )


def immunizations_due(records: UnitRecords, today: date, residents: Mapping[str, Json]) -> Iterator[WorkItem]:
    """Each resident under 24 months, the doses due today and not given (profile §4.4), from the day each fell due."""
    births = {
        patient_id: born
        for patient_id, patient in residents.items()
        if (born := parse_date(patient.get("birthDate", ""))) and born <= today < add_months(born, BADUTA_MONTHS)
    }
    if not births:
        return
    recorded: dict[str, list[Json]] = {}
    for immunization in counted_immunizations(records, ("date", f"ge{min(births.values())}"), ("date", f"le{today}")):
        recorded.setdefault(_patient_id(immunization.get("patient")), []).append(immunization)
    for patient_id, born in sorted(births.items()):
        given = doses_given(recorded.get(patient_id, []), records.base, until=today)
        for dose in doses_due(born, today, given):
            yield WorkItem(
                patient_id=patient_id,
                item=f"imunisasi/{dose.code}",
                reason=f"Imunisasi {DOSE_DISPLAY[dose.code]} belum diberikan, jatuh tempo sejak {dose.since}",
                since=dose.since,
                due=dose.since,
                rule=IMMUNISATION_RULE.id,
                source=None,
            )
