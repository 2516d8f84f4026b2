"""Search at register scale: prefix searches use the lookup indexes, scope rules read only the owner indexes.

Lookup indexes, PostgreSQL only: string values and token codes with pattern operators.
A name prefix (``name=wulan``, ``LIKE 'wulan%'``) and a wilayah code below a level (``address-village=3374``)
can use a B-tree only when its ordering is bytewise; the default collation of a database (``C.UTF-8``,
``en_US.UTF-8``) is not taken as bytewise by PostgreSQL 15, so without this a prefix search reads every index
row of its table. ``varchar_pattern_ops`` orders bytewise and still serves equality, so the lookup indexes are
rebuilt with it rather than doubled. SQLite is left as it is.

Statistics, PostgreSQL only: the planner estimates how many index rows a prefix matches from the histogram of
the value column, which mixes every search parameter's values. At the default of 100 buckets, among a million
Patients it took ``name=siti lub`` (about 700 rows) for 6,000, and so chose to walk all Patients in
``_lastUpdated`` order hoping to meet 20 matches soon: over a second instead of 20 ms. 1,000 buckets for the
string values and token codes bring the estimate to the right order.

Owner indexes, both databases: a scope rule asks of each candidate resource whether one of its own rows names a
village in the area, an RW, or an organization of the subtree. Indexed by owner alone, that reads every token
(or reference) row of the resource from the table; with the parameter and value in the index, the index answers
(an index-only scan): at a million Patients a scoped name or RW search took half the time (29 → 15 ms).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# index name → (table, columns, the column searched by prefix)
LOOKUP_INDEXES = {
    "ix_search_string_lookup": ("search_string", ("resource_type", "param", "value"), "value"),
    "ix_search_token_lookup": ("search_token", ("resource_type", "param", "code", "system"), "code"),
}


# index name → (table, owner index columns before, after)
OWNER_INDEXES = {
    "ix_search_token_owner": (
        "search_token",
        ("resource_type", "resource_id"),
        ("resource_type", "resource_id", "param", "code", "system"),
    ),
    "ix_search_reference_owner": (
        "search_reference",
        ("resource_type", "resource_id"),
        ("resource_type", "resource_id", "param", "target_type", "target_id"),
    ),
}


# table → the value column whose histogram a prefix or value search is estimated from
ESTIMATED_COLUMNS = {"search_string": "value", "search_token": "code"}
STATISTICS_TARGET = 1000


def upgrade() -> None:
    _rebuild_lookups(pattern_ops=True)
    _set_statistics(STATISTICS_TARGET)
    for name, (table, _, after) in OWNER_INDEXES.items():
        _replace(name, table, after)


def downgrade() -> None:
    _rebuild_lookups(pattern_ops=False)
    _set_statistics(-1)  # the server's default_statistics_target
    for name, (table, before, _) in OWNER_INDEXES.items():
        _replace(name, table, before)


def _set_statistics(target: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in ESTIMATED_COLUMNS.items():
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {target}")


def _replace(name: str, table: str, columns: tuple[str, ...]) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_index(name)
        batch.create_index(name, list(columns))


def _rebuild_lookups(*, pattern_ops: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, columns, prefixed) in LOOKUP_INDEXES.items():
        op.drop_index(name, table_name=table)
        ops = {prefixed: "varchar_pattern_ops"} if pattern_ops else {}
        op.create_index(name, table, list(columns), postgresql_ops=ops)
