"""Imports every table module so the shared metadata is complete (for Alembic and tests)."""

from ilp_api.audit import tables as audit_tables
from ilp_api.db.base import metadata
from ilp_api.fhir import tables as fhir_tables
from ilp_api.integrations import tables as integration_tables
from ilp_api.integrations.outbox import tables as outbox_tables
from ilp_api.security import tables as security_tables
from ilp_api.wilayah import tables as wilayah_tables

__all__ = [
    "audit_tables",
    "fhir_tables",
    "integration_tables",
    "metadata",
    "outbox_tables",
    "security_tables",
    "wilayah_tables",
]
