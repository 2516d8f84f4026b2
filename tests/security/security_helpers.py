"""Helpers shared by the security tests and their fixtures (conftest.py): keys, an Organization, Basic auth."""

import base64
import uuid
from collections.abc import Callable

import orjson

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.repository import ResourceRepository, Stored
from ilp_api.settings import JwtKey

# A second signing key, for rotation: tests/conftest.py configures the first.
NEW_KEY = JwtKey(kid="test-key-2", secret="n" * 32)

MakeClient = Callable[..., tuple[str, str]]
TokenFor = Callable[..., str]
Bearer = Callable[..., dict[str, str]]


def insert_organization(database: Database, name: str = "Puskesmas Uji") -> str:
    """A bare stored Organization, enough to own a client (no facility-network validation)."""
    organization_id = str(uuid.uuid4())
    content = orjson.dumps({"resourceType": "Organization", "id": organization_id, "name": name}).decode()
    with database.session(write=True) as session:
        ResourceRepository(session).store(
            Stored("Organization", organization_id, 1, utc_now(), False, content),
            "POST",
            expected_version=None,
            index_values=(),
            claims=(),
        )
    return organization_id


def basic_auth(client_id: str, client_secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()}
