"""Imports every table module so the shared metadata is complete (for Alembic and tests)."""

from ilp_api.audit import table as audit_table
from ilp_api.db.base import metadata
from ilp_api.fhir import tables as fhir_tables
from ilp_api.security import tables as security_tables
from ilp_api.wilayah import table as wilayah_table

__all__ = ["audit_table", "fhir_tables", "metadata", "security_tables", "wilayah_table"]
