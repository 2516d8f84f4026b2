"""Load the demo through the pipeline's ``ResourceService``: every demo resource passes the API's own rules and the
write hooks, so the visits are evaluated as a kader app's would be.

The whole load is one transaction, so an error leaves nothing behind and a second load sees either all of the
demo or none of it. Inside it, the load goes step by step as a client's requests would (``_Loader.step``): the
network, then each visit, then each referral answer, the write hooks seeing each step's writes when it ends, so a
visit is evaluated with the visits before it already stored (the weight trend reads the earlier weighings) and none
after it. The dinkes is created first with If-None-Exist on its demo identifier: when it already exists the demo is
already loaded and nothing else is written.

``create_demo_credentials`` then registers one API client each for a dinkes, a puskesmas and a posyandu, on
every run: their secrets are stored only as hashes, so a second run cannot print the first run's secrets and
replaces those clients instead, and the operator always leaves with working credentials.
"""

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any

import orjson

from ilp_api.db.engine import Database
from ilp_api.demo.generate import (
    DEFAULT_RESIDENTS,
    DEFAULT_SEED,
    PLACEHOLDER,
    DemoNetwork,
    DemoResource,
    demo_identifier_system,
    generate_network,
)
from ilp_api.demo.visits import WIB, DemoVisit, ReferralAnswer, generate_visits
from ilp_api.fhir.json import without_meta
from ilp_api.fhir.pipeline import Pipeline
from ilp_api.fhir.registry import Json, registry
from ilp_api.fhir.service import ResourceService
from ilp_api.fhir.unit_of_work import Change, UnitOfWork
from ilp_api.screening.derivation import INTERPRETATION, TASK_CODE, code_system
from ilp_api.screening.records import UnitRecords
from ilp_api.security.clients import create_demo_clients
from ilp_api.settings import Settings
from ilp_api.wiring import build_pipeline, load_definitions

Progress = Callable[[str, int, int], None]
"""Called after each resident and each visit is stored, with ("residents" or "visits", how many are stored, how
many to store)."""

# The way a referral's Task goes once the facility referred to answers it: status, and businessStatus.
REFERRAL_ANSWER_STEPS = (
    ("received", "diterima"),
    ("accepted", "diterima"),
    ("in-progress", "diterima"),
    ("completed", "selesai"),
)
ANSWERED_AT = time(10, 0)  # the puskesmas answers in the morning


@dataclass
class VisitTally:
    """What the demo's visits recorded, what their evaluation derived, and how the referrals were answered."""

    visits: Counter[str] = field(default_factory=Counter)  # life-cycle group → visits
    findings: int = 0  # classifications outside the normal range
    referrals: int = 0
    follow_ups: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # businessStatus → referrals answered so

    def count_derived(self, changes: Sequence[Change]) -> None:
        """What the evaluation of a visit created (the visit's own Observations carry no interpretation)."""
        for change in changes:
            resource = change.after
            if change.interaction != "create" or resource is None:
                continue
            if change.resource_type == "Observation":
                self.findings += _outside_normal(resource)
            elif change.resource_type == "ServiceRequest":
                self.referrals += 1
            elif change.resource_type == "Task" and resource.get("intent") == "plan":
                self.follow_ups += 1


@dataclass(frozen=True)
class LoadReport:
    network: DemoNetwork
    visits: tuple[DemoVisit, ...]
    already_loaded: bool
    dinkes_id: str
    # generator key → server id: for what this load created or, when the demo was already loaded, for the
    # demo Organizations found by their demo identifier (facility keys do not depend on the seed).
    ids: dict[str, str]
    created: Counter[str]  # resource type → how many this load created, the write hooks' included
    tally: VisitTally

    def facilities(self, kind: str) -> list[tuple[str, str]]:
        """(name, server id) of the demo Organizations of one facility type, in network order."""
        return [
            (r.body["name"], self.ids[r.key])
            for r in self.network.of_type("Organization")
            if r.kind == kind and r.key in self.ids
        ]

    def resident_groups(self) -> list[tuple[str, int]]:
        """(life-cycle group, residents), largest group first."""
        return Counter(r.kind for r in self.network.of_type("Patient")).most_common()

    def client_organizations(self) -> dict[str, str]:
        """label → Organization id of the demo clients: the dinkes, the first posyandu and its puskesmas.

        The puskesmas is the posyandu's own, so the posyandu's residents are visible to all three clients.
        """
        organizations = {r.key: r for r in self.network.of_type("Organization")}
        chosen: dict[str, str] = {}
        posyandu = next((r for r in organizations.values() if r.kind == "posyandu" and r.key in self.ids), None)
        if posyandu is not None:
            chosen["posyandu"] = posyandu.key
            ancestor = posyandu
            while ancestor.kind != "puskesmas" and "partOf" in ancestor.body:
                ancestor = organizations[ancestor.body["partOf"]["reference"].removeprefix(PLACEHOLDER)]
            if ancestor.kind == "puskesmas" and ancestor.key in self.ids:
                chosen["puskesmas"] = ancestor.key
        if self.network.dinkes_key in self.ids:
            chosen["dinkes"] = self.network.dinkes_key
        return {label: self.ids[chosen[label]] for label in ("dinkes", "puskesmas", "posyandu") if label in chosen}


@dataclass(frozen=True)
class DemoCredential:
    """A demo API client, with the only copy of its secret."""

    label: str  # dinkes, puskesmas or posyandu
    organization_id: str
    client_id: str
    client_secret: str
    scope: str


def load_demo(
    database: Database,
    settings: Settings,
    *,
    residents: int = DEFAULT_RESIDENTS,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> LoadReport:
    load_definitions()  # the write hooks too: the visits are evaluated as they are stored
    pipeline = build_pipeline(database, registry, settings)
    with pipeline.unit_of_work(None, write=True) as transaction:
        today, base = transaction.rules.today, settings.canonical_base
        network = generate_network(canonical_base=base, today=today, residents=residents, seed=seed)
        visits = generate_visits(network, canonical_base=base, today=today, seed=seed)
        return _Loader(pipeline, transaction, progress).load(network, visits)


class _Loader:
    def __init__(self, pipeline: Pipeline, transaction: UnitOfWork, progress: Progress | None) -> None:
        self.pipeline = pipeline
        self.service: ResourceService = pipeline.service
        self.transaction = transaction
        self.progress = progress or (lambda what, done, total: None)
        self.ids: dict[str, str] = {}
        self.references: dict[str, str] = {}  # generator key → "Type/<server id>"
        self.created: Counter[str] = Counter()
        self.tally = VisitTally()

    @contextmanager
    def step(self) -> Iterator[UnitOfWork]:
        """A unit of work of its own inside the load's transaction, as one client request would be: the write hooks
        see its changes when it ends. An error still rolls back the whole load."""
        step = replace(self.transaction, changes=[], accesses=[])
        yield step
        self.pipeline.hooks.run(step)
        self.created.update(change.resource_type for change in step.changes if change.interaction == "create")

    def load(self, network: DemoNetwork, visits: tuple[DemoVisit, ...]) -> LoadReport:
        residents, stored_residents = len(network.of_type("Patient")), 0
        with self.step() as step:
            for resource in network.resources:
                condition = None
                if resource.key == network.dinkes_key:
                    condition = f"identifier={demo_identifier_system(self.service.canonical_base)}|{resource.key}"
                if not self.create(step, resource, condition):
                    dinkes_id = self.references[resource.key].partition("/")[2]
                    ids = _existing_organizations(self.service, step, network)
                    return LoadReport(network, visits, True, dinkes_id, ids, Counter(), VisitTally())
                if resource.resource_type == "Patient":
                    stored_residents += 1
                    self.progress("residents", stored_residents, residents)
        puskesmas = {self.references[r.key] for r in network.of_type("Organization") if r.kind == "puskesmas"}
        for number, visit in enumerate(visits, start=1):
            self.record(visit, puskesmas)
            self.progress("visits", number, len(visits))
        return LoadReport(network, visits, False, self.ids[network.dinkes_key], self.ids, self.created, self.tally)

    def create(self, unit: UnitOfWork, resource: DemoResource, if_none_exist: str | None = None) -> bool:
        """Stores ``resource`` with its placeholders resolved; False when If-None-Exist found it stored already."""
        definition = registry.get(resource.resource_type)
        if definition is None:  # the generator only makes registered types; load_definitions() registered them
            raise LookupError(f"{resource.resource_type} is not a registered resource type")
        body = orjson.dumps(_resolve(resource.body, self.references))
        result = self.service.create(unit, definition, body, if_none_exist)
        self.references[resource.key] = f"{resource.resource_type}/{result.stored.id}"
        if result.created:
            self.ids[resource.key] = result.stored.id
        return result.created

    def record(self, visit: DemoVisit, puskesmas: set[str]) -> None:
        """The visit as one step, as a kader app sends it; then, as another, the answers to the referrals it leads to
        that a puskesmas (``puskesmas``: their references) owns."""
        with self.step() as step:
            for resource in visit.resources:
                self.create(step, resource)
        self.tally.visits[visit.stage] += 1
        self.tally.count_derived(step.changes)
        if visit.referral_answer is None:
            return
        with self.step() as step:
            records = UnitRecords(step)
            encounter = self.references[visit.key]
            for task in records.search("Task", ("encounter", encounter), ("code", f"{TASK_CODE}|fulfill")):
                if task.get("owner", {}).get("reference") in puskesmas:
                    answer_referral(records, task, visit.referral_answer)
                    self.tally.answers[visit.referral_answer.business_status] += 1


def answer_referral(records: UnitRecords, task: Json, answer: ReferralAnswer) -> None:
    """The puskesmas answers a referral as its app would: the Task is received and accepted (diterima) and, when
    the referral is done, goes on through in-progress to completed (selesai), one update per transition.

    The one place the demo writes an answer, so that it can go through a Task state machine when there is one.
    """
    last = "accepted" if answer.business_status == "diterima" else "completed"
    business_statuses = code_system(records.base, "status-rujukan")
    for status, business_status in REFERRAL_ANSWER_STEPS:
        task = {
            **without_meta(task),
            "status": status,
            "businessStatus": {"coding": [{"system": business_statuses, "code": business_status}]},
            "lastModified": datetime.combine(answer.day, ANSWERED_AT, WIB).isoformat(),
        }
        records.store("Task", task, create=False)
        if status == last:
            return


def _existing_organizations(service: ResourceService, unit: UnitOfWork, network: DemoNetwork) -> dict[str, str]:
    """generator key → server id of the demo Organizations already stored (one deleted since is left out)."""
    definition = registry.get("Organization")
    assert definition is not None  # load_resources() registered it
    system = demo_identifier_system(service.canonical_base)
    ids = {}
    for organization in network.of_type("Organization"):
        page, _, _ = service.search(unit.repository, definition, [("identifier", f"{system}|{organization.key}")])
        if page.matches:
            ids[organization.key] = page.matches[0].id
    return ids


def create_demo_credentials(database: Database, report: LoadReport) -> list[DemoCredential]:
    """Registers (or replaces) the demo clients of ``report.client_organizations()``; their secrets, once."""
    with database.session(write=True) as session:
        created = create_demo_clients(session, report.client_organizations())
    return [
        DemoCredential(c["label"], c["organization_id"], c["client_id"], c["client_secret"], c["scope"])
        for c in created
    ]


def _resolve(value: Any, references: dict[str, str]) -> Any:
    """A copy of ``value`` with each placeholder reference replaced by the stored resource's reference."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith(PLACEHOLDER):
            return {**value, "reference": references[reference.removeprefix(PLACEHOLDER)]}
        return {key: _resolve(item, references) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, references) for item in value]
    return value


def _outside_normal(observation: Json) -> bool:
    """Whether a classification's HL7 v3 interpretation is anything but N (normal)."""
    codings = [c for concept in observation.get("interpretation", []) for c in concept.get("coding", [])]
    return any(c.get("system") == INTERPRETATION and c.get("code") != "N" for c in codings)
