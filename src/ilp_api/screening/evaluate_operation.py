"""``POST /fhir/Encounter/$evaluate``: what recording a visit would store, without storing it.

It takes the very transaction Bundle a client would send to ``POST /fhir`` and runs it the same way (every entry's
checks, then the write hooks that evaluate the visit) inside a savepoint that is rolled back: so its answer is
exactly what recording would store and derive, and its refusals are exactly recording's. Ids in the answer are
provisional.
"""

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.bundle import EntryRunner, assign_ids, entry_target, in_writing_entry, parse_bundle
from ilp_api.fhir.hooks import write_hooks
from ilp_api.fhir.outcome import BadRequest, FhirError
from ilp_api.fhir.providers import Answer, Operation, OperationCall, OperationLevel, OperationParameter, providers
from ilp_api.fhir.registry import Json, Ref
from ilp_api.fhir.service import ResourceService
from ilp_api.fhir.unit_of_work import UnitOfWork


def evaluate_visit_bundle(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Answer:
    bundle = parse_bundle(call.body, service.limits)
    if bundle.type != "transaction":
        raise BadRequest(
            "$evaluate takes the visit as the transaction Bundle POST /fhir would take", expression="Bundle.type"
        )
    targets = [entry_target(service.registry, index, entry) for index, entry in enumerate(bundle.entry)]
    savepoint = unit.repository.session.begin_nested()
    try:
        outcomes = EntryRunner(service, call.caller).transaction(unit, bundle, targets, assign_ids(bundle, targets))
        try:
            write_hooks.run(unit)
        except FhirError as error:
            raise in_writing_entry(error, bundle, targets, outcomes) from None
        written = list(dict.fromkeys(Ref(change.resource_type, change.id) for change in unit.changes))
        stored = [unit.repository.get(ref.type, ref.id) for ref in written]
    finally:
        savepoint.rollback()
        unit.changes.clear()  # nothing was written: the pipeline's own run of the hooks has nothing to see
    entries: list[Json] = [
        {"fullUrl": f"{call.base}/{s.resource_type}/{s.id}", "resource": fhir_json.loads(s.content)}
        for s in stored
        if s is not None and not s.deleted
    ]
    answer: Json = {"resourceType": "Bundle", "type": "collection", **({"entry": entries} if entries else {})}
    return Answer(answer, entities=tuple(ref for ref, s in zip(written, stored, strict=True) if s is not None))


EVALUATE = providers.register_operation(
    Operation(
        name="evaluate",
        level=OperationLevel.TYPE,
        resource_type="Encounter",
        summary="What recording a visit would store and derive, storing nothing",
        description=(
            "Takes the visit's transaction Bundle, as `POST /fhir` would (an Encounter, its Observations and "
            "QuestionnaireResponses, linked by urn:uuid), checks and evaluates it the same way, and answers a "
            "`collection` Bundle of every resource recording it would store: the visit's own and the derived "
            "classifications, referrals, follow-ups and klaster episodes. Ids are provisional. A visit recording "
            "would refuse is refused the same way, naming the entry."
        ),
        affects_state=False,
        permission="r",
        handler=evaluate_visit_bundle,
        parameters=(
            OperationParameter("resource", "in", "Bundle", "The visit, as a transaction Bundle", 1),
            OperationParameter("return", "out", "Bundle", "A collection of what would be stored", 1),
        ),
    )
)
