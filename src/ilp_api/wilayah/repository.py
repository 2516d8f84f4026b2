"""Wilayah lookups. With no list imported, codes are checked by structure only and names are unknown."""

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ilp_api.wilayah.table import WilayahRow

wilayah = WilayahRow.__table__  # type: ignore[attr-defined]


class WilayahDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def is_loaded(self) -> bool:
        return self.session.execute(select(wilayah.c.code).limit(1)).first() is not None

    def names(self, codes: Iterable[str]) -> dict[str, str]:
        """Names of the given codes that are in the list (unknown codes are absent)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = self.session.execute(select(wilayah.c.code, wilayah.c.name).where(wilayah.c.code.in_(wanted)))
        return {row.code: row.name for row in rows}

    def replace_all(self, entries: list[tuple[str, str]]) -> None:
        self.session.execute(delete(wilayah))
        for start in range(0, len(entries), 5000):
            batch = entries[start : start + 5000]
            self.session.execute(insert(wilayah), [{"code": code, "name": name} for code, name in batch])
