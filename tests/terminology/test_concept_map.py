"""The ConceptMap from screening findings to ICD-10: served read-only like the CodeSystems, valid R4, and
deciding every finding the engine can make (a target code, or ``unmatched`` with the reason)."""

from typing import Any

from engine_sweep import classifications
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.conceptmap import ConceptMap

from factories import expressions, outcome
from ilp_api.ilp.results import Interpretation
from ilp_api.terminology.concept_maps import CONCEPT_MAP_ID, FINDING_MAPS, ICD_10, icd10_of
from ilp_api.terminology.screening_codes import ILP_KLASIFIKASI

BASE = "http://ilp-api.example/fhir"
URL = f"{BASE}/ConceptMap/{CONCEPT_MAP_ID}"
KLASIFIKASI = f"{BASE}/CodeSystem/ilp-klasifikasi"
# Not findings about the resident: measure again, ask again; a low glucose reads L with code normal and its flag.
NOT_FINDINGS = frozenset({"z-tidak-wajar", "gejala-tidak-sesuai-usia", "normal"})


def found(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/fhir/ConceptMap?{query}")
    assert response.status_code == 200, response.text
    return [entry["resource"]["id"] for entry in response.json().get("entry", [])]


def test_the_map_is_served_by_id_and_in_a_search_as_valid_fhir(client: TestClient) -> None:
    served = client.get(f"/fhir/ConceptMap/{CONCEPT_MAP_ID}").json()
    bundle = client.get("/fhir/ConceptMap").json()

    ConceptMap.model_validate(served)
    Bundle.model_validate(bundle)
    assert served["url"] == URL
    assert [(g["source"], g["target"], g["targetVersion"]) for g in served["group"]] == [(KLASIFIKASI, ICD_10, "2019")]
    assert bundle["total"] == 1


def test_it_is_found_by_url_id_systems_and_codes(client: TestClient) -> None:
    for query in (
        f"url={URL}",
        f"_id={CONCEPT_MAP_ID}",
        f"source-system={KLASIFIKASI}",
        f"target-system={ICD_10}",
        "source-code=hipertensi-1",
        "target-code=R03.0",
        "status=active",
        "name=temuan",
    ):
        assert found(client, query) == [CONCEPT_MAP_ID], query
    assert found(client, "target-code=I10") == []
    assert found(client, f"source-system={ICD_10}") == []


def test_an_unknown_map_is_404_and_an_unknown_parameter_400(client: TestClient) -> None:
    assert CONCEPT_MAP_ID in outcome(client.get("/fhir/ConceptMap/nope"), 404)["issue"][0]["diagnostics"]
    assert expressions(outcome(client.get("/fhir/ConceptMap?title=x"), 400)) == ["title"]


def test_every_abnormal_finding_the_engine_can_make_is_decided_once() -> None:
    abnormal = {
        code
        for result in classifications()
        if result.interpretation not in (None, Interpretation.NORMAL)
        for code in (result.code, *result.flags)
    }
    decided = [entry.finding for entry in FINDING_MAPS]

    assert len(decided) == len(set(decided))
    assert abnormal - NOT_FINDINGS == set(decided)


def test_a_target_is_an_r_or_z_code_and_every_mapping_says_why() -> None:
    klasifikasi = {code for code, _ in ILP_KLASIFIKASI}
    for entry in FINDING_MAPS:
        assert entry.finding in klasifikasi
        assert entry.comment
        assert (entry.target is None) == (entry.equivalence == "unmatched"), entry.finding
        if entry.target is not None:
            assert entry.target.code[0] in "RZ", entry.finding
            assert icd10_of(entry.finding) == entry.target


def test_the_findings_of_the_issue_have_the_codes_their_who_titles_name() -> None:
    expected: dict[str, Any] = {
        "hipertensi-1": "R03.0",
        "suspek-diabetes": "R73.9",
        "pendek": "R62.8",
        "penyimpangan": "R62.0",
        "risiko-bunuh-diri": "R45.8",
        "kontak-erat": "Z20.1",
        "ketergantungan-total": "Z74.1",
        "gizi-buruk": None,
        "terduga-tb": None,
    }

    assert {finding: getattr(icd10_of(finding), "code", None) for finding in expected} == expected
