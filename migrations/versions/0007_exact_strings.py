"""String index rows keep the text as written, for :exact (case- and accent-sensitive, as FHIR defines it).

Existing rows are rebuilt from the stored resources with the string parameters as they stand at this revision
(written out here, not imported: a migration must do the same thing whenever it runs).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-10
"""

import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED_TEXT_LENGTH = 255
NAME_PARTS = ("name.text", "name.family", "name.given")
STRING_PARAMETERS: dict[str, dict[str, tuple[str, ...]]] = {
    "Patient": {
        "name": (*NAME_PARTS, "name.prefix", "name.suffix"),
        "family": ("name.family",),
        "given": ("name.given",),
    },
    "Practitioner": {"name": NAME_PARTS},
    "Location": {"name": ("name", "alias")},
    "Organization": {"name": ("name", "alias")},
}
BATCH = 1000

string_index = sa.table(
    "search_string",
    sa.column("resource_type", sa.String),
    sa.column("resource_id", sa.String),
    sa.column("param", sa.String),
    sa.column("value", sa.String),
    sa.column("exact", sa.String),
)
resource = sa.table(
    "resource",
    sa.column("resource_type", sa.String),
    sa.column("id", sa.String),
    sa.column("deleted", sa.Boolean),
    sa.column("content", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("search_string", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("exact", sa.String(length=INDEXED_TEXT_LENGTH), nullable=False, server_default="")
        )
    connection = op.get_bind()
    for resource_type, parameters in STRING_PARAMETERS.items():
        connection.execute(sa.delete(string_index).where(string_index.c.resource_type == resource_type))
        after = ""
        while True:  # in pages by id: a register's resources need not fit in memory at once
            page = connection.execute(
                sa.select(resource.c.id, resource.c.content)
                .where(
                    resource.c.resource_type == resource_type, resource.c.deleted == sa.false(), resource.c.id > after
                )
                .order_by(resource.c.id)
                .limit(BATCH)
            ).all()
            if not page:
                break
            rows = [
                row for id_, content in page for row in _rows(resource_type, id_, orjson.loads(content), parameters)
            ]
            if rows:
                connection.execute(sa.insert(string_index), rows)
            after = page[-1].id
    with op.batch_alter_table("search_string", schema=None) as batch_op:
        batch_op.alter_column("exact", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("search_string", schema=None) as batch_op:
        batch_op.drop_column("exact")


def _rows(
    resource_type: str, resource_id: str, data: Any, parameters: dict[str, tuple[str, ...]]
) -> Iterator[dict[str, str]]:
    for param, paths in parameters.items():
        for path in paths:
            for value in _walk(data, path):
                if isinstance(value, str):
                    yield {
                        "resource_type": resource_type,
                        "resource_id": resource_id,
                        "param": param,
                        "value": _normalise(value)[:INDEXED_TEXT_LENGTH],
                        "exact": value[:INDEXED_TEXT_LENGTH],
                    }


def _walk(data: Any, path: str) -> list[Any]:
    values = [data]
    for step in path.split("."):
        following: list[Any] = []
        for value in values:
            child = value.get(step) if isinstance(value, dict) else None
            if isinstance(child, list):
                following.extend(child)
            elif child is not None:
                following.append(child)
        values = following
    return values


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()
