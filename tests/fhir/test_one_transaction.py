"""What the repositories of one transaction share (fhir/repository.py, ``_InTransaction``).

Rows: a transaction asks the database once for each resource it reads or writes, and never remembers more than the
database holds: a savepoint rolled back is forgotten, and a write that moves a Patient changes at once what a scoped
reader sees of the Patient and of its compartment. Deferred creates: written before anything else is sent, so that
the next search finds them, and before the commit; never across the start of a savepoint."""

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from factories import KECAMATAN, KELURAHAN, create, observation_json, patient_json
from ilp_api.db.engine import Database
from ilp_api.fhir.pipeline import Pipeline
from ilp_api.fhir.registry import Ref, ResourceDefinition, registry
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.security.visibility import scope_for
from ilp_api.settings import Settings


class Undone(Exception):
    """Ends a unit of work with a rollback."""


@contextmanager
def rolled_back(pipeline: Pipeline) -> Iterator[UnitOfWork]:
    """A unit of work of the CLI's (unscoped), rolled back once the test has looked."""
    with suppress(Undone), pipeline.unit_of_work(None, write=True) as unit:
        yield unit
        raise Undone


def definition(resource_type: str) -> ResourceDefinition:
    found = registry.get(resource_type)
    assert found is not None
    return found


def test_a_write_in_a_savepoint_rolled_back_is_forgotten(app: FastAPI, patient: dict[str, Any]) -> None:
    body = orjson.dumps(observation_json(patient["id"]))
    with rolled_back(app.state.pipeline) as unit:
        savepoint = unit.repository.session.begin_nested()
        written = unit.resources.create(unit, definition("Observation"), body)
        ref = Ref("Observation", written.stored.id)  # type: ignore[attr-defined]
        assert unit.repository.get(*ref) is not None
        assert unit.repository.existing_ids([ref]) == {ref}
        savepoint.rollback()
        assert unit.repository.get(*ref) is None
        assert unit.repository.existing_ids([ref]) == set()


def created(unit: UnitOfWork, body: bytes) -> Ref:
    return Ref("Observation", unit.resources.create(unit, definition("Observation"), body).stored.id)  # type: ignore[attr-defined]


def test_deferred_creates_are_found_by_the_next_search_and_committed(
    app: FastAPI, db: Database, patient: dict[str, Any]
) -> None:
    body = orjson.dumps(observation_json(patient["id"]))
    observation = definition("Observation")
    with app.state.pipeline.unit_of_work(None, write=True) as unit:
        refs = {created(unit, body) for _ in range(3)}
        page, _, _ = unit.resources.search(unit.repository, observation, [("patient", f"Patient/{patient['id']}")])
        assert {Ref("Observation", found.id) for found in page.matches} == refs
        more = {created(unit, body) for _ in range(2)}
    with db.session(write=False) as session:
        assert ResourceRepository(session).existing_ids(refs | more) == refs | more


def test_no_savepoint_begins_over_deferred_creates(app: FastAPI, patient: dict[str, Any]) -> None:
    body = orjson.dumps(observation_json(patient["id"]))
    with rolled_back(app.state.pipeline) as unit:
        created(unit, body)
        with pytest.raises(RuntimeError, match="savepoint"):
            unit.repository.session.begin_nested()
        unit.repository.flush()
        unit.repository.session.begin_nested().rollback()


def test_a_patient_moved_away_leaves_the_scope_with_its_compartment_at_once(
    app: FastAPI, client: TestClient, network: dict[str, str], settings: Settings
) -> None:
    resident = create(client, patient_json(wilayah=KELURAHAN, rw="001", organization=network["posyandu"]))
    observation = create(client, observation_json(resident["id"]))
    moved = patient_json(wilayah=KECAMATAN + "1009", rw="005", organization=None) | {"id": resident["id"]}
    with rolled_back(app.state.pipeline) as unit:
        session = unit.repository.session
        posyandu = ResourceRepository(session, scope_for(session, network["posyandu"], settings.canonical_base))
        assert posyandu.get("Patient", resident["id"]) is not None
        assert posyandu.get("Observation", observation["id"]) is not None
        unit.resources.update(unit, definition("Patient"), resident["id"], orjson.dumps(moved), None)
        assert posyandu.get("Patient", resident["id"]) is None
        assert posyandu.get("Observation", observation["id"]) is None
        assert posyandu.existing_ids([Ref("Observation", observation["id"])]) == set()


def test_a_scoped_reader_sees_what_an_unscoped_writer_deferred(
    app: FastAPI, client: TestClient, network: dict[str, str], settings: Settings
) -> None:
    resident = create(client, patient_json(wilayah=KELURAHAN, rw="001", organization=network["posyandu"]))
    with rolled_back(app.state.pipeline) as unit:
        ref = created(unit, orjson.dumps(observation_json(resident["id"])))
        session = unit.repository.session
        posyandu = ResourceRepository(session, scope_for(session, network["posyandu"], settings.canonical_base))
        assert posyandu.get(*ref) is not None
        assert posyandu.existing_ids([ref]) == {ref}
