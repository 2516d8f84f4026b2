"""CodeSystem, a read-only type of the registry: read and search with the shared parameters and paging."""

from typing import Any

from fastapi.testclient import TestClient

from factories import expressions, outcome
from ilp_api.terminology.codesystems import CODE_SYSTEMS

ALL_IDS = sorted(system.id for system in CODE_SYSTEMS)


def search(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"/fhir/CodeSystem?{query}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def test_pages_through_every_code_system_by_id_with_next_links(client: TestClient) -> None:
    first = search(client, "_count=2&_sort=_id")
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(following.removeprefix("http://testserver")).json()

    assert first["total"] == len(ALL_IDS)
    assert ids(first) == ALL_IDS[:2]
    assert ids(second) == ALL_IDS[2:4]
    assert any(link["relation"] == "previous" for link in second["link"])


def test_sorts_descending_and_skips_with_offset(client: TestClient) -> None:
    assert ids(search(client, "_sort=-_id&_offset=1")) == sorted(ALL_IDS, reverse=True)[1:]


def test_summary_count_gives_the_number_only(client: TestClient) -> None:
    bundle = search(client, "_summary=count&name=peran")

    assert bundle["total"] == 1
    assert "entry" not in bundle


def test_finds_by_url_name_prefix_and_id(client: TestClient) -> None:
    url = "http://ilp-api.example/fhir/CodeSystem/data-quality"

    assert ids(search(client, f"url={url}")) == ["data-quality"]
    assert ids(search(client, "name=jenis")) == ["jenis-fasilitas"]
    assert ids(search(client, "_id=ilp-error,peran")) == ["ilp-error", "peran"]
    assert search(client, "url=http://ilp-api.example/fhir/CodeSystem/DATA-QUALITY")["total"] == 0


def test_an_unknown_parameter_or_sort_key_is_400_naming_it(client: TestClient) -> None:
    assert expressions(outcome(client.get("/fhir/CodeSystem?title=x"), 400)) == ["title"]
    assert expressions(outcome(client.get("/fhir/CodeSystem?_sort=title"), 400)) == ["_sort"]


def test_an_unknown_code_system_is_404_naming_the_known_ones(client: TestClient) -> None:
    diagnostics = outcome(client.get("/fhir/CodeSystem/nope"), 404)["issue"][0]["diagnostics"]

    assert "peran" in diagnostics
