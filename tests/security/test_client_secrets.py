"""Stored client secrets: the HMAC format, constant memory per check, and the bounded legacy argon2 path."""

import asyncio
import secrets
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher

from ilp_api.security import client_secrets
from ilp_api.security.client_secrets import SecretCheck, check_legacy_secret, check_secret, hash_secret

# argon2 at its minimum cost, for speed: the legacy path does not depend on the parameters.
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_self_describing_and_salted() -> None:
    secret = secrets.token_urlsafe(32)
    first, second = hash_secret(secret), hash_secret(secret)
    assert first.startswith("hmac-sha256$")
    assert len(first.split("$")) == 3
    assert first != second  # a random key per client
    assert len(first) <= 255  # fits the secret_hash column
    assert secret not in first


def test_right_and_wrong_secrets() -> None:
    secret = secrets.token_urlsafe(32)
    stored = hash_secret(secret)
    assert check_secret(stored, secret) is SecretCheck.RIGHT
    assert check_secret(stored, secret[:-1]) is SecretCheck.WRONG
    assert check_secret(stored, "") is SecretCheck.WRONG
    assert check_secret(None, secret) is SecretCheck.WRONG  # an unknown client


@pytest.mark.parametrize(
    "stored", ["no-secret", "", "hmac-sha256$", "hmac-sha256$!!!$!!!", "hmac-sha256$abc", "md5$x$y", "$argon"]
)
def test_damaged_or_foreign_hashes_never_match(stored: str) -> None:
    assert check_secret(stored, "no-secret") is SecretCheck.WRONG
    assert check_secret(stored, "") is SecretCheck.WRONG


def _peak_bytes(action: Callable[[], object], repetitions: int) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(repetitions):
            action()
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("client", ["known", "unknown"])
def test_wrong_secret_is_checked_in_constant_memory(client: str) -> None:
    stored = hash_secret(secrets.token_urlsafe(32)) if client == "known" else None
    wrong = secrets.token_urlsafe(32)
    assert check_secret(stored, wrong) is SecretCheck.WRONG  # warm: first-call allocations are not the check's

    once = _peak_bytes(lambda: check_secret(stored, wrong), 1)
    many = _peak_bytes(lambda: check_secret(stored, wrong), 1000)
    # A few hundred bytes, and repetitions keep nothing. tracemalloc sees Python's heap only; argon2's 64 MiB
    # were allocated in C, which the peak-RSS test below sees.
    assert once < 4096
    assert many <= once + 512


PEAK_RSS_PROBE = """
import re, secrets, sys
from pathlib import Path
from argon2 import PasswordHasher
from ilp_api.security.client_secrets import check_secret, hash_secret

def peak_kib():  # VmHWM, not ru_maxrss: a child inherits its parent's ru_maxrss across fork and exec
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])

known, wrong, legacy = hash_secret(secrets.token_urlsafe(32)), secrets.token_urlsafe(32), sys.argv[1]
check_secret(known, wrong)
before = peak_kib()
for _ in range(500):
    check_secret(known, wrong)
    check_secret(None, wrong)
after_checks = peak_kib()
try:
    PasswordHasher().verify(legacy, wrong)
except Exception:
    pass
print(after_checks - before, peak_kib() - after_checks)
"""


def test_wrong_secrets_raise_no_peak_memory_while_argon2_did() -> None:
    """Peak RSS of a fresh process: 1,000 checks of wrong secrets add nothing; one argon2 check adds 64 MiB."""
    # The library's defaults, as earlier versions stored them: 64 MiB per verification (hashed here, not in the probe).
    legacy = PasswordHasher().hash(secrets.token_urlsafe(32))
    result = subprocess.run([sys.executable, "-c", PEAK_RSS_PROBE, legacy], capture_output=True, text=True, check=True)
    checks_kib, argon2_kib = map(int, result.stdout.split())
    assert checks_kib < 1024
    assert argon2_kib > 32 * 1024  # the probe sees memory allocated in C


def test_legacy_argon2_hash_is_recognised_and_verified() -> None:
    secret = secrets.token_urlsafe(32)
    stored = CHEAP_ARGON2.hash(secret)
    assert check_secret(stored, secret) is SecretCheck.LEGACY
    assert check_secret(stored, "wrong") is SecretCheck.LEGACY  # decided by check_legacy_secret, not here
    assert asyncio.run(check_legacy_secret(stored, secret)) is True
    assert asyncio.run(check_legacy_secret(stored, "wrong")) is False
    assert asyncio.run(check_legacy_secret("$argon2id$damaged", secret)) is False


def test_legacy_verifications_run_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    most_at_once = 0
    lock = threading.Lock()
    real = client_secrets._argon2_matches

    def observed(stored: str, secret: str) -> bool:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
        time.sleep(0.02)  # long enough for the other requests to arrive while this one runs
        try:
            return real(stored, secret)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(client_secrets, "_argon2_matches", observed)
    stored = CHEAP_ARGON2.hash("right")

    async def flood() -> list[bool]:
        return await asyncio.gather(*(check_legacy_secret(stored, "wrong") for _ in range(8)))

    assert asyncio.run(flood()) == [False] * 8
    assert most_at_once == 1
