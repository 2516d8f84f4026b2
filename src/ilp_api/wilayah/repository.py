"""Wilayah lookups. With no list imported, codes are checked by structure only and names are unknown."""

import time
from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ilp_api.wilayah.tables import WilayahRow

wilayah = WilayahRow.__table__  # type: ignore[attr-defined]


# Whether a list is loaded is asked on every Patient write; it changes only on an import, so each process
# remembers the answer per database for a short while (an import elsewhere is seen within this time).
LOADED_CACHE_SECONDS = 60.0
_loaded: dict[str, tuple[float, bool]] = {}


def forget_cached_state() -> None:
    """For whoever changes the wilayah table behind the directory's back (tests emptying the database)."""
    _loaded.clear()


class WilayahDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._database = self.session.get_bind().engine.url.render_as_string(hide_password=True)

    def is_loaded(self) -> bool:
        checked_at, loaded = _loaded.get(self._database, (float("-inf"), False))
        if time.monotonic() - checked_at > LOADED_CACHE_SECONDS:
            loaded = self.session.execute(select(wilayah.c.code).limit(1)).first() is not None
            _loaded[self._database] = (time.monotonic(), loaded)
        return loaded

    def names(self, codes: Iterable[str]) -> dict[str, str]:
        """Names of the given codes that are in the list (unknown codes are absent)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = self.session.execute(select(wilayah.c.code, wilayah.c.name).where(wilayah.c.code.in_(wanted)))
        return {row.code: row.name for row in rows}

    def replace_all(self, entries: list[tuple[str, str]]) -> None:
        _loaded.pop(self._database, None)
        self.session.execute(delete(wilayah))
        for start in range(0, len(entries), 5000):
            batch = entries[start : start + 5000]
            self.session.execute(insert(wilayah), [{"code": code, "name": name} for code, name in batch])
