"""SATUSEHAT as a destination of the outbox (integrations/outbox/destination.py): a visit delivered as one
transaction Bundle.

``deliver`` is called by the worker with no transaction open. It reads the visit as stored now, in one short
read-only session (so a visit corrected before it went is sent as corrected), then calls out: the patient's IHS
number (known from an earlier delivery, looked up by NIK, or the patient created), the nakes' IHS numbers (a
kader-only visit takes the supervising nakes), the facility's sub-Organization and Location (registered once),
then the Bundle. Resources SATUSEHAT holds already (their ids known from earlier deliveries, or named by a 20002)
are sent as PUTs, so a visit delivered again, or updated, is never stored twice.

Outcomes: ``Delivered`` with every SATUSEHAT id learnt (local type and id → id) and the skipped resources with
their reasons in ``note``; ``RetryLater`` for 408/429/5xx, timeouts and transport errors; ``DeadLetter`` for a
refusal (the OperationOutcome and its RuleNumbers) and for what no retry can mend: the integration off
(``satusehat-off``), no credentials (``no-credentials``), ``no-practitioner-ihs``, ``no-location-position``,
``no-nik``, the visit deleted.
"""

import asyncio
import re
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from ilp_api.db.engine import Database
from ilp_api.fhir.registry import Json
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore, CredentialsUnreadable
from ilp_api.integrations.outbox.destination import (
    DeadLetter,
    Delivered,
    Delivery,
    DeliveryResult,
    RetryLater,
)
from ilp_api.integrations.satusehat.client import (
    Accepted,
    Failure,
    Refused,
    SatusehatClient,
    SatusehatCredential,
    Transient,
)
from ilp_api.integrations.satusehat.config import credential_for, endpoints
from ilp_api.integrations.satusehat.mapping import (
    MappedVisit,
    SatusehatIds,
    Unmappable,
    as_updates,
    map_visit,
    participants,
)
from ilp_api.integrations.satusehat.protocol import NIK, NIK_IBU
from ilp_api.integrations.satusehat.repository import SatusehatRepository, VisitRecord
from ilp_api.resources.organization import facility_type
from ilp_api.settings import Settings

DESTINATION = "satusehat"
ENTRY_INDEX = re.compile(r"Bundle\.entry\[(\d+)\]")


class RemoteIds(Protocol):
    """The outbox's record of the ids a destination returned (``outbox.repository.remote_ids``): local ids of one
    type → the destination's ids, for those it knows."""

    def __call__(
        self, session: Session, destination: str, resource_type: str, resource_ids: Sequence[str]
    ) -> dict[str, str]: ...


class DeliveryFailed(Exception):
    """A step of a delivery failed; ``result`` is what the worker gets."""

    def __init__(self, result: RetryLater | DeadLetter) -> None:
        super().__init__(result.reason)
        self.result = result


def failed(failure: Failure, doing: str) -> DeliveryFailed:
    if isinstance(failure, Transient):
        return DeliveryFailed(RetryLater(f"{doing}: {failure.reason}", failure.retry_after))
    return DeliveryFailed(DeadLetter(f"{doing}: {failure.message}", failure.outcome, failure.rule_numbers))


class SatusehatDestination:
    name = DESTINATION

    def __init__(
        self,
        database: Database,
        service: ResourceService,
        settings: Settings,
        remote_ids: RemoteIds,
        client: SatusehatClient | None = None,
    ) -> None:
        self.database = database
        self.service = service
        self.settings = settings
        self.remote_ids = remote_ids
        self.cipher = CredentialCipher.from_settings(settings)
        found = endpoints(settings)
        self.client = client or (
            SatusehatClient(
                found.auth_url,
                found.fhir_url,
                timeout_seconds=settings.satusehat_timeout_seconds,
                requests_per_minute=settings.satusehat_requests_per_minute,
            )
            if found
            else None
        )

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        if self.client is None:
            return DeadLetter("satusehat-off: ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL are unset")
        if delivery.kind not in ("visit", "update") or delivery.subject_type != "Encounter":
            return DeadLetter(f"unknown delivery: {delivery.kind} of {delivery.subject_type}")
        try:
            # In a thread: a read on the worker's event loop would stall every other delivery of the batch.
            read = await asyncio.to_thread(self._read, delivery.subject_id)
            return await _VisitDelivery(self.client, self.settings.canonical_base, *read).run()
        except DeliveryFailed as failure:
            return failure.result

    def _read(self, encounter_id: str) -> tuple[VisitRecord, SatusehatCredential, dict[str, str]]:
        """The visit, its credential and the SATUSEHAT ids known for it, in one read-only transaction."""
        with self.database.session(write=False) as session:
            record = SatusehatRepository(session, self.service).visit(encounter_id)
            if record is None:
                raise DeliveryFailed(DeadLetter(f"visit-deleted: Encounter/{encounter_id} is no longer stored"))
            provider = str(record.network[0]["id"]) if record.network else None
            if provider is None:
                raise DeliveryFailed(DeadLetter(f"no-service-provider: Encounter/{encounter_id} names no facility"))
            try:
                credential = credential_for(CredentialStore(session, self.cipher), provider, self.settings)
            except CredentialsUnreadable as error:
                raise DeliveryFailed(DeadLetter(f"credentials-unreadable: {error}")) from None
            if credential is None:
                raise DeliveryFailed(
                    DeadLetter(
                        f"no-credentials: no organization at or above Organization/{provider} has SATUSEHAT "
                        "credentials (ilp satusehat credentials set, or ILP_SATUSEHAT_CLIENT_ID/_SECRET/_ORG_ID)"
                    )
                )
            known: dict[str, str] = {}
            local = [record.visit.encounter, record.patient, *record.visit.resources, *record.network]
            local += [record.location] if record.location else []
            by_type: dict[str, list[str]] = {}
            for resource in local:
                by_type.setdefault(resource["resourceType"], []).append(str(resource["id"]))
            for resource_type, ids in by_type.items():
                found = self.remote_ids(session, DESTINATION, resource_type, ids)
                known |= {f"{resource_type}/{local_id}": remote for local_id, remote in found.items()}
        return record, credential, known


class _VisitDelivery:
    """One delivery's calls out, in order; each failure ends it (``DeliveryFailed``)."""

    def __init__(
        self,
        client: SatusehatClient,
        canonical_base: str,
        record: VisitRecord,
        credential: SatusehatCredential,
        known: dict[str, str],
    ) -> None:
        self.client = client
        self.base = canonical_base
        self.record = record
        self.credential = credential
        self.known = dict(known)  # local reference → SATUSEHAT id; grows with what this delivery learns
        self.learnt: dict[str, str] = {}

    def remember(self, local: str, remote: str) -> str:
        if self.known.get(local) != remote:
            self.learnt[local] = remote
        self.known[local] = remote
        return remote

    async def run(self) -> DeliveryResult:
        service_provider = await self.service_provider()
        ids = SatusehatIds(
            organization=self.credential.organization_id,
            service_provider=service_provider,
            location=await self.location(service_provider),
            patient=await self.patient(),
            practitioners=await self.practitioners(),
        )
        mapped = map_visit(self.record.visit, ids, self.base, frozenset(self.known))
        if isinstance(mapped, Unmappable):
            return DeadLetter(mapped.reason)
        return await self.send(mapped)

    # ---- what the Bundle refers to ----

    async def service_provider(self) -> str:
        """The facility's own Organization id when the visit was held at the facility (the puskesmas, or the
        organization that carries the credential's SATUSEHAT id); else the sub-Organization of the posyandu or pustu,
        registered under the facility (and its pustu) once."""
        below: list[Json] = []
        for organization in self.record.network:
            local = f"Organization/{organization['id']}"
            facility = facility_type(organization, self.base) == "puskesmas"
            if self.known.get(local) == self.credential.organization_id:
                break
            if facility or _satusehat_id(organization) == self.credential.organization_id:
                self.remember(local, self.credential.organization_id)  # the facility SATUSEHAT knows
                break
            below.append(organization)
        parent = self.credential.organization_id
        for organization in reversed(below):
            local = f"Organization/{organization['id']}"
            registered = self.known.get(local)
            if registered is None:
                answer = await self.client.register_suborganization(
                    self.credential, str(organization["id"]), str(organization.get("name", "")), parent
                )
                if not isinstance(answer, str):
                    raise failed(answer, f"registering {local} as a sub-Organization")
                registered = self.remember(local, answer)
            parent = registered
        return parent

    async def location(self, managing_organization: str) -> str:
        location = self.record.location
        if location is None:
            provider = self.record.network[0]["id"]
            raise DeliveryFailed(
                DeadLetter(
                    f"no-location-position: SATUSEHAT requires Location.position; store a Location of "
                    f"Organization/{provider} with its longitude and latitude"
                )
            )
        local = f"Location/{location['id']}"
        if local in self.known:
            return self.known[local]
        position = location["position"]
        answer = await self.client.register_location(
            self.credential,
            str(location["id"]),
            str(location.get("name", "")),
            longitude=float(position["longitude"]),
            latitude=float(position["latitude"]),
            managing_organization=managing_organization,
        )
        if not isinstance(answer, str):
            raise failed(answer, f"registering {local}")
        return self.remember(local, answer)

    async def patient(self) -> str:
        patient = self.record.patient
        local = f"Patient/{patient['id']}"
        if local in self.known:
            return self.known[local]
        identifiers = {i.get("system"): i.get("value") for i in patient.get("identifier", []) if i.get("value")}
        nik, newborn = identifiers.get(NIK), False
        if nik is None and identifiers.get(NIK_IBU):
            nik, newborn = identifiers[NIK_IBU], True
        if nik is None:
            raise DeliveryFailed(DeadLetter(f"no-nik: {local} has neither a NIK nor a mother's NIK (nik-ibu)"))
        answer = await self.client.patient_ihs(
            self.credential, str(nik), newborn=newborn, demographics=_demographics(patient)
        )
        if not isinstance(answer, str):
            raise failed(answer, f"the IHS number of {local}")
        return self.remember(local, answer)

    async def practitioners(self) -> tuple[str, ...]:
        found = []
        for participant in self.record.participants:
            if participant.kader:
                continue  # kader have no IHS number
            niks = [i.get("value") for i in participant.practitioner.get("identifier", []) if i.get("system") == NIK]
            if not niks:
                continue
            answer = await self.client.practitioner_ihs(self.credential, str(niks[0]))
            if answer is None:
                continue
            if not isinstance(answer, str):
                raise failed(answer, f"the IHS number of Practitioner/{participant.practitioner['id']}")
            found.append(answer)
        return participants(found, self.record.supervisor_ihs)

    # ---- the Bundle ----

    async def send(self, mapped: MappedVisit) -> DeliveryResult:
        notes: list[str] = []
        for _ in range(len(mapped.sent) + 1):
            bundle = as_updates(mapped.bundle, mapped.sent, self.known)
            answer = await self.client.post_transaction(self.credential, bundle)
            if isinstance(answer, Accepted):
                self.record_answer(mapped.sent, answer)
                return self.delivered(mapped, notes)
            if isinstance(answer, Transient):
                return RetryLater(f"transaction: {answer.reason}", answer.retry_after)
            if not answer.duplicate:
                return DeadLetter(f"transaction refused: {answer.message}", answer.outcome, answer.rule_numbers)
            entry, existing = _duplicate_entry(answer), answer.existing_id
            if entry is None or existing is None or entry >= len(mapped.sent):
                # All or nothing: SATUSEHAT holds the Bundle already (an earlier attempt went through).
                notes.append("duplicate (20002): the visit is in SATUSEHAT already; the existing ids were not named")
                return self.delivered(mapped, notes)
            notes.append(f"duplicate (20002): existing id of {mapped.sent[entry]} resolved, sent as an update")
            self.remember(mapped.sent[entry], existing)
        return DeadLetter("transaction: 20002 on every entry in turn", None, ("20002",))

    def record_answer(self, sent: tuple[str, ...], answer: Accepted) -> None:
        for local, entry in zip(sent, (answer.body or {}).get("entry", []), strict=False):
            location = str(entry.get("response", {}).get("location", ""))
            parts = location.split("/")
            if len(parts) >= 2 and parts[1]:
                self.remember(local, parts[1])

    def delivered(self, mapped: MappedVisit, notes: list[str]) -> Delivered:
        """Accepted: the ids this delivery learnt (the worker records them), and what was skipped and why."""
        skipped = [f"skipped {s.reference}: {s.reason}" for s in mapped.skipped]
        learnt = {(local.split("/")[0], local.split("/")[1]): remote for local, remote in self.learnt.items()}
        return Delivered(remote_ids=learnt, note="; ".join([*notes, *skipped]) or None)


def _duplicate_entry(refused: Refused) -> int | None:
    for issue in (refused.outcome or {}).get("issue", []):
        if "20002" in str(issue.get("details", {}).get("text", "")):
            found = ENTRY_INDEX.search(str(issue["details"]["text"])) or ENTRY_INDEX.search(
                " ".join(issue.get("expression", []))
            )
            return int(found.group(1)) if found else None
    return None


def _satusehat_id(organization: Json) -> str | None:
    """The SATUSEHAT Organization id a facility carries as an identifier (``…/sid/satusehat-id``)."""
    for identifier in organization.get("identifier", []):
        if str(identifier.get("system", "")).endswith("/sid/satusehat-id"):
            return str(identifier.get("value"))
    return None


def _demographics(patient: Json) -> Json:
    """What SATUSEHAT's Patient create needs besides the NIK: a name text (10168), gender and birth date."""
    names = patient.get("name", [])
    name = names[0] if names else {}
    text = name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip()
    found: Json = {"name": [{"use": "official", "text": text}]}
    for element in ("gender", "birthDate"):
        if patient.get(element):
            found[element] = patient[element]
    return found
