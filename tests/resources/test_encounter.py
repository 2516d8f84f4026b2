"""Encounter: a resident's visit, its checked references and its search parameters."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    ACT_CODE,
    KLASTER_SYSTEM,
    assert_refused,
    changed,
    create,
    encounter_json,
    episode_of_care_json,
    location_json,
    match_ids,
    practitioner_json,
    practitioner_role_json,
    search,
    service_request_json,
)
from ilp_api.db.engine import Database

VISIT_SYSTEM = "https://posyandu-app.example/kunjungan"
VISIT_KIND_SYSTEM = "https://posyandu-app.example/jenis-kunjungan"


def test_a_visit_is_found_by_patient_date_facility_class_and_identifier(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    kader = create(
        client, practitioner_role_json(create(client, practitioner_json())["id"], network["posyandu"], "kader")
    )
    balai = create(client, location_json("Balai RW 002", organization=network["posyandu"]))
    visit = create(
        client,
        encounter_json(
            patient["id"],
            network["posyandu"],
            identifier=[{"system": VISIT_SYSTEM, "value": "V-0001"}],
            participant=[{"individual": {"reference": f"PractitionerRole/{kader['id']}"}}],
            location=[{"location": {"reference": f"Location/{balai['id']}"}}],
        ),
    )
    home_visit = create(
        client,
        encounter_json(
            patient["id"],
            network["pustu"],
            **{"class": {"system": ACT_CODE, "code": "HH"}, "period": {"start": "2026-12-01T09:00:00+07:00"}},
        ),
    )

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Encounter", query)))

    assert found(f"patient={patient['id']}") == sorted([visit["id"], home_visit["id"]])
    assert found(f"service-provider={network['posyandu']}") == [visit["id"]]
    assert found(f"participant=PractitionerRole/{kader['id']}") == [visit["id"]]
    assert found(f"location={balai['id']}") == [visit["id"]]
    assert found(f"identifier={VISIT_SYSTEM}|V-0001") == [visit["id"]]
    assert found(f"class={ACT_CODE}|HH") == [home_visit["id"]]
    assert found("date=2026-11-03") == [visit["id"]]
    assert found("date=lt2026-11-01") == []
    # The home visit has no end yet: its period reaches past any later date (and so does not lie within one).
    assert found("date=ge2027-01-15") == [home_visit["id"]]
    assert found("date=2027-01-15") == []


def test_a_visit_is_found_by_its_klaster_as_coded(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    """Planned visits: the screening hook names the klaster of a visit that took place, from its findings."""

    def planned(*codings: dict[str, str]) -> dict[str, Any]:
        visit = encounter_json(patient["id"], network["puskesmas"], status="planned", type=[{"coding": [*codings]}])
        return create(client, visit)

    adult = planned({"system": KLASTER_SYSTEM, "code": "klaster-3"})
    lab = planned({"system": KLASTER_SYSTEM, "code": "klaster-5"}, {"system": VISIT_KIND_SYSTEM, "code": "lab"})
    # The same code in another system names no klaster.
    planned({"system": VISIT_KIND_SYSTEM, "code": "klaster-3"})

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Encounter", query)))

    assert found("klaster=klaster-3") == [adult["id"]]
    assert found(f"klaster={KLASTER_SYSTEM}|klaster-5") == [lab["id"]]
    assert found("klaster=klaster-3,klaster-5") == sorted([adult["id"], lab["id"]])
    assert found("klaster=3") == [adult["id"]]  # as the issue spells it: the klaster's number
    assert found("klaster=5,3") == sorted([adult["id"], lab["id"]])


def test_a_visit_is_found_by_its_episode_and_the_referral_it_answers(
    client: TestClient, network: dict[str, str], patient: dict[str, Any]
) -> None:
    """The resident referred by the posyandu is seen at the puskesmas: the visit names the referral (profile §7)."""
    episode = create(client, episode_of_care_json(patient["id"], network["puskesmas"]))
    referral = create(
        client, service_request_json(patient["id"], requester=network["posyandu"], performer=network["puskesmas"])
    )
    seen_again = create(
        client,
        encounter_json(
            patient["id"],
            network["puskesmas"],
            episodeOfCare=[{"reference": f"EpisodeOfCare/{episode['id']}"}],
            basedOn=[{"reference": f"ServiceRequest/{referral['id']}"}],
        ),
    )

    assert match_ids(search(client, "Encounter", f"episode-of-care={episode['id']}")) == [seen_again["id"]]
    assert match_ids(search(client, "Encounter", f"based-on={referral['id']}")) == [seen_again["id"]]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"subject": {"reference": "Patient/nobody"}}, "Encounter (patient)"),
        ({"serviceProvider": {"reference": "Location/x"}}, "Encounter (service-provider)"),
        ({"participant": [{"individual": {"reference": "Patient/x"}}]}, "Encounter (participant)"),
        ({"episodeOfCare": [{"reference": "ServiceRequest/x"}]}, "Encounter (episode-of-care)"),
        ({"basedOn": [{"reference": "ServiceRequest/nothing"}]}, "Encounter (based-on)"),
        ({"status": "done"}, "Encounter.status"),
        ({"class": None}, "Encounter.class"),
        ({"period": {"start": "2026-11-03T09:00:00+07:00", "end": "2026-11-03T08:00:00+07:00"}}, "Encounter.period"),
    ],
    ids=[
        "unknown-patient",
        "provider-not-organization",
        "participant-a-patient",
        "episode-a-request",
        "unknown-referral",
        "status",
        "no-class",
        "period",
    ],
)
def test_an_invalid_visit_is_refused_and_nothing_stored(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    patient: dict[str, Any],
    change: dict[str, Any],
    expression: str,
) -> None:
    assert_refused(client, db, changed(encounter_json(patient["id"], network["posyandu"]), change), expression)
