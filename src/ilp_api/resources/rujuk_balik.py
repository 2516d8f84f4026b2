"""``POST /fhir/Task/{id}/$rujuk-balik``: the facility a resident was referred to sends them back with instructions.

Profile §7: when the referral hospital returns the patient with instructions, the referral's status becomes
``rujuk-balik``; this is a linked record, and it never closes the referral silently. So, in one transaction, the
operation

- creates the back-referral: a ServiceRequest (``code`` ``rujuk-balik`` of the project's ``ilp-tindakan``
  CodeSystem, ``note`` the instructions, ``basedOn`` the original ServiceRequest) from the referral's owner to its
  requester, and its Task (``partOf`` the referral's Task, ``requested``), which the sending facility then takes
  up as any referral addressed to it;
- sets the referral's ``businessStatus`` to ``rujuk-balik`` and leaves its ``status`` as it was: the owner still
  completes it (or has done so);
- when the caller is the sending puskesmas answering for a referral hospital that is no API client, records the
  ``Provenance`` of all three (``who`` the caller, ``onBehalfOf`` the hospital), as resources/task_workflow.py asks
  of every move made on a hospital's behalf.

The referral must have been received (received, accepted, ready, in-progress, on-hold or completed) and not be
answered yet; the Task rules check the caller is its owner's side (or answers on a hospital's behalf). The
answer is the back-referral's Task. Plain writes may do the same in a transaction Bundle; this is the short way.
"""

from datetime import UTC, datetime

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.json import without_meta
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.outcome import Conflict, Unprocessable
from ilp_api.fhir.providers import Answer, Operation, OperationCall, OperationLevel, OperationParameter, providers
from ilp_api.fhir.registry import Json, Ref, WriteContext, parse_reference
from ilp_api.fhir.service import ResourceService, parse_body
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.resources.pindah_masuk import PARAMETERS
from ilp_api.resources.provenance import PROVENANCE
from ilp_api.resources.service_request import SERVICE_REQUEST
from ilp_api.resources.task import TASK
from ilp_api.resources.task_workflow import (
    ANSWERABLE,
    RUJUK_BALIK,
    is_referral,
    on_hospitals_behalf,
    referral_status,
    referral_status_system,
)

OPERATION = "$rujuk-balik"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def answer_with_rujuk_balik(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Answer:
    assert call.resource_id is not None  # an instance-level operation
    context = unit.rules
    referral = fhir_json.loads(service.read(unit.repository, TASK, call.resource_id).content)
    _check_answerable(context, referral)
    instructions = _instructions(call.body, service.limits)
    answered = {
        **without_meta(referral),
        "businessStatus": {"coding": [{"system": referral_status_system(context.canonical_base), "code": RUJUK_BALIK}]},
    }
    # First the referral, whose rules check the caller may answer it; then what the answer creates.
    version = service.update(unit, TASK, referral["id"], fhir_json.dumps(answered), if_match=None).stored.version_id
    now = datetime.now(UTC).isoformat(timespec="seconds")
    request = service.create(
        unit, SERVICE_REQUEST, fhir_json.dumps(_back_request(context, referral, instructions, now))
    )
    task = service.create(unit, TASK, fhir_json.dumps(_back_task(referral, request.stored.id, now))).stored
    written = [Ref(TASK.type, referral["id"]), Ref(SERVICE_REQUEST.type, request.stored.id), Ref(TASK.type, task.id)]
    if on_hospitals_behalf(context, referral):
        targets = [f"Task/{referral['id']}/_history/{version}", *(f"{ref.type}/{ref.id}" for ref in written[1:])]
        provenance = _provenance(context, referral, targets, now)
        written.append(Ref(PROVENANCE.type, service.create(unit, PROVENANCE, fhir_json.dumps(provenance)).stored.id))
    return Answer(task, entities=tuple(written))


def _check_answerable(context: WriteContext, referral: Json) -> None:
    task = f"Task/{referral['id']}"
    parties = [parse_reference(referral.get(side, {}).get("reference", "")) for side in ("owner", "requester")]
    if not is_referral(referral) or None in parties:
        raise Unprocessable(
            f"{task} is no referral to answer: it needs a ServiceRequest as focus, an owner and a requester",
            expression="Task",
        )
    if referral_status(referral, context.canonical_base) == RUJUK_BALIK:
        raise Conflict(
            f"{task} is answered with rujuk balik already; its back-referral is found by GET /fhir/Task?part-of={task}",
            expression="Task.businessStatus",
        )
    if referral["status"] not in ANSWERABLE:
        raise Conflict(
            f"{task} is {referral['status']}: a referral is answered once its owner has received it "
            f"({', '.join(sorted(ANSWERABLE))})",
            expression="Task.status",
        )


def _instructions(body: bytes, limits: Limits) -> str:
    _, data = parse_body(PARAMETERS, body, limits)
    given = [p for p in data["parameter"] if p["name"] == "instructions" and isinstance(p.get("valueString"), str)]
    unknown = [index for index, p in enumerate(data["parameter"]) if p["name"] != "instructions"]
    if unknown:
        raise Unprocessable(
            f"Unknown parameter '{data['parameter'][unknown[0]]['name']}': {OPERATION} takes instructions",
            expression=f"Parameters.parameter[{unknown[0]}].name",
        )
    if len(given) != 1:
        raise Unprocessable(
            "instructions is required once, as a valueString: what the sending facility is to do",
            expression="Parameters.parameter('instructions')",
        )
    return str(given[0]["valueString"])


def _back_request(context: WriteContext, referral: Json, instructions: str, now: str) -> Json:
    return {
        "resourceType": "ServiceRequest",
        "basedOn": [referral["focus"]],
        "status": "active",
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": f"{context.canonical_base}/CodeSystem/ilp-tindakan", "code": RUJUK_BALIK}]},
        "subject": referral["for"],
        "authoredOn": now,
        "requester": referral["owner"],
        "performer": [referral["requester"]],
        "note": [{"text": instructions}],
    }


def _back_task(referral: Json, request_id: str, now: str) -> Json:
    request = {"reference": f"ServiceRequest/{request_id}"}
    return {
        "resourceType": "Task",
        "basedOn": [request],
        "partOf": [{"reference": f"Task/{referral['id']}"}],
        "status": "requested",
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
        "focus": request,
        "for": referral["for"],
        "authoredOn": now,
        "requester": referral["owner"],
        "owner": referral["requester"],
    }


def _provenance(context: WriteContext, referral: Json, targets: list[str], now: str) -> Json:
    return {
        "resourceType": "Provenance",
        "target": [{"reference": target} for target in targets],
        "recorded": now,
        "agent": [
            {
                "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "enterer"}]},
                "who": {"reference": f"Organization/{context.caller_organization_id}"},
                "onBehalfOf": referral["owner"],
            }
        ],
    }


RUJUK_BALIK_OPERATION = providers.register_operation(
    Operation(
        name=OPERATION.removeprefix("$"),
        level=OperationLevel.INSTANCE,
        resource_type=TASK.type,
        summary="Answer a referral with rujuk balik: send the resident back to the referring facility",
        description=(
            "For the referral's owner (or the referring puskesmas answering for a referral hospital, which records "
            "a Provenance saying so). Parameter: `instructions` (valueString), what the referring facility is to do. "
            "Creates the back-referral (ServiceRequest `code` rujuk-balik, `basedOn` the referral's; its Task "
            "`partOf` this one, owned by the referring facility), sets this Task's businessStatus to rujuk-balik "
            "without changing its status, and returns the back-referral's Task."
        ),
        affects_state=True,
        permission="u",
        handler=answer_with_rujuk_balik,
        parameters=(
            OperationParameter("instructions", "in", "string", "What the referring facility is to do", 1),
            OperationParameter("return", "out", "Task", "The back-referral's Task", 1),
        ),
        example={
            "resourceType": "Parameters",
            "parameter": [{"name": "instructions", "valueString": "Kontrol tekanan darah di puskesmas tiap bulan"}],
        },
    )
)
