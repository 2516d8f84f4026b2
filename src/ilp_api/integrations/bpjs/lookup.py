"""Looking a person up at BPJS before registering them: the answers' cache, masking, and the audit's hash.

Answers are kept in memory per process for ``ILP_BPJS_CACHE_SECONDS``; past that BPJS is asked again, and when it
cannot be asked (down, slow, breaker open) the last answer is served marked stale, with its age, instead of a 503.
"""

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ilp_api.integrations.bpjs.client import Jenis
from ilp_api.integrations.bpjs.errors import BpjsUnavailable

Peserta = dict[str, Any]


@dataclass(frozen=True)
class Found:
    peserta: Peserta
    age_seconds: int  # 0: asked BPJS just now
    stale: bool  # older than the cache's lifetime: BPJS could not be asked again


class PesertaCache:
    def __init__(self, ttl_seconds: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[Peserta, float]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, jenis: Jenis, nomor: str, ask: Callable[[], Peserta]) -> Found:
        """A fresh answer from the cache, else BPJS's (``ask``), else a stale one while BPJS is unavailable."""
        key = (jenis, nomor)
        with self._lock:
            cached = self._entries.get(key)
        now = self.clock()
        if cached is not None and now - cached[1] < self.ttl_seconds:
            return Found(cached[0], int(now - cached[1]), stale=False)
        try:
            peserta = ask()
        except BpjsUnavailable:
            if cached is None:
                raise
            return Found(cached[0], int(now - cached[1]), stale=True)
        if self.ttl_seconds > 0:
            self._keep(key, peserta, now)
        return Found(peserta, 0, stale=False)

    def _keep(self, key: tuple[str, str], peserta: Peserta, at: float) -> None:
        with self._lock:
            self._entries[key] = (peserta, at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def masked(peserta: Peserta, reveal_identity: bool) -> Peserta:
    """The member with NIK and phone number masked (first and last four characters kept) unless revealed."""
    if reveal_identity:
        return peserta
    return {key: _mask(value) if key in ("noKTP", "noHP") else value for key, value in peserta.items()}


def _mask(value: Any) -> Any:
    if not isinstance(value, str) or len(value) <= 8:
        return "****" if value else value
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def hashed_identifier(key: bytes, jenis: Jenis, nomor: str) -> str:
    """What the audit trail records of a looked-up number: its keyed hash, never the number."""
    return f"{jenis}=hmac-sha256:{hmac.new(key, f'{jenis}|{nomor}'.encode(), hashlib.sha256).hexdigest()}"
