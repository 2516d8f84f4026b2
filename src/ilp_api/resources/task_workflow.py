"""How a Task moves: FHIR R4's Task state machine, who may make each move, and a referral's own statuses (§7).

**Parties.** A Task lies between two sides: its ``requester`` asks, its ``owner`` acts (for a referral, the
facility referred to). A client acts for a side when its organization is that side's Organization (or the
organization of a PractitionerRole named there) or lies above it: a puskesmas acts for its pustu and posyandu, a
dinkes for all of them. An operator without organization (``ilp/admin``, the CLI, and the server's own
evaluation of a visit) acts for both sides. A side that names no organization is held by operators alone.

**Moves** (R4 task.html#statemachine), in ``MOVES``: the owner takes a request and carries it forward, skipping
steps if it likes (received → accepted → ready → in-progress → completed; rejected before accepting; on-hold and
back, failed once started); the requester sends a draft and may cancel until the work is closed; either side marks
a Task entered-in-error. Completed, rejected, cancelled, failed and entered-in-error are closed. A move outside the
machine answers 409 (``transisi-status-tidak-valid``) listing the statuses the caller may set instead; a move of
the machine made by the wrong side answers 403 naming the side that may. Any other change of a Task (a note, an
output) is for its two sides too.

**On a referral hospital's behalf.** A hospital (``fkrtl``) is rarely an API client, so the requester of a Task
owned by one may make the owner's moves for it, on one condition: the same transaction stores a ``Provenance``
whose ``target`` is the Task (or its new version) and whose ``agent`` has ``who`` the calling organization and
``onBehalfOf`` the hospital. The Provenance may come after the Task in a Bundle, so a write hook checks it once
every entry is written (422 ``provenance-diperlukan`` without it).

**Content.** Once requested, a Task changes only in ``WORKFLOW_ELEMENTS``; ``for``, ``owner``, ``requester``,
``focus`` and everything else stay as they are (409 ``elemen-task-tetap`` naming the element): to address the
work elsewhere, cancel the Task and create another. Three exceptions: a draft is its requester's to edit; the
requester names an owner a Task does not have yet (a referral to "an fkrtl" until the puskesmas picks the
hospital, after which the visit's re-evaluation leaves the Task alone); an operator may still rewrite a Task nobody
has acted on (requested), as the visit's re-evaluation does when a correction changes what it derived.

**businessStatus.** A Task whose ``focus`` is a ServiceRequest tracks a referral, and its ``businessStatus`` is
the referral's status (CodeSystem ``status-rujukan``, profile §7). The server sets it from ``status``, whatever the
client sends: draft → ``dibuat``; requested → ``dikirim``; received, accepted, ready, in-progress, on-hold →
``diterima``; completed → ``selesai``; rejected, cancelled, failed, entered-in-error → none (the status says how it
ended). ``rujuk-balik`` is the owner's answer with instructions for the sending facility: set together with the
back-referral that carries them (``$rujuk-balik``, resources/rujuk_balik.py: a write hook refuses it without one),
it stays whatever the status becomes, and never closes the referral by itself.
"""

from collections.abc import Mapping, Sequence, Set
from typing import Any, Literal, NoReturn

from ilp_api.fhir.hooks import write_hooks
from ilp_api.fhir.outcome import Conflict, Forbidden, Issue, Unprocessable
from ilp_api.fhir.registry import Json, Ref, WriteContext, parse_reference
from ilp_api.fhir.unit_of_work import Change, UnitOfWork
from ilp_api.resources.organization import REFERRAL_HOSPITAL, facility_type, in_subtree

Side = Literal["owner", "requester", "either"]
OWNER: Side = "owner"
REQUESTER: Side = "requester"
EITHER: Side = "either"

# Either side may withdraw a Task recorded by mistake, whatever its status.
MISTAKE: Mapping[str, Side] = {"entered-in-error": EITHER}
# FHIR R4's Task state machine: from a status, the statuses a Task may move to, and which side may move it.
MOVES: Mapping[str, Mapping[str, Side]] = {
    "draft": {"requested": REQUESTER, "cancelled": REQUESTER, **MISTAKE},
    "requested": {
        "received": OWNER,
        "accepted": OWNER,
        "ready": OWNER,
        "in-progress": OWNER,
        "completed": OWNER,
        "rejected": OWNER,
        "cancelled": REQUESTER,
        **MISTAKE,
    },
    "received": {
        "accepted": OWNER,
        "ready": OWNER,
        "in-progress": OWNER,
        "completed": OWNER,
        "rejected": OWNER,
        "cancelled": REQUESTER,
        **MISTAKE,
    },
    "accepted": {"ready": OWNER, "in-progress": OWNER, "completed": OWNER, "cancelled": REQUESTER, **MISTAKE},
    "ready": {"in-progress": OWNER, "completed": OWNER, "cancelled": REQUESTER, **MISTAKE},
    "in-progress": {"completed": OWNER, "on-hold": OWNER, "failed": OWNER, "cancelled": REQUESTER, **MISTAKE},
    "on-hold": {"in-progress": OWNER, "failed": OWNER, "cancelled": REQUESTER, **MISTAKE},
    "completed": MISTAKE,
    "rejected": MISTAKE,
    "cancelled": MISTAKE,
    "failed": MISTAKE,
    "entered-in-error": {},
}
# A Task whose work is still to be done (a draft is not sent yet; one on hold is paused on purpose).
WAITING = ("requested", "received", "accepted", "ready", "in-progress")
# What changes as the work moves on; the rest of a requested Task is fixed.
WORKFLOW_ELEMENTS = frozenset(
    {"status", "statusReason", "businessStatus", "output", "note", "lastModified", "executionPeriod"}
)
SERVER_ELEMENTS = frozenset({"resourceType", "id", "meta"})

RUJUK_BALIK = "rujuk-balik"
REFERRAL_STATUS_OF: Mapping[str, str] = {
    "draft": "dibuat",
    "requested": "dikirim",
    "received": "diterima",
    "accepted": "diterima",
    "ready": "diterima",
    "in-progress": "diterima",
    "on-hold": "diterima",
    "completed": "selesai",
}
ANSWERABLE = frozenset(status for status, code in REFERRAL_STATUS_OF.items() if code in ("diterima", "selesai"))


def referral_status_system(canonical_base: str) -> str:
    return f"{canonical_base}/CodeSystem/status-rujukan"


def is_referral(task: Json) -> bool:
    focus = parse_reference(task.get("focus", {}).get("reference", ""))
    return focus is not None and focus.type == "ServiceRequest"


def referral_status(task: Json, canonical_base: str) -> str | None:
    system = referral_status_system(canonical_base)
    codings = task.get("businessStatus", {}).get("coding", [])
    return next((c.get("code") for c in codings if c.get("system") == system), None)


def apply_task_rules(context: WriteContext, task: Any, data: Json) -> Json:
    if context.replacing is not None:
        _check_change(context, context.replacing, data)
    if is_referral(data):
        _set_referral_status(context, data)
    return data


def _check_change(context: WriteContext, before: Json, after: Json) -> None:
    """Refuses what the machine, the content rules or the parties do not allow (see the module's docstring)."""
    needed = _content_changes(context, before, after)
    moved = before["status"] != after["status"]
    if moved:
        side = MOVES[before["status"]].get(after["status"])
        if side is None:
            _refuse_move(context, before, after)
        needed.append((side, f"move it from {before['status']} to {after['status']}"))
    if _answers_with_rujuk_balik(context, before, after):
        needed.append((OWNER, "answer it with rujuk balik"))
    if not needed and _comparable(before) != _comparable(after):
        needed.append((EITHER, "change it"))
    held = _sides_acted_for(context, after)
    for side, what in needed:
        if not _may(side, held):
            unowned = side == OWNER and "owner" not in after
            raise Forbidden(
                f"Task/{after['id']} has no owner yet to {what}: its requester names one first"
                if unowned
                else f"Only {_side_words(side)} of Task/{after['id']}, or an organization above it, may {what}",
                expression="Task.status" if moved else "Task",
                ilp_code="bukan-pihak-task",
            )


def _sides_held(context: WriteContext, task: Json) -> frozenset[Side]:
    """The sides of ``task`` the caller acts for."""
    caller = context.caller_organization_id
    if caller is None:
        return frozenset({OWNER, REQUESTER})
    return frozenset(
        side for side in (OWNER, REQUESTER) if in_subtree(context, _organization(context, task, side), caller)
    )


def _sides_acted_for(context: WriteContext, task: Json) -> frozenset[Side]:
    """The sides the caller holds, and the owner's when it answers for a referral hospital."""
    held = _sides_held(context, task)
    return held | {OWNER} if on_hospitals_behalf(context, task) else held


def on_hospitals_behalf(context: WriteContext, task: Json) -> bool:
    """Whether the caller makes the owner's moves on the owner's behalf: it holds the requester's side but not the
    owner's of a Task owned by a referral hospital (and must then store a Provenance saying so)."""
    held = _sides_held(context, task)
    owner = _organization(context, task, OWNER)
    return (
        REQUESTER in held
        and OWNER not in held
        and owner is not None
        and facility_type(owner, context.canonical_base) == REFERRAL_HOSPITAL
    )


def _organization(context: WriteContext, task: Json, side: Side) -> Json | None:
    """The Organization a side names: itself, or a PractitionerRole's organization."""
    reference = parse_reference(task.get(side, {}).get("reference", ""))
    if reference is not None and reference.type == "PractitionerRole":
        role = context.read(reference)
        reference = parse_reference((role or {}).get("organization", {}).get("reference", ""))
    return context.read(reference) if reference is not None and reference.type == "Organization" else None


def _may(side: Side, held: Set[Side]) -> bool:
    return bool(held) if side == EITHER else side in held


def _side_words(side: Side) -> str:
    return {OWNER: "the owner", REQUESTER: "the requester", EITHER: "the owner or the requester"}[side]


def _content_changes(context: WriteContext, before: Json, after: Json) -> list[tuple[Side, str]]:
    """What an update changes beyond the workflow elements, and the side each change needs; refuses the rest."""
    changed = sorted(
        element
        for element in (before.keys() | after.keys()) - WORKFLOW_ELEMENTS - SERVER_ELEMENTS
        if before.get(element) != after.get(element)
    )
    if not changed:
        return []
    if before["status"] == "draft":
        return [(REQUESTER, "edit the draft")]
    if changed == ["owner"] and "owner" not in before:
        return [(REQUESTER, "name its owner")]
    if context.caller_organization_id is None and before["status"] == "requested":
        return []  # an operator, or the visit's re-evaluation, rewriting a Task nobody has acted on
    raise Conflict(
        f"Task.{changed[0]} cannot change: once requested, a Task changes only in "
        f"{', '.join(sorted(WORKFLOW_ELEMENTS))}; to address the work elsewhere, cancel it and create another",
        issues=[
            Issue(
                f"Task.{element} is fixed once the Task is requested",
                "conflict",
                expression=f"Task.{element}",
                ilp_code="elemen-task-tetap",
            )
            for element in changed
        ],
    )


def _refuse_move(context: WriteContext, before: Json, after: Json) -> NoReturn:
    held = _sides_acted_for(context, after)
    allowed = [status for status, side in MOVES[before["status"]].items() if _may(side, held)]
    yours = f"you may move it to {', '.join(allowed)}" if allowed else "none of its next statuses is yours to set"
    raise Conflict(
        f"Task.status cannot go from {before['status']} to {after['status']} (FHIR R4's Task state machine): "
        f"from {before['status']}, {yours}",
        expression="Task.status",
        ilp_code="transisi-status-tidak-valid",
    )


def _answers_with_rujuk_balik(context: WriteContext, before: Json, after: Json) -> bool:
    base = context.canonical_base
    return (
        is_referral(after)
        and referral_status(before, base) != RUJUK_BALIK
        and referral_status(after, base) == RUJUK_BALIK
        and after["status"] in ANSWERABLE
    )


def _comparable(task: Json) -> Json:
    return {key: value for key, value in task.items() if key not in SERVER_ELEMENTS}


def _set_referral_status(context: WriteContext, data: Json) -> None:
    before = context.replacing
    base = context.canonical_base
    keeps_rujuk_balik = before is not None and (
        referral_status(before, base) == RUJUK_BALIK or _answers_with_rujuk_balik(context, before, data)
    )
    code = RUJUK_BALIK if keeps_rujuk_balik else REFERRAL_STATUS_OF.get(data["status"])
    if code is None:
        data.pop("businessStatus", None)
    else:
        data["businessStatus"] = {"coding": [{"system": referral_status_system(base), "code": code}]}


# ---- what a Task update needs beside it in the same transaction ----


def check_accompanied(changes: Sequence[Change], unit: UnitOfWork) -> None:
    """The write hook: a move made on a hospital's behalf comes with its Provenance, a rujuk balik with its
    back-referral (a Task ``partOf`` the referral), both written by the same transaction."""
    context = unit.rules
    for change in changes:
        if change.resource_type != "Task" or change.before is None or change.after is None:
            continue
        before, after = change.before, change.after
        moved_for_hospital = _owners_move(context, before, after) and on_hospitals_behalf(context, after)
        if moved_for_hospital and not _provenance_for(changes, context, after):
            caller, owner = f"Organization/{context.caller_organization_id}", after["owner"]["reference"]
            raise Unprocessable(
                f"Task/{change.id} was moved for its owner, the referral hospital {owner}: store, in the same "
                f"transaction, a Provenance with target Task/{change.id} and an agent with who {caller} and "
                f"onBehalfOf {owner}",
                expression="Task",
                ilp_code="provenance-diperlukan",
                about=f"Task/{change.id}",
            )
        if _answers_with_rujuk_balik(context, before, after) and not _back_referral_for(changes, change.id):
            raise Unprocessable(
                f"Task/{change.id} is answered with rujuk-balik without a back-referral: use "
                f"POST /fhir/Task/{change.id}/$rujuk-balik, or create in the same transaction a Task partOf it",
                expression="Task.businessStatus",
                about=f"Task/{change.id}",
            )


def _owners_move(context: WriteContext, before: Json, after: Json) -> bool:
    """Whether the update is a move only the owner's side makes: a status move of its, or a rujuk balik."""
    moved = before["status"] != after["status"] and MOVES[before["status"]].get(after["status"]) == OWNER
    return moved or _answers_with_rujuk_balik(context, before, after)


def _provenance_for(changes: Sequence[Change], context: WriteContext, task: Json) -> bool:
    recorder = Ref("Organization", str(context.caller_organization_id))
    owner = parse_reference(task["owner"]["reference"])
    for change in changes:
        if change.resource_type != "Provenance" or change.after is None:
            continue
        targets = {parse_reference(target.get("reference", "")) for target in change.after["target"]}
        agents = {
            (
                parse_reference(a["who"].get("reference", "")),
                parse_reference(a.get("onBehalfOf", {}).get("reference", "")),
            )
            for a in change.after["agent"]
        }
        if Ref("Task", task["id"]) in targets and (recorder, owner) in agents:
            return True
    return False


def _back_referral_for(changes: Sequence[Change], task_id: str) -> bool:
    return any(
        change.resource_type == "Task"
        and change.interaction == "create"
        and change.after is not None
        and Ref("Task", task_id) in {parse_reference(p.get("reference", "")) for p in change.after.get("partOf", [])}
        for change in changes
    )


write_hooks.add(check_accompanied)
