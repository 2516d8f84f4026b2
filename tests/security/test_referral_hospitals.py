"""Referral hospitals (fkrtl) are listed for every client, so that any puskesmas can refer to one and record its
answer; listed is not owned: only the hospital's dinkes (or an operator) changes it.

The network (scoped_network.py), with a hospital under the dinkes of the kota and one at the top.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from scoped_network import MEMBERS, Network

from factories import FHIR_JSON, KOTA, create, match_ids, organization_json, outcome


@pytest.fixture
def hospitals(client: TestClient, network: Network) -> dict[str, dict[str, Any]]:
    in_kota = organization_json(
        "fkrtl", name="RSUD Kota Semarang", wilayah=KOTA, part_of=network.organizations["dinkes"]
    )
    return {"in-kota": create(client, in_kota), "top": create(client, organization_json("fkrtl", name="RS Swasta"))}


@pytest.mark.parametrize("member", MEMBERS)
def test_every_client_finds_the_referral_hospitals(
    anonymous_client: TestClient, network: Network, hospitals: dict[str, dict[str, Any]], member: str
) -> None:
    bundle = anonymous_client.get("/fhir/Organization?type=fkrtl", headers=network.headers(member)).json()

    assert sorted(match_ids(bundle)) == sorted(hospital["id"] for hospital in hospitals.values())


def test_a_puskesmas_changes_no_hospital_and_adds_none(
    anonymous_client: TestClient, network: Network, hospitals: dict[str, dict[str, Any]]
) -> None:
    puskesmas = network.headers("puskesmas") | FHIR_JSON
    hospital = hospitals["in-kota"]

    renamed = anonymous_client.put(
        f"/fhir/Organization/{hospital['id']}", json=hospital | {"name": "RS X"}, headers=puskesmas
    )
    deleted = anonymous_client.delete(f"/fhir/Organization/{hospital['id']}", headers=puskesmas)
    added = anonymous_client.post("/fhir/Organization", json=organization_json("fkrtl", name="RS Y"), headers=puskesmas)

    for response in (renamed, deleted, added):
        assert "referral hospitals (fkrtl) are listed" in outcome(response, 403)["issue"][0]["diagnostics"]
    assert (
        anonymous_client.get(f"/fhir/Organization/{hospital['id']}", headers=puskesmas).json()["name"]
        == hospital["name"]
    )


def test_the_dinkes_above_a_hospital_changes_it(
    anonymous_client: TestClient, network: Network, hospitals: dict[str, dict[str, Any]]
) -> None:
    hospital = hospitals["in-kota"]

    response = anonymous_client.put(
        f"/fhir/Organization/{hospital['id']}",
        json=hospital | {"name": "RSUD dr. Adhyatma"},
        headers=network.headers("dinkes") | FHIR_JSON,
    )

    assert response.status_code == 200, response.text
