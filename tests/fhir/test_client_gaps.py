"""What real FHIR clients (fhirpy, fhirclient, fhir-kit-client) send beyond CRUD and GET search.

PATCH (JSON Patch and JSON Merge Patch) through the update path; search by POST with a form body; POST /fhir/
answered without a redirect; _summary=count; :exact as FHIR defines it; the Allow header of a 405.
"""

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from factories import (
    FHIR_JSON,
    NIK_SYSTEM,
    TEST_NIK,
    build_network,
    create,
    ilp_codes,
    match_ids,
    nik,
    outcome,
    patient_json,
    search,
    tags,
)
from ilp_api.audit.tables import AuditEventRow
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.fhir.outcome import BadRequest, Conflict, TooCostly, Unprocessable
from ilp_api.fhir.patch import MAX_PATCHED_VALUES, apply_json_patch, apply_merge_patch
from ilp_api.fhir.registry import registry

JSON_PATCH = {"Content-Type": "application/json-patch+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _patch(client: TestClient, patient: dict[str, Any], document: Any, **headers: str) -> Any:
    return client.patch(
        f"/fhir/Patient/{patient['id']}", content=orjson.dumps(document), headers={**JSON_PATCH, **headers}
    )


def _current(client: TestClient, patient: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/fhir/Patient/{patient['id']}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# ---- JSON Patch, the pure function (RFC 6902) ----

DOCUMENT = {"resourceType": "Patient", "id": "p", "a/b": 1, "m~n": 2, "name": [{"given": ["Budi", "Eko"]}]}


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ({"op": "add", "path": "/gender", "value": "male"}, {**DOCUMENT, "gender": "male"}),
        (
            {"op": "add", "path": "/name/0/given/1", "value": "Adi"},
            {**DOCUMENT, "name": [{"given": ["Budi", "Adi", "Eko"]}]},
        ),
        (
            {"op": "add", "path": "/name/0/given/-", "value": "Adi"},
            {**DOCUMENT, "name": [{"given": ["Budi", "Eko", "Adi"]}]},
        ),
        ({"op": "remove", "path": "/a~1b"}, {k: v for k, v in DOCUMENT.items() if k != "a/b"}),
        ({"op": "replace", "path": "/m~0n", "value": 3}, {**DOCUMENT, "m~n": 3}),
        (
            {"op": "move", "from": "/name/0/given/0", "path": "/name/0/given/-"},
            {**DOCUMENT, "name": [{"given": ["Eko", "Budi"]}]},
        ),
        ({"op": "copy", "from": "/a~1b", "path": "/m~0n"}, {**DOCUMENT, "m~n": 1}),
        ({"op": "test", "path": "/name/0/given/1", "value": "Eko"}, DOCUMENT),
    ],
    ids=[
        "add-member",
        "add-into-array",
        "add-to-end",
        "remove-escaped-slash",
        "replace-escaped-tilde",
        "move",
        "copy",
        "test",
    ],
)
def test_json_patch_operations(operation: dict[str, Any], expected: dict[str, Any]) -> None:
    before = orjson.loads(orjson.dumps(DOCUMENT))

    assert apply_json_patch(DOCUMENT, [operation]) == expected
    assert before == DOCUMENT  # the caller's resource is never changed


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        ({"op": "add"}, BadRequest),
        ([{"op": "delete", "path": "/a"}], BadRequest),
        ([{"op": "add", "path": "/gender"}], BadRequest),
        ([{"op": "remove", "path": "gender"}], BadRequest),
        ([{"op": "remove", "path": "/a~2b"}], BadRequest),
        ([{"op": "copy", "path": "/x"}], BadRequest),
        ([{"op": "remove", "path": "/gender"}], Unprocessable),
        ([{"op": "replace", "path": "/name/2", "value": {}}], Unprocessable),
        ([{"op": "add", "path": "/name/01", "value": {}}], Unprocessable),
        ([{"op": "add", "path": "/missing/child", "value": 1}], Unprocessable),
        ([{"op": "move", "from": "/name", "path": "/name/0/x"}], Unprocessable),
        ([{"op": "test", "path": "/m~0n", "value": True}], Conflict),  # true is not 1 (nor 2)
        ([{"op": "replace", "path": "/m~0n", "value": 1}, {"op": "test", "path": "/m~0n", "value": 2}], Conflict),
    ],
    ids=[
        "not-an-array",
        "unknown-op",
        "missing-value",
        "pointer-without-slash",
        "bad-escape",
        "copy-without-from",
        "remove-missing",
        "index-beyond-end",
        "leading-zero-index",
        "missing-parent",
        "move-into-itself",
        "test-bool-vs-number",
        "test-after-replace",
    ],
)
def test_json_patch_errors(operations: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        apply_json_patch(DOCUMENT, operations)


def test_copies_cannot_blow_a_resource_up() -> None:
    doubling = [{"op": "copy", "from": "/name", "path": "/name/-"} for _ in range(40)]

    with pytest.raises(TooCostly, match=str(MAX_PATCHED_VALUES)):
        apply_json_patch(DOCUMENT, doubling)


def test_merge_patch_replaces_members_and_null_removes_them() -> None:
    patched = apply_merge_patch(DOCUMENT, {"a/b": None, "name": [{"family": "X"}], "gender": "male"})

    assert patched == {"resourceType": "Patient", "id": "p", "m~n": 2, "name": [{"family": "X"}], "gender": "male"}


# ---- PATCH /fhir/{type}/{id} ----


def test_json_patch_with_if_match_stores_a_new_version(client: TestClient) -> None:
    patient = create(client, patient_json())
    document = [
        {"op": "test", "path": "/name/0/family", "value": "Santoso"},
        {"op": "replace", "path": "/name/0/family", "value": "Wibowo"},
        {"op": "add", "path": "/name/0/given/-", "value": "Adi"},
    ]

    response = _patch(client, patient, document, **{"If-Match": 'W/"1"'})

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    patched = response.json()
    assert patched["meta"]["versionId"] == "2"
    assert patched["name"][0] == {"use": "official", "family": "Wibowo", "given": ["Budi", "Adi"]}
    assert _current(client, patient) == patched
    assert client.get(f"/fhir/Patient/{patient['id']}/_history").json()["total"] == 2
    assert match_ids(search(client, "Patient", "family=wibowo")) == [patient["id"]]  # re-indexed


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    patient = create(client, patient_json())
    _patch(client, patient, [{"op": "replace", "path": "/gender", "value": "male"}])  # now at version 2

    response = _patch(client, patient, [{"op": "remove", "path": "/birthDate"}], **{"If-Match": 'W/"1"'})

    assert "If-Match" in outcome(response, 412)["issue"][0]["expression"]
    assert _current(client, patient)["birthDate"] == patient["birthDate"]


@pytest.mark.parametrize(
    ("document", "status"),
    [
        (b"{not json", 400),
        (b'{"op": "remove", "path": "/gender"}', 400),  # an object under the JSON Patch media type
        (b'[{"op": "remove"}]', 400),
        (b'[{"op": "test", "path": "/gender", "value": "female"}]', 409),
        (b'[{"op": "remove", "path": "/deceasedBoolean"}]', 422),
        (b'[{"op": "replace", "path": "/id", "value": "another"}]', 422),
        (b'[{"op": "replace", "path": "/resourceType", "value": "Practitioner"}]', 422),
        (b'[{"op": "replace", "path": "/gender", "value": "pria"}]', 422),  # the patched resource is invalid
        (b'[{"op": "add", "path": "/unknownElement", "value": 1}]', 422),
    ],
    ids=[
        "malformed-json",
        "object",
        "operation-without-path",
        "failed-test",
        "missing-path",
        "change-id",
        "change-resource-type",
        "invalid-result",
        "unknown-element",
    ],
)
def test_patch_errors_change_nothing(client: TestClient, document: bytes, status: int) -> None:
    patient = create(client, patient_json())

    response = client.patch(f"/fhir/Patient/{patient['id']}", content=document, headers=JSON_PATCH)

    outcome(response, status)
    assert _current(client, patient) == patient


def test_patch_runs_the_domain_rules_and_identifier_claims(client: TestClient) -> None:
    holder = create(client, patient_json())
    other = create(client, patient_json(nik(serial=2)))
    take_nik = [{"op": "replace", "path": "/identifier/0/value", "value": TEST_NIK}]
    contradict_nik = [{"op": "replace", "path": "/birthDate", "value": "1999-01-01"}]

    taken = outcome(_patch(client, other, take_nik), 409)
    flagged = _patch(client, holder, contradict_nik)

    assert "identitas-sudah-terdaftar" in ilp_codes(taken)
    assert holder["id"] in taken["issue"][0]["diagnostics"]
    assert _current(client, other) == other
    assert flagged.status_code == 200, flagged.text
    assert tags(flagged.json()) == ["nik-tanggal-lahir-berbeda"]  # the data-quality rule ran on the patched resource


@pytest.mark.parametrize("content_type", ["application/fhir+json", "text/plain", "application/xml-patch+xml"])
def test_patch_in_another_format_is_415(client: TestClient, content_type: str) -> None:
    patient = create(client, patient_json())

    response = client.patch(
        f"/fhir/Patient/{patient['id']}",
        content=b'[{"op": "remove", "path": "/gender"}]',
        headers={"Content-Type": content_type},
    )

    assert "application/json-patch+json" in outcome(response, 415)["issue"][0]["diagnostics"]
    assert _current(client, patient) == patient


def test_merge_patch_as_fhirpy_sends_it(client: TestClient) -> None:
    """fhirpy's patch() sends the changed elements as a JSON object under application/json; null removes one."""
    patient = create(client, patient_json())

    merged = client.patch(f"/fhir/Patient/{patient['id']}", json={"gender": "female", "birthDate": None})
    typed = client.patch(f"/fhir/Patient/{patient['id']}", content=orjson.dumps({"active": False}), headers=MERGE_PATCH)

    assert merged.status_code == 200, merged.text
    assert (merged.json()["gender"], "birthDate" in merged.json()) == ("female", False)
    assert typed.status_code == 200, typed.text
    assert (typed.json()["meta"]["versionId"], typed.json()["active"]) == ("3", False)


def test_patch_of_what_is_not_there(client: TestClient) -> None:
    patient = create(client, patient_json())
    client.delete(f"/fhir/Patient/{patient['id']}")
    document = [{"op": "replace", "path": "/gender", "value": "female"}]

    outcome(_patch(client, patient, document), 410)
    outcome(_patch(client, {"id": "no-such-id"}, document), 404)


def test_patch_prefers_minimal(client: TestClient) -> None:
    patient = create(client, patient_json())

    response = _patch(client, patient, [{"op": "remove", "path": "/birthDate"}], Prefer="return=minimal")

    assert (response.status_code, response.content, response.headers["etag"]) == (200, b"", 'W/"2"')


def test_patch_needs_the_update_scope_and_the_organization(
    anonymous_client: TestClient, issue_token: Any, client: TestClient
) -> None:
    network = build_network(client)
    patient = create(client, patient_json(organization=network["puskesmas"]))
    elsewhere = create(client, patient_json(nik(serial=2)))
    document = [{"op": "replace", "path": "/gender", "value": "female"}]
    reader = {"Authorization": f"Bearer {issue_token(network['puskesmas'], 'system/Patient.rs')}"}
    writer = {"Authorization": f"Bearer {issue_token(network['puskesmas'], 'system/Patient.cruds')}"}

    def patch(target: dict[str, Any], headers: dict[str, str]) -> Any:
        return anonymous_client.patch(
            f"/fhir/Patient/{target['id']}", content=orjson.dumps(document), headers={**JSON_PATCH, **headers}
        )

    outcome(patch(patient, reader), 403)
    outcome(patch(elsewhere, writer), 404)
    assert patch(patient, writer).status_code == 200


def test_capability_statement_declares_patch(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()

    for resource in statement["rest"][0]["resource"]:
        if registry.get(resource["type"]):
            assert {"code": "patch"} in resource["interaction"], resource["type"]


# ---- POST /fhir/{type}/_search, POST /fhir/ ----


def test_search_by_post_finds_what_get_finds_and_is_audited_with_its_parameters(
    client: TestClient, db: Database
) -> None:
    create(client, patient_json())
    create(client, patient_json(nik(serial=2), family="Wibowo"))
    query = f"identifier={NIK_SYSTEM}|{TEST_NIK}"

    by_get = search(client, "Patient", query)
    by_post = client.post("/fhir/Patient/_search", content=query.encode(), headers=FORM)

    assert by_post.status_code == 200, by_post.text
    assert by_post.json()["total"] == by_get["total"] == 1
    assert match_ids(by_post.json()) == match_ids(by_get)
    with db.session(write=False) as session:
        table = AuditEventRow.__table__  # type: ignore[attr-defined]
        audited = session.execute(select(table.c.query).where(table.c.path == "/fhir/Patient/_search")).scalars()
        assert [TEST_NIK in (q or "") for q in audited] == [True]


def test_search_by_post_combines_url_and_body(client: TestClient) -> None:
    for serial, family in enumerate(("Santoso", "Susanto", "Wibowo"), start=1):
        create(client, patient_json(nik(serial=serial), family=family))

    response = client.post("/fhir/Patient/_search?_count=1&_sort=family", content=b"family=s", headers=FORM)

    bundle = response.json()
    assert (response.status_code, bundle["total"], len(match_ids(bundle))) == (200, 2, 1)
    assert bundle["entry"][0]["resource"]["name"][0]["family"] == "Santoso"


def test_search_by_post_refuses_a_body_that_is_no_form(client: TestClient) -> None:
    response = client.post("/fhir/Patient/_search", json={"family": "s"})

    assert "application/x-www-form-urlencoded" in outcome(response, 415)["issue"][0]["diagnostics"]


def test_search_by_post_refuses_unknown_parameters_as_get_does(client: TestClient) -> None:
    outcome(client.post("/fhir/Patient/_search", content=b"nama=budi", headers=FORM), 400)


def test_bundle_posted_to_the_base_with_a_trailing_slash_is_processed(client: TestClient) -> None:
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET", "url": "Patient"}}]}

    response = client.post("/fhir/", json=bundle, headers=FHIR_JSON, follow_redirects=False)

    assert response.status_code == 200, response.text
    assert response.json()["type"] == "batch-response"


# ---- _count, _offset, _sort, _summary on every registered type ----


@pytest.mark.parametrize("resource_type", [definition.type for definition in registry])
def test_result_parameters_are_accepted_on_every_type(client: TestClient, resource_type: str) -> None:
    paged = search(client, resource_type, "_count=2&_offset=0&_sort=-_lastUpdated")
    counted = search(client, resource_type, "_summary=count&_total=none")

    assert paged["total"] == 0
    assert (counted["total"], "entry" in counted) == (0, False)


def test_summary_count_gives_the_total_without_entries(client: TestClient) -> None:
    for serial in range(1, 4):
        create(client, patient_json(nik(serial=serial)))

    bundle = search(client, "Patient", "_summary=count&_count=1")

    assert (bundle["total"], "entry" in bundle) == (3, False)
    assert "next" not in [link["relation"] for link in bundle["link"]]
    assert outcome(client.get("/fhir/Patient?_summary=true"), 400)["issue"][0]["expression"] == ["_summary"]


# ---- :exact ----


def test_exact_is_case_and_accent_sensitive(client: TestClient) -> None:
    budi = create(client, patient_json(family="Hernández"))["id"]
    create(client, patient_json(nik(serial=2), family="hernandez"))

    def found(query: str) -> int:
        return len(match_ids(search(client, "Patient", query)))

    assert found("family:exact=Hernández") == 1
    assert match_ids(search(client, "Patient", "name:exact=Hernández")) == [budi]
    assert found("family:exact=hernández") == 0
    assert found("family:exact=Hernandez") == 0
    assert found("family:exact=Hernán") == 0  # whole value, not a prefix
    assert found("family=hernandez") == 2  # the default match still folds case and accents


def test_migration_0007_gives_existing_string_rows_their_exact_text(tmp_path: Any) -> None:
    """A database indexed before 0007 (folded strings only) has each row's text as written afterwards.

    SQLite only: the migration is dialect-neutral SQLAlchemy Core, and the PostgreSQL test database is built with it.
    """
    url = f"sqlite:///{tmp_path / 'before-0007.db'}"
    upgrade(url, "0004")
    engine = create_database_engine(url)
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Hernández", "given": ["Budi", "budi"]}]}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content) "
                "VALUES ('Patient', 'p1', 1, '2026-01-01 00:00:00', 0, :content)"
            ),
            {"content": orjson.dumps(patient).decode()},
        )
        connection.execute(
            text(
                "INSERT INTO search_string (resource_type, resource_id, param, value) "
                "VALUES ('Patient', 'p1', 'family', 'hernandez')"
            )
        )

    upgrade(url)

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT param, value, exact FROM search_string")).all()
    engine.dispose()
    assert sorted(tuple(row) for row in rows) == sorted(
        [
            ("family", "hernandez", "Hernández"),
            ("given", "budi", "Budi"),
            ("given", "budi", "budi"),
            ("name", "hernandez", "Hernández"),
            ("name", "budi", "Budi"),
            ("name", "budi", "budi"),
        ]
    )
