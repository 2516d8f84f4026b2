"""Dedicated PostgreSQL databases for tests that break them (outages, roles, cancellations).

Unlike the session's shared ``database``, each of these belongs to one test and is dropped after it.
"""

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from postgres_helpers import database_url, server_connection

from ilp_api.db.migrate import upgrade


@pytest.fixture
def postgres_name() -> Iterator[str]:
    """The name of a fresh, empty PostgreSQL database, dropped after the test."""
    try:
        connection = server_connection()
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL unreachable ({error}); set CI=true to make this a failure")
    name = f"ilp_ops_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield name
    with server_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_name: str) -> str:
    """The URL of a fresh PostgreSQL database migrated to head, as its owner (the test superuser)."""
    url = database_url(postgres_name)
    upgrade(url)
    return url
