"""Imports every table module so the shared metadata is complete (for Alembic and tests)."""

from ilp_api.db.base import metadata
from ilp_api.fhir import tables as fhir_tables
from ilp_api.wilayah import table as wilayah_table

__all__ = ["fhir_tables", "metadata", "wilayah_table"]
