"""The write hook that queues visits for SATUSEHAT, in the transaction that stores them (the outbox, issue 10).

A visit whose Encounter is stored (created, or updated into a status that took place) queues a ``visit``
delivery; a later change of the visit (its Encounter, or a resource of it of a type that is sent, written by a
client: a measurement added or corrected, a dose recorded, a referral answered) queues an ``update``, which sends
the visit as it then stands, each resource SATUSEHAT already holds as a PUT. Deliveries of one patient go in order
(ordering key ``Patient/<id>``), so an update never overtakes the visit it corrects. What the visit's evaluation
derives is read when the visit is sent, not queued on its own.

The hook is installed by the shell with the outbox's ``enqueue`` (integrations/outbox/repository.py) and only
when SATUSEHAT is configured (integrations/satusehat/config.py): with the integration off nothing is queued.
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from ilp_api.fhir.hooks import WriteHook, write_hooks
from ilp_api.fhir.registry import Json, Ref, parse_reference
from ilp_api.fhir.unit_of_work import Change, UnitOfWork
from ilp_api.integrations.satusehat.config import endpoints
from ilp_api.integrations.satusehat.destination import DESTINATION
from ilp_api.integrations.satusehat.mapping import SENT_ENCOUNTER_STATUSES, SENT_TYPES
from ilp_api.settings import Settings

PATIENT_ELEMENTS = ("subject", "patient", "for")  # where a visit's resource names its patient


class Enqueue(Protocol):
    """``outbox.repository.enqueue``: one pending item in the caller's transaction."""

    def __call__(
        self,
        session: Session,
        *,
        destination: str,
        ordering_key: str,
        kind: str,
        subject_type: str,
        subject_id: str,
        payload: Json | None = None,
    ) -> None: ...


def visit_deliveries(changes: Sequence[Change]) -> list[tuple[str, str, str]]:
    """(kind, Encounter id, Patient id) of each visit these changes call to deliver, each visit once: ``visit``
    when its Encounter is stored as a visit that took place for the first time, else ``update``."""
    found: dict[str, tuple[str, str]] = {}
    for change in changes:
        if change.resource_type == "Encounter":
            after, before = change.after, change.before
            if after is None or after.get("status") not in SENT_ENCOUNTER_STATUSES:
                continue  # SATUSEHAT has no delete; a visit not (or no longer) held is not sent
            first = before is None or before.get("status") not in SENT_ENCOUNTER_STATUSES
            patient = _patient(after)
            if patient is not None:
                kind = "visit" if first else "update"
                if found.get(change.id, ("update",))[0] != "visit":
                    found[change.id] = (kind, patient)
        elif change.resource_type in SENT_TYPES:
            resource = change.after or change.before
            assert resource is not None
            visit = parse_reference(resource.get("encounter", {}).get("reference", ""))
            patient = _patient(resource)
            if visit is not None and visit.type == "Encounter" and patient is not None and visit.id not in found:
                found[visit.id] = ("update", patient)
    return [(kind, encounter_id, patient) for encounter_id, (kind, patient) in sorted(found.items())]


def _patient(resource: Json) -> str | None:
    for element in PATIENT_ELEMENTS:
        reference = parse_reference(resource.get(element, {}).get("reference", ""))
        if reference is not None and reference.type == "Patient":
            return reference.id
    return None


_installed: list[WriteHook] = []  # at most one: write hooks are per process, and apps are built more than once


def install_satusehat_hook(enqueue: Enqueue, settings: Settings) -> WriteHook | None:
    """Registers the hook when SATUSEHAT is configured, replacing one installed before; returns it (None when the
    integration is off)."""
    while _installed:
        write_hooks.remove(_installed.pop())
    if endpoints(settings) is None:
        return None

    def queue_visits_for_satusehat(changes: Sequence[Change], unit: UnitOfWork) -> None:
        rules = unit.unscoped().rules
        for kind, encounter_id, patient_id in visit_deliveries(changes):
            encounter = rules.read(Ref("Encounter", encounter_id))
            if encounter is None or encounter.get("status") not in SENT_ENCOUNTER_STATUSES:
                continue  # a resource of a visit that has not taken place (planned, cancelled): nothing to send
            enqueue(
                unit.repository.session,
                destination=DESTINATION,
                ordering_key=f"Patient/{patient_id}",
                kind=kind,
                subject_type="Encounter",
                subject_id=encounter_id,
            )

    _installed.append(write_hooks.add(queue_visits_for_satusehat))
    return queue_visits_for_satusehat
