"""A patient's klaster and pregnancy episodes (EpisodeOfCare), kept by each evaluated visit.

One active episode per (patient, puskesmas, klaster 2–4) and one per pregnancy. Each visit first closes what has
ended by its day (the closing rules of ilp/episodes.py: a pregnancy 42 days after delivery, a child's klaster-2
episode at 18, any episode after 12 months without a visit), then opens what the evaluation calls for and is not
open. ANC and nifas visits count against the open pregnancy: the visit's K number is the count of the
pregnancy's earlier visits plus one. A closure that presumes a delivery nobody recorded is tagged
``persalinan-tidak-tercatat`` (data-quality) for someone to check.

Episodes whose rules run on elapsed time alone (a 12-month idle, an 18th birthday) close at the patient's next
visit or with ``ilp episodes close`` (a sweep of every active episode, meant for a daily job).
"""

from collections.abc import Callable, Iterator
from datetime import date

from ilp_api.fhir.json import without_meta
from ilp_api.fhir.pipeline import Pipeline
from ilp_api.fhir.registry import Json, Ref, parse_reference
from ilp_api.fhir.service import new_id
from ilp_api.ilp.episodes import Closure, EpisodeFacts, EpisodeKind, closure
from ilp_api.ilp.evaluate import Evaluation
from ilp_api.ilp.klaster import R3
from ilp_api.resources.patient import data_quality_system
from ilp_api.screening.derivation import code_system, rule_extension_url
from ilp_api.screening.records import PAGE, UnitRecords

EPISODE_KLASTER = (2, 3, 4)  # klaster 5 (lintas) is recorded on the Encounter only
PREGNANCY = "kehamilan"
PREGNANT_STAGE = "ibu-hamil"
MATERNAL_STAGES = frozenset({"ibu-hamil", "ibu-bersalin", "ibu-nifas"})
DELIVERY_DATE = "93857-1"
EDD = "11778-8"
DELIVERY_NOT_RECORDED = "persalinan-tidak-tercatat"


def klaster_system(canonical_base: str) -> str:
    return code_system(canonical_base, "klaster")


def role_extension_url(canonical_base: str) -> str:
    return f"{canonical_base}/StructureDefinition/klaster-role"


def close_every_ended_episode(
    pipeline: Pipeline, today: date, progress: Callable[[int, int], None] | None = None
) -> int:
    """The sweep: every active episode closed whose rule says so by ``today``, a page per transaction. Returns how
    many were closed; ``progress`` hears (examined, closed) after each page."""
    examined = closed = still_active = 0
    while True:
        with pipeline.unit_of_work(None, write=True) as unit:
            records = UnitRecords(unit)
            page = records.search(
                "EpisodeOfCare", ("status", "active"), ("_sort", "_id"), ("_offset", str(still_active))
            )
            for episode in page:
                patient = records.read(episode["patient"])
                if patient is not None and PatientEpisodes(records, patient).close_if_ended(episode, today):
                    closed += 1
                else:
                    still_active += 1
        examined += len(page)
        if progress is not None:
            progress(examined, closed)
        if len(page) < PAGE:
            return closed


class PatientEpisodes:
    """One patient's episodes in one unit of work. Their active episodes are read once, and kept as this object
    closes and opens them: a visit asks about them several times (to close, to count ANC visits, to keep)."""

    def __init__(self, records: UnitRecords, patient: Json) -> None:
        self.records = records
        self.patient = patient
        self.base = records.base
        self._active: list[Json] | None = None

    def active(self, code: str | None = None, organization: str | None = None) -> list[Json]:
        """The active episodes, of the klaster CodeSystem's ``code`` and managed by ``organization`` if given."""
        system = klaster_system(self.base)
        return [
            episode
            for episode in self._loaded()
            if (code is None or any(c.get("system") == system and c.get("code") == code for c in _codings(episode)))
            and (organization is None or _managed_by(episode) == Ref("Organization", organization))
        ]

    def _loaded(self) -> list[Json]:
        if self._active is None:
            self._active = self.records.search(
                "EpisodeOfCare", ("patient", f"Patient/{self.patient['id']}"), ("status", "active")
            )
        return self._active

    def visit_days(self, episode: Json, before: date) -> list[date]:
        encounters = self.records.search(
            "Encounter", ("episode-of-care", f"EpisodeOfCare/{episode['id']}"), ("date", f"lt{before.isoformat()}")
        )
        return sorted(date.fromisoformat(e["period"]["start"][:10]) for e in encounters)

    def anc_visit_number(self, day: date) -> int | None:
        """The K number of a pregnant woman's visit on ``day``: her open pregnancy's earlier visits, plus one."""
        pregnancies = self.active(PREGNANCY)
        return len(self.visit_days(pregnancies[0], day)) + 1 if pregnancies else None

    # ---- closing ----

    def close_ended(self, day: date) -> None:
        for episode in self.active():
            self.close_if_ended(episode, day)

    def close_if_ended(self, episode: Json, day: date) -> bool:
        ended = closure(self.facts(episode, day), day)
        if ended is not None:
            self.records.store("EpisodeOfCare", self.closed(episode, ended), create=False)
            if self._active is not None:
                self._active = [kept for kept in self._active if kept["id"] != episode["id"]]
        return ended is not None

    def facts(self, episode: Json, day: date) -> EpisodeFacts:
        started = date.fromisoformat(episode["period"]["start"][:10])
        visits = self.visit_days(episode, day)
        kind = self.kind(episode)
        return EpisodeFacts(
            kind=kind,
            started=started,
            birth_date=date.fromisoformat(self.patient["birthDate"]),
            last_visit=visits[-1] if visits else None,
            delivery=self.latest_date(DELIVERY_DATE, started) if kind == PREGNANCY else None,
            edd=self.latest_date(EDD, started) if kind == PREGNANCY else None,
        )

    def kind(self, episode: Json) -> EpisodeKind:
        codes = {c.get("code") for c in _codings(episode)}
        rules = {
            e.get("valueString") for e in episode.get("extension", []) if e["url"] == rule_extension_url(self.base)
        }
        if PREGNANCY in codes:
            return "kehamilan"
        return "siklus-hidup" if "klaster-2" in codes and R3.id in rules else "lainnya"

    def latest_date(self, code: str, since: date) -> date | None:
        """The latest date an Observation of the patient with this LOINC code gives, recorded since ``since``."""
        observations = self.records.search(
            "Observation",
            ("patient", f"Patient/{self.patient['id']}"),
            ("code", f"http://loinc.org|{code}"),
            ("date", f"ge{since.isoformat()}"),
        )
        days = [date.fromisoformat(o["valueDateTime"][:10]) for o in observations if "valueDateTime" in o]
        return max(days, default=None)

    def closed(self, episode: Json, ended: Closure) -> Json:
        extension = [
            *episode.get("extension", []),
            {"url": rule_extension_url(self.base), "valueString": ended.rule.id},
        ]
        tags = episode.get("meta", {}).get("tag", [])
        if ended.flagged:
            tags = [*tags, {"system": data_quality_system(self.base), "code": DELIVERY_NOT_RECORDED}]
        closed = without_meta(episode)
        return {
            **closed,
            **({"meta": {"tag": tags}} if tags else {}),
            "extension": extension,
            "status": "finished",
            "period": {**episode["period"], "end": ended.on.isoformat()},
        }

    # ---- opening ----

    def keep(self, evaluation: Evaluation, started: str, puskesmas: str) -> list[str]:
        """The ids of the episodes this visit belongs to: the active episode of each klaster 2–4 serving the patient
        at this puskesmas and, for a pregnant, delivering or nifas woman, her pregnancy; opened when missing (a
        pregnancy is opened only while she is pregnant)."""
        ids = [self.keep_one(code, role, rules, started, puskesmas) for code, role, rules in self.wanted(evaluation)]
        if MATERNAL_STAGES & set(evaluation.stages) and PREGNANT_STAGE not in evaluation.stages:
            ids += [pregnancy["id"] for pregnancy in self.active(PREGNANCY)]  # a delivery or nifas visit counts on it
        return ids

    def wanted(self, evaluation: Evaluation) -> Iterator[tuple[str, str | None, tuple[str, ...]]]:
        for entry in evaluation.klaster:
            if entry.klaster in EPISODE_KLASTER:
                yield f"klaster-{entry.klaster}", entry.role, tuple(rule.id for rule in entry.rules)
        if PREGNANT_STAGE in evaluation.stages:
            found_by = [entry for entry in evaluation.klaster if PREGNANCY in entry.reasons]
            yield PREGNANCY, None, tuple(rule.id for entry in found_by for rule in entry.rules)

    def keep_one(self, code: str, role: str | None, rules: tuple[str, ...], started: str, puskesmas: str) -> str:
        found = self.active(code, None if code == PREGNANCY else puskesmas)
        if found:
            return str(found[0]["id"])
        episode = {
            "resourceType": "EpisodeOfCare",
            "id": new_id(),
            "extension": [
                *([{"url": role_extension_url(self.base), "valueCode": role}] if role else []),
                *({"url": rule_extension_url(self.base), "valueString": rule} for rule in rules),
            ],
            "status": "active",
            "type": [{"coding": [{"system": klaster_system(self.base), "code": code}]}],
            "patient": {"reference": f"Patient/{self.patient['id']}"},
            "managingOrganization": {"reference": f"Organization/{puskesmas}"},
            "period": {"start": started},
        }
        self.records.store("EpisodeOfCare", episode, create=True)
        self._loaded().append(episode)
        return str(episode["id"])


def _codings(episode: Json) -> Iterator[Json]:
    return (coding for concept in episode.get("type", []) for coding in concept.get("coding", []))


def _managed_by(episode: Json) -> Ref | None:
    return parse_reference(episode.get("managingOrganization", {}).get("reference", ""))
