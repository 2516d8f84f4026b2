"""Maps the API schemas onto the pure engine and back; turns the engine's ``InvalidInput`` into a 422."""

from dataclasses import replace
from datetime import date

from ilp_api.fhir.outcome import Unprocessable
from ilp_api.ilp import inputs
from ilp_api.ilp.engine_settings import DEFAULT_SETTINGS, EngineSettings
from ilp_api.ilp.errors import InvalidInput
from ilp_api.ilp.evaluate import Evaluation, evaluate
from ilp_api.ilp.results import Rule
from ilp_api.screening.schemas import (
    AgeOut,
    ClassificationOut,
    DueOut,
    EvaluateRequest,
    EvaluateResponse,
    FollowUpOut,
    InstrumentsIn,
    KlasterOut,
    MeasurementsIn,
    ReferralOut,
    RuleOut,
    SettingsIn,
)


def evaluate_visit(request: EvaluateRequest, today: date) -> EvaluateResponse:
    """``today`` is the local date at the site, used when the request names no visit date."""
    try:
        evaluation = evaluate(to_visit(request, today), to_settings(request.settings))
    except InvalidInput as error:
        raise Unprocessable(error.message, expression=error.field, ilp_code=error.code) from error
    return to_response(evaluation)


def to_settings(overrides: SettingsIn | None) -> EngineSettings:
    if overrides is None:
        return DEFAULT_SETTINGS
    return replace(DEFAULT_SETTINGS, **overrides.model_dump(exclude_none=True))


def to_visit(request: EvaluateRequest, today: date) -> inputs.VisitInput:
    pregnancy = request.pregnancy
    return inputs.VisitInput(
        birth_date=request.birth_date,
        sex=request.sex,
        visit_date=request.visit_date or today,
        site=request.site,
        pregnancy=inputs.Pregnancy(**pregnancy.model_dump()) if pregnancy else None,
        emergency=request.emergency,
        services=frozenset(request.services),
        measurements=_measurements(request.measurements),
        instruments=_instruments(request.instruments),
        weights=tuple(inputs.Weighing(weighing.date, weighing.weight_kg) for weighing in request.weights),
        last_done=request.last_done,
    )


def _measurements(measurements: MeasurementsIn) -> inputs.Measurements:
    return inputs.Measurements(**measurements.model_dump())


def _instruments(given: InstrumentsIn) -> inputs.Instruments:
    tb = given.tb_symptoms
    return inputs.Instruments(
        srq20=tuple(given.srq20) if given.srq20 is not None else None,
        puma=inputs.Puma(**given.puma.model_dump()) if given.puma else None,
        adl=inputs.Adl(given.adl.total, given.adl.items) if given.adl else None,
        skilas=frozenset(domain for domain, flagged in given.skilas if flagged) if given.skilas else None,
        kpsp_yes_count=given.kpsp.yes_count if given.kpsp else None,
        tb_symptoms=inputs.TbSymptoms(tuple(tb.symptoms), tb.household_contact, tb.close_contact) if tb else None,
        visus=inputs.Visus(**given.visus.model_dump()) if given.visus else None,
        whisper_words_heard=given.whisper.words_heard if given.whisper else None,
    )


def _rule(rule: Rule) -> RuleOut:
    return RuleOut(id=rule.id, source=rule.source)


def _rules(rules: tuple[Rule, ...]) -> list[RuleOut]:
    return [_rule(rule) for rule in rules]


def to_response(evaluation: Evaluation) -> EvaluateResponse:
    return EvaluateResponse(
        rule_set=evaluation.rule_set,
        age=AgeOut(days=evaluation.age.days, months=evaluation.age.months, years=evaluation.age.years),
        stages=list(evaluation.stages),
        klaster=[
            KlasterOut(klaster=entry.klaster, role=entry.role, reasons=list(entry.reasons), rules=_rules(entry.rules))
            for entry in evaluation.klaster
        ],
        prioritas=evaluation.prioritas,
        classifications=[
            ClassificationOut(
                key=result.key,
                code=result.code,
                interpretation=result.interpretation.value if result.interpretation else None,
                flags=list(result.flags),
                value=result.value,
                details=dict(result.details),
                rule=_rule(result.rule),
            )
            for result in evaluation.classifications
        ],
        due=[DueOut(item=item.item, reason=item.reason, rule=_rule(item.rule)) for item in evaluation.due],
        referrals=[
            ReferralOut(
                target=referral.target,
                urgency=referral.urgency,
                reasons=list(referral.reasons),
                rules=_rules(referral.rules),
            )
            for referral in evaluation.referrals
        ],
        follow_ups=[
            FollowUpOut(
                code=follow_up.code,
                due_in_days=follow_up.due_in_days,
                reasons=list(follow_up.reasons),
                rules=_rules(follow_up.rules),
            )
            for follow_up in evaluation.follow_ups
        ],
        flags=list(evaluation.flags),
        warnings=list(evaluation.warnings),
    )
