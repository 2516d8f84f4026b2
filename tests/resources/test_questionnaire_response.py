"""QuestionnaireResponse: answers checked against their form, found by patient, form and visit, and turned into
the rules engine's input."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    CANONICAL,
    FHIR_JSON,
    answer,
    assert_refused,
    changed,
    create,
    encounter_json,
    expressions,
    match_ids,
    nik,
    outcome,
    patient_json,
    questionnaire_response_json,
    search,
    stored_rows,
)
from ilp_api.db.engine import Database
from ilp_api.ilp.evaluate import evaluate
from ilp_api.ilp.inputs import Adl, Instruments, Puma, TbSymptoms, VisitInput, Visus
from ilp_api.resources.questionnaire_response import instruments_from

SRQ20_NO = {f"srq-{number}": False for number in range(1, 21)}
ADL_ITEMS = {
    "bowels": 2,
    "bladder": 2,
    "grooming": 1,
    "toilet": 2,
    "feeding": 2,
    "transfer": 3,
    "mobility": 3,
    "dressing": 2,
    "stairs": 1,
    "bathing": 1,
}
TB_NONE = {"household-contact": False, "close-contact": False}
NEVER_SMOKED = {"ever-smoked": False, "dyspnoea": True, "sputum": False, "cough": True, "spirometry-referral": False}
NEVER_SMOKED_PUMA = Puma(never_smoked=True, pack_years=0.0, dyspnoea=True, cough=True)
# A valid completed answer set for every form, by form id.
VALID_ANSWERS: dict[str, dict[str, Any]] = {
    "srq-20": SRQ20_NO | {"srq-17": True},
    "puma": NEVER_SMOKED,
    "adl-barthel": ADL_ITEMS,
    "adl-barthel-total": {"total": 10},
    "skilas": {
        "kognitif": False,
        "mobilitas": True,
        "malnutrisi": False,
        "penglihatan": False,
        "pendengaran": True,
        "depresi": False,
    },
    "kpsp": {"yes-count": 8},
    "tb-gejala-dewasa": {"batuk": True, "berat-badan-turun": False, "demam": False, "keringat-malam": True} | TB_NONE,
    "tb-gejala-anak": {
        "batuk-2-minggu": False,
        "demam-2-minggu": False,
        "berat-badan-turun": False,
        "lesu": False,
        "tanda-ekstraparu": False,
    }
    | TB_NONE,
    "visus": {"right": "6/12", "left": "6/60"},
    "visus-hitung-jari": {"finger-count-wrong": 1},
    "tes-bisik": {"words-heard": 3},
}
RESPONSE_SYSTEM = "https://posyandu-app.example/kuesioner"


@pytest.mark.parametrize("form", sorted(VALID_ANSWERS))
def test_a_completed_response_to_each_form_is_stored(client: TestClient, patient: dict[str, Any], form: str) -> None:
    created = create(client, questionnaire_response_json(patient["id"], form, VALID_ANSWERS[form]))

    read = client.get(f"/fhir/QuestionnaireResponse/{created['id']}").json()
    assert read["item"] == created["item"]
    assert read["questionnaire"] == f"{CANONICAL}/Questionnaire/{form}"


def test_a_smoker_answers_pack_years_to_a_form_named_with_its_version(
    client: TestClient, patient: dict[str, Any]
) -> None:
    answers = NEVER_SMOKED | {"ever-smoked": True, "pack-years": 25.5}
    versioned = f"{CANONICAL}/Questionnaire/puma|1.0.0"

    created = create(client, questionnaire_response_json(patient["id"], "puma", answers, questionnaire=versioned))

    assert created["questionnaire"] == versioned


def test_a_response_in_progress_may_leave_questions_unanswered(client: TestClient, patient: dict[str, Any]) -> None:
    create(client, questionnaire_response_json(patient["id"], "srq-20", {"srq-1": True}, status="in-progress"))


def answered(link_id: str, *answers: dict[str, Any]) -> dict[str, Any]:
    """An item answering ``link_id`` with ``answers`` as written."""
    return {"linkId": link_id, "answer": list(answers)}


# (form, answers, change of the body, expression refused). ``answers`` None: the form's valid ones.
INVALID: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any], str]] = {
    "unknown-questionnaire": (
        "srq-20",
        None,
        {"questionnaire": "http://example.org/Questionnaire/phq-9"},
        "QuestionnaireResponse.questionnaire",
    ),
    "questionnaire-of-another-base": (
        "srq-20",
        None,
        {"questionnaire": "Questionnaire/srq-20"},
        "QuestionnaireResponse.questionnaire",
    ),
    "unknown-version": (
        "tes-bisik",
        None,
        {"questionnaire": f"{CANONICAL}/Questionnaire/tes-bisik|0.9"},
        "QuestionnaireResponse.questionnaire",
    ),
    "no-questionnaire": ("tes-bisik", None, {"questionnaire": None}, "QuestionnaireResponse.questionnaire"),
    "unknown-link-id": (
        "srq-20",
        VALID_ANSWERS["srq-20"] | {"srq-21": True},
        {},
        "QuestionnaireResponse.item[20].linkId",
    ),
    "boolean-as-integer": (
        "srq-20",
        None,
        {"item": [answered("srq-1", {"valueInteger": 1})]},
        "QuestionnaireResponse.item[0].answer[0].valueInteger",
    ),
    "integer-as-decimal": (
        "kpsp",
        None,
        {"item": [answered("yes-count", {"valueDecimal": 8.0})]},
        "QuestionnaireResponse.item[0].answer[0].valueDecimal",
    ),
    "adl-item-above-its-maximum": (
        "adl-barthel",
        ADL_ITEMS | {"grooming": 2},
        {},
        "QuestionnaireResponse.item[2].answer[0].valueInteger",
    ),
    "kpsp-above-10": ("kpsp", {"yes-count": 11}, {}, "QuestionnaireResponse.item[0].answer[0].valueInteger"),
    "negative-pack-years": (
        "puma",
        NEVER_SMOKED | {"ever-smoked": True, "pack-years": -1.5},
        {},
        "QuestionnaireResponse.item[5].answer[0].valueDecimal",
    ),
    "not-a-snellen-fraction": (
        "visus",
        {"right": "6/12", "left": "20/20"},
        {},
        "QuestionnaireResponse.item[1].answer[0].valueString",
    ),
    "two-answers": (
        "tes-bisik",
        None,
        {"item": [answered("words-heard", answer(3), answer(4))]},
        "QuestionnaireResponse.item[0].answer[1]",
    ),
    "answer-without-value": (
        "tes-bisik",
        None,
        {"item": [answered("words-heard", {"extension": [{"url": "http://example.org/x", "valueString": "x"}]})]},
        "QuestionnaireResponse.item[0].answer[0]",
    ),
    "question-answered-twice": (
        "tes-bisik",
        None,
        {"item": [answered("words-heard", answer(3)), answered("words-heard", answer(4))]},
        "QuestionnaireResponse.item[1].linkId",
    ),
    "nested-item-under-a-question": (
        "tes-bisik",
        None,
        {"item": [answered("words-heard", answer(3)) | {"item": [answered("words-heard", answer(3))]}]},
        "QuestionnaireResponse.item[0].item",
    ),
    "pack-years-of-a-never-smoker": (
        "puma",
        NEVER_SMOKED | {"pack-years": 10.5},
        {},
        "QuestionnaireResponse.item[5].answer",
    ),
    "completed-without-an-srq-item": (
        "srq-20",
        {link_id: value for link_id, value in SRQ20_NO.items() if link_id != "srq-5"},
        {},
        "QuestionnaireResponse.item",
    ),
    "completed-with-an-unanswered-item": (
        "tes-bisik",
        None,
        {"item": [{"linkId": "words-heard", "text": "Kata terdengar"}]},
        "QuestionnaireResponse.item[0]",
    ),
    "amended-without-pack-years-of-a-smoker": (
        "puma",
        NEVER_SMOKED | {"ever-smoked": True},
        {"status": "amended"},
        "QuestionnaireResponse.item",
    ),
    "unknown-status": ("tes-bisik", None, {"status": "done"}, "QuestionnaireResponse.status"),
    "no-subject": ("tes-bisik", None, {"subject": None}, "QuestionnaireResponse.subject"),
    "subject-not-a-patient": (
        "tes-bisik",
        None,
        {"subject": {"reference": "Organization/x"}},
        "QuestionnaireResponse (patient)",
    ),
}


@pytest.mark.parametrize(("form", "answers", "change", "expression"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_response_is_refused_naming_the_element_and_nothing_stored(
    client: TestClient,
    db: Database,
    patient: dict[str, Any],
    form: str,
    answers: dict[str, Any] | None,
    change: dict[str, Any],
    expression: str,
) -> None:
    valid = questionnaire_response_json(patient["id"], form, VALID_ANSWERS[form] if answers is None else answers)
    assert_refused(client, db, changed(valid, change), expression)


def test_refusals_say_what_to_send(client: TestClient, patient: dict[str, Any]) -> None:
    def diagnostics(form: str, answers: dict[str, Any], **change: Any) -> list[str]:
        body = questionnaire_response_json(patient["id"], form, answers, **change)
        problem = outcome(client.post("/fhir/QuestionnaireResponse", json=body, headers=FHIR_JSON), 422)
        return [issue["diagnostics"] for issue in problem["issue"]]

    unknown = diagnostics("srq-20", {}, questionnaire=f"{CANONICAL}/Questionnaire/sdq")[0]
    assert f"use {CANONICAL}/Questionnaire/ followed by one of srq-20, puma" in unknown
    assert diagnostics("adl-barthel-total", {"total": 21}) == [
        "total is answered with valueInteger from 0 to 20, not valueInteger 21"
    ]
    assert diagnostics("srq-20", {"srq-1": 1}, status="in-progress") == [
        "srq-1 is answered with valueBoolean (true or false), not valueInteger 1"
    ]
    missing = diagnostics("tes-bisik", {})
    assert missing == ["words-heard is required in a completed response: answer it, or send status in-progress"]


def test_a_response_of_a_visit_is_about_the_visits_patient(
    client: TestClient, db: Database, network: dict[str, str], patient: dict[str, Any]
) -> None:
    visit = create(client, encounter_json(patient["id"], network["posyandu"]))
    other = create(client, patient_json(nik(serial=2), given="Ani"))
    body = questionnaire_response_json(other["id"], encounter={"reference": f"Encounter/{visit['id']}"})

    problem = outcome(client.post("/fhir/QuestionnaireResponse", json=body, headers=FHIR_JSON), 422)

    assert expressions(problem) == ["QuestionnaireResponse.subject"]
    assert stored_rows(db, "QuestionnaireResponse") == 0


def test_responses_are_found_by_patient_form_visit_and_more(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    visit = create(client, encounter_json(patient["id"], network["posyandu"]))
    other = create(client, patient_json(nik(serial=2), given="Ani"))
    of_visit = {"encounter": {"reference": f"Encounter/{visit['id']}"}}
    srq20 = create(
        client,
        questionnaire_response_json(
            patient["id"],
            "srq-20",
            VALID_ANSWERS["srq-20"],
            author={"reference": f"Patient/{patient['id']}"},
            **of_visit,
        ),
    )
    whisper = create(
        client, questionnaire_response_json(patient["id"], questionnaire=f"{CANONICAL}/Questionnaire/tes-bisik|1.0.0")
    )
    elsewhere = create(
        client,
        questionnaire_response_json(
            other["id"],
            "kpsp",
            {"yes-count": 9},
            identifier={"system": RESPONSE_SYSTEM, "value": "Q-1"},
            authored="2026-12-01",
            status="amended",
        ),
    )

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "QuestionnaireResponse", query)))

    assert found(f"patient={patient['id']}") == sorted([srq20["id"], whisper["id"]])
    assert found(f"subject=Patient/{other['id']}") == [elsewhere["id"]]
    assert found(f"encounter={visit['id']}") == [srq20["id"]]
    assert found(f"questionnaire={CANONICAL}/Questionnaire/srq-20") == [srq20["id"]]
    assert found(f"questionnaire={CANONICAL}/Questionnaire/tes-bisik") == [whisper["id"]]
    assert found(f"questionnaire={CANONICAL}/Questionnaire/tes-bisik|1.0.0") == [whisper["id"]]
    assert found(f"questionnaire={CANONICAL}/Questionnaire/srq-20|1.0.0") == []
    assert found("status=amended") == [elsewhere["id"]]
    assert found("authored=ge2026-11-15") == [elsewhere["id"]]
    assert found(f"identifier={RESPONSE_SYSTEM}|Q-1") == [elsewhere["id"]]
    assert found(f"author=Patient/{patient['id']}") == [srq20["id"]]
    compartment = client.get(
        f"/fhir/Patient/{patient['id']}/QuestionnaireResponse?questionnaire={CANONICAL}/Questionnaire/srq-20"
    )
    assert match_ids(compartment.json()) == [srq20["id"]]


# ---- to the rules engine (pure) ----


def response(form: str, answers: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return questionnaire_response_json("p", form, answers, **elements)


def test_each_form_fills_its_instrument() -> None:
    instruments = instruments_from([response(form, answers) for form, answers in VALID_ANSWERS.items()], CANONICAL)

    assert instruments.srq20 == tuple(link_id == "srq-17" for link_id in SRQ20_NO)
    assert instruments.puma == NEVER_SMOKED_PUMA
    assert instruments.skilas == frozenset({"mobilitas", "pendengaran"})
    assert instruments.kpsp_yes_count == 8
    assert instruments.whisper_words_heard == 3
    # The later of two forms of one instrument counts: both were authored at once, so the one given last.
    assert instruments.adl == Adl(total=10)
    assert instruments.tb_symptoms == TbSymptoms(())
    assert instruments.visus == Visus(finger_count_wrong=1)


def test_the_response_authored_last_counts_and_only_final_ones() -> None:
    responses = [
        response("adl-barthel-total", {"total": 4}, authored="2026-11-03T10:00:00+07:00"),
        response("adl-barthel", ADL_ITEMS, authored="2026-11-03T09:00:00+07:00"),
        response("tb-gejala-dewasa", VALID_ANSWERS["tb-gejala-dewasa"]),
        response("tes-bisik", {"words-heard": 1}, status="in-progress"),
        response("tes-bisik", {"words-heard": 2}, status="entered-in-error"),
        response("visus", VALID_ANSWERS["visus"], questionnaire=f"{CANONICAL}/Questionnaire/visus|1.0.0"),
        response("puma", NEVER_SMOKED | {"ever-smoked": True, "pack-years": 25.0}),
        response("srq-20", SRQ20_NO, questionnaire="http://example.org/Questionnaire/srq-20"),
    ]

    instruments = instruments_from(responses, CANONICAL)

    assert instruments.adl == Adl(total=4)
    assert instruments.tb_symptoms == TbSymptoms(("batuk", "keringat-malam"))
    assert instruments.visus == Visus(right="6/12", left="6/60")
    assert instruments.puma == replace(NEVER_SMOKED_PUMA, never_smoked=False, pack_years=25.0)
    assert (instruments.whisper_words_heard, instruments.srq20) == (None, None)
    assert instruments_from([], CANONICAL) == Instruments()


def test_srq20_item_17_answered_yes_is_flagged_by_the_engine_as_suicide_risk() -> None:
    """Profile §10 #5: a man of 45 at the posyandu, SRQ-20 total 3 with item 17 yes."""
    answers = SRQ20_NO | {"srq-1": True, "srq-3": True, "srq-17": True}
    visit = VisitInput(
        birth_date=date(1981, 5, 1),
        sex="male",
        visit_date=date(2026, 11, 3),
        site="posyandu",
        instruments=instruments_from([response("srq-20", answers)], CANONICAL),
    )

    srq20 = next(result for result in evaluate(visit).classifications if result.key == "srq-20")

    assert (srq20.code, srq20.flags, srq20.value) == ("normal", ("risiko-bunuh-diri",), 3)
