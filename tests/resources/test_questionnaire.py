"""Questionnaire, a read-only type: the screening forms the rules engine reads, as valid FHIR R4, and in step
with the engine's own item lists."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from factories import CANONICAL, expressions, match_ids, outcome, search
from ilp_api.ilp.classify.adl import ITEM_MAXIMA
from ilp_api.ilp.classify.skilas import DOMAINS
from ilp_api.ilp.classify.srq20 import ITEM_COUNT
from ilp_api.ilp.classify.tb_symptoms import ADULT_SYMPTOMS, CHILD_SYMPTOMS
from ilp_api.ilp.classify.vision_hearing import SNELLEN
from ilp_api.resources.questionnaires import FORMS, SNELLEN_FRACTION

FORM_IDS = sorted(form.id for form in FORMS)


def questionnaire(client: TestClient, form_id: str) -> dict[str, Any]:
    response = client.get(f"/fhir/Questionnaire/{form_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def link_ids(resource: dict[str, Any]) -> list[str]:
    return [item["linkId"] for item in resource["item"]]


def test_every_form_is_listed_and_read_as_a_valid_r4_questionnaire(client: TestClient) -> None:
    bundle = search(client, "Questionnaire", "_count=50")

    assert sorted(match_ids(bundle)) == FORM_IDS
    for form_id in FORM_IDS:
        resource = questionnaire(client, form_id)
        get_fhir_model_class("Questionnaire").model_validate(resource)
        assert resource["url"] == f"{CANONICAL}/Questionnaire/{form_id}"
        assert (resource["status"], resource["version"]) == ("active", "1.0.0")
        assert all(item["required"] for item in resource["item"])


def test_finds_forms_by_url_name_id_and_status(client: TestClient) -> None:
    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Questionnaire", query)))

    assert found(f"url={CANONICAL}/Questionnaire/puma") == ["puma"]
    assert found("name=adl") == ["adl-barthel", "adl-barthel-total"]
    assert found("_id=kpsp,tes-bisik") == ["kpsp", "tes-bisik"]
    assert found("status=active&_count=50") == FORM_IDS
    assert found("status=retired") == []


def test_an_unknown_form_is_404_naming_the_known_ones_and_sdq_is_not_served(client: TestClient) -> None:
    diagnostics = outcome(client.get("/fhir/Questionnaire/sdq"), 404)["issue"][0]["diagnostics"]

    assert "srq-20" in diagnostics
    assert expressions(outcome(client.get("/fhir/Questionnaire?title=x"), 400)) == ["title"]


def test_the_capability_statement_lists_questionnaire_read_and_search(client: TestClient) -> None:
    resources = {entry["type"]: entry for entry in client.get("/fhir/metadata").json()["rest"][0]["resource"]}

    entry = resources["Questionnaire"]
    assert [interaction["code"] for interaction in entry["interaction"]] == ["read", "search-type"]
    assert {"url", "name", "_id", "status"} <= {parameter["name"] for parameter in entry["searchParam"]}


def test_the_forms_ask_what_the_engine_reads(client: TestClient) -> None:
    srq20 = questionnaire(client, "srq-20")
    adl = questionnaire(client, "adl-barthel")
    maxima = {
        item["linkId"]: next(e["valueInteger"] for e in item["extension"] if e["url"].endswith("/maxValue"))
        for item in adl["item"]
    }

    assert link_ids(srq20) == [f"srq-{number}" for number in range(1, ITEM_COUNT + 1)]
    assert "mengakhiri hidup" in srq20["item"][16]["text"]  # item 17 flags risiko-bunuh-diri
    assert maxima == ITEM_MAXIMA
    assert link_ids(questionnaire(client, "skilas")) == list(DOMAINS)
    contacts = ["household-contact", "close-contact"]
    assert set(link_ids(questionnaire(client, "tb-gejala-dewasa"))) == ADULT_SYMPTOMS | set(contacts)
    assert set(link_ids(questionnaire(client, "tb-gejala-anak"))) == CHILD_SYMPTOMS | set(contacts)


def test_pack_years_are_asked_only_after_a_yes_to_ever_smoked(client: TestClient) -> None:
    pack_years = next(item for item in questionnaire(client, "puma")["item"] if item["linkId"] == "pack-years")

    assert pack_years["type"] == "decimal"
    assert pack_years["enableWhen"] == [{"question": "ever-smoked", "operator": "=", "answerBoolean": True}]


@pytest.mark.parametrize("fraction", ["6/6", "6/12", "3/60", "1/60", "6/1000", "6/0", "2/60", "6/12.5", "6/", "66/6"])
def test_the_published_snellen_pattern_accepts_what_the_engine_accepts(fraction: str) -> None:
    assert (re.fullmatch(SNELLEN_FRACTION, fraction) is None) == (SNELLEN.fullmatch(fraction) is None)
