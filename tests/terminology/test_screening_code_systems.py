"""The screening CodeSystems hold exactly the codes the engine and the visit hook write: the engine is run over
the whole input range of every classification (engine_sweep.py), so that a code it can say and the CodeSystem
lacks (or a code the CodeSystem keeps and nothing says any more) fails here, not in a client's terminology check."""

from engine_sweep import classifications

from ilp_api.ilp.referrals import PATHWAYS, SCHEDULE, Follow
from ilp_api.resources.task_workflow import REFERRAL_STATUS_OF, RUJUK_BALIK
from ilp_api.screening.derivation import SENT
from ilp_api.screening.episodes import EPISODE_KLASTER, PREGNANCY
from ilp_api.terminology import screening_codes
from ilp_api.terminology.codesystems import CODE_SYSTEMS


def codes(concepts: screening_codes.Concepts) -> set[str]:
    return {code for code, _ in concepts}


def test_ilp_klasifikasi_holds_every_code_and_flag_the_engine_can_say_and_nothing_else() -> None:
    said = {code for result in classifications() for code in (result.code, *result.flags)}
    pathway_reasons = {pathway.reason for pathway in PATHWAYS if pathway.reason}

    assert said | pathway_reasons == codes(screening_codes.ILP_KLASIFIKASI)


def test_ilp_observation_names_every_classification_the_engine_makes() -> None:
    measured_muac_and_flags = {"muac", "flag"}

    assert {result.key for result in classifications()} | measured_muac_and_flags == codes(
        screening_codes.ILP_OBSERVATION
    )


def test_tindak_lanjut_holds_every_follow_up_of_the_pathways() -> None:
    actions = (action for p in PATHWAYS for action in (*p.outreach, *p.puskesmas, *(p.pustu or ())))
    follow_ups = {action.code for action in actions if isinstance(action, Follow)} | {SCHEDULE.code}

    assert follow_ups == codes(screening_codes.TINDAK_LANJUT)


def test_klaster_status_rujukan_and_ilp_tindakan_hold_what_the_hook_and_the_referral_workflow_write() -> None:
    every_klaster = {f"klaster-{number}" for number in range(1, 6)}

    assert set(EPISODE_KLASTER) < {2, 3, 4, 5}
    assert codes(screening_codes.KLASTER) == every_klaster | {PREGNANCY}
    assert codes(screening_codes.STATUS_RUJUKAN) == {SENT, *REFERRAL_STATUS_OF.values(), RUJUK_BALIK}
    assert codes(screening_codes.ILP_TINDAKAN) == {"rujukan", RUJUK_BALIK}  # a referral, and its answer


def test_no_code_system_lists_a_code_twice() -> None:
    for system in CODE_SYSTEMS:
        listed = [code for code, _ in system.concepts]
        assert len(listed) == len(set(listed)), system.id
