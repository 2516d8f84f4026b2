"""The PCare client against the simulator over real HTTP: every answer a member or its own documented outcome."""

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ilp_api.fhir.outcome import FhirError
from ilp_api.integrations.bpjs.breaker import BreakerOpen, CircuitBreaker
from ilp_api.integrations.bpjs.errors import BpjsOutcome
from ilp_api.integrations.bpjs.simulator.fixtures import (
    ACTIVE,
    ARREARS,
    INACTIVE,
    NON_ASCII,
    OTHER_PPK,
    REGISTERED_ELSEWHERE,
    SIMULATOR_CREDENTIALS,
    UNKNOWN,
)
from pcare_simulator import Simulator

RIGHT = SIMULATOR_CREDENTIALS


def failure(call: Callable[[], Any]) -> FhirError:
    with pytest.raises(FhirError) as caught:
        call()
    return caught.value


def test_members_by_card_number_and_by_nik(simulator: Simulator) -> None:
    client = simulator.client()
    active = client.peserta(RIGHT, "noka", ACTIVE)
    assert (active["nama"], active["aktif"], active["ketAktif"]) == ("SITI AMINAH", True, "AKTIF")
    assert client.peserta(RIGHT, "nik", active["noKTP"]) == active
    inactive = client.peserta(RIGHT, "noka", INACTIVE)
    assert (inactive["aktif"], inactive["tglAkhirBerlaku"]) == (False, "31-12-2023")
    assert client.peserta(RIGHT, "noka", ARREARS)["tunggakan"] == 1_260_000
    assert client.peserta(RIGHT, "noka", REGISTERED_ELSEWHERE)["kdProviderPst"]["kdProvider"] == OTHER_PPK
    assert client.peserta(RIGHT, "noka", NON_ASCII)["nama"] == "SRI ÑOMAN ꦱꦿꦶ ꦤꦺꦴꦩꦤ꧀"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=60))
def test_any_unicode_name_round_trips_through_the_simulator(simulator: Simulator, name: str) -> None:
    member = {"nama": name, "noKTP": "3211010101010001", "aktif": True}
    httpx.put(f"{simulator.url}/_simulator/members/0002000000001", json=member).raise_for_status()
    assert simulator.client().peserta(RIGHT, "noka", "0002000000001")["nama"] == name


def test_an_unknown_member(simulator: Simulator) -> None:
    error = failure(lambda: simulator.client().peserta(RIGHT, "noka", UNKNOWN))
    assert (error.status_code, error.ilp_code) == (422, BpjsOutcome.MEMBER_NOT_FOUND)
    assert UNKNOWN in error.message


def test_the_unverified_not_found_reply_is_a_fixture(simulator: Simulator) -> None:
    simulator.reply("not-found", 200, 201, "Data peserta tidak ditemukan")
    assert failure(lambda: simulator.client().peserta(RIGHT, "noka", UNKNOWN)).ilp_code == BpjsOutcome.MEMBER_NOT_FOUND
    simulator.reply("not-found", 200, 299, "something new")
    error = failure(lambda: simulator.client().peserta(RIGHT, "noka", UNKNOWN))
    assert (error.status_code, error.ilp_code) == (502, BpjsOutcome.MALFORMED_REPLY)
    assert "299" in error.message


@pytest.mark.parametrize(
    ("fault", "status", "outcome"),
    [
        ("html-500", 502, BpjsOutcome.SERVER_ERROR),
        ("garbage", 502, BpjsOutcome.MALFORMED_REPLY),
        ("not-registered", 502, BpjsOutcome.SERVICE_NOT_REGISTERED),
        ("precondition-failed", 422, BpjsOutcome.REFUSED_FIELDS),
    ],
)
def test_faults(simulator: Simulator, fault: str, status: int, outcome: BpjsOutcome) -> None:
    simulator.fault(fault)
    error = failure(lambda: simulator.client().peserta(RIGHT, "noka", ACTIVE))
    assert (error.status_code, error.ilp_code) == (status, outcome)


def test_a_refused_field_is_named(simulator: Simulator) -> None:
    simulator.fault("precondition-failed")
    error = failure(lambda: simulator.client().peserta(RIGHT, "noka", ACTIVE))
    assert [issue.diagnostics for issue in error.outcome_issues()] == [
        "PCare refused noKartu: Belum melakukan pendaftaran pada poli tersebut."
    ]


def test_a_timeout(simulator: Simulator) -> None:
    simulator.fault("hang", seconds=2)
    started = time.monotonic()
    error = failure(lambda: simulator.client(timeout=0.3).peserta(RIGHT, "noka", ACTIVE))
    assert time.monotonic() - started < 1.0
    assert (error.status_code, error.ilp_code, error.issue_code) == (503, BpjsOutcome.TIMEOUT, "timeout")
    assert error.headers["Retry-After"].isdigit()


def test_unreachable() -> None:
    client = Simulator("http://127.0.0.1:9").client()  # the discard port: nothing listens
    error = failure(lambda: client.peserta(RIGHT, "noka", ACTIVE))
    assert (error.status_code, error.ilp_code) == (503, BpjsOutcome.UNREACHABLE)


@pytest.mark.parametrize(
    "wrong",
    [
        {"secret": "not-the-secret"},
        {"cons_id": "99999"},
        {"password": "wrong"},
        {"kd_aplikasi": "012"},
        {"user_key": "wrong"},
    ],
    ids=lambda wrong: next(iter(wrong)),
)
def test_wrong_credentials(simulator: Simulator, wrong: dict[str, str]) -> None:
    credentials = dataclasses.replace(RIGHT, **wrong)
    error = failure(lambda: simulator.client().peserta(credentials, "noka", ACTIVE))
    assert (error.status_code, error.ilp_code) == (502, BpjsOutcome.CREDENTIALS_REFUSED)
    assert "ILP_BPJS_SECRET" in error.message


@pytest.mark.parametrize("offset", [600, -600])
def test_a_clock_ten_minutes_off_is_reported_as_skew(simulator: Simulator, offset: int) -> None:
    error = failure(lambda: simulator.client(clock_offset=offset).peserta(RIGHT, "noka", ACTIVE))
    assert (error.status_code, error.ilp_code) == (502, BpjsOutcome.CLOCK_SKEW)
    assert ("ahead of" if offset > 0 else "behind") in error.message
    assert "decrypt" not in error.message


def test_a_clock_a_little_off_still_works(simulator: Simulator) -> None:
    assert simulator.client(clock_offset=30).peserta(RIGHT, "noka", ACTIVE)["aktif"] is True


def test_twenty_concurrent_calls_to_a_hanging_pcare_return_within_the_bound(simulator: Simulator) -> None:
    simulator.fault("hang", seconds=3)
    client = simulator.client(timeout=0.5, breaker_failures=100)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        errors = list(pool.map(lambda _: failure(lambda: client.peserta(RIGHT, "noka", ACTIVE)), range(20)))
    assert time.monotonic() - started < 1.5
    assert {error.ilp_code for error in errors} == {BpjsOutcome.TIMEOUT}


def test_the_breaker_opens_after_k_failures_and_stops_calling_pcare(simulator: Simulator) -> None:
    simulator.fault("html-500")
    client = simulator.client(breaker_failures=3)
    for _ in range(3):
        assert failure(lambda: client.peserta(RIGHT, "noka", ACTIVE)).ilp_code == BpjsOutcome.SERVER_ERROR
    seen = simulator.requests_seen()
    error = failure(lambda: client.peserta(RIGHT, "noka", ACTIVE))
    assert (error.status_code, error.ilp_code) == (503, BpjsOutcome.BREAKER_OPEN)
    assert int(error.headers["Retry-After"]) > 0
    assert simulator.requests_seen() == seen  # PCare was not asked


def test_answers_that_are_answers_do_not_open_the_breaker(simulator: Simulator) -> None:
    client = simulator.client(breaker_failures=2)
    for _ in range(3):
        failure(lambda: client.peserta(RIGHT, "noka", UNKNOWN))
    assert client.breaker.is_open is False


def test_the_breaker_lets_one_trial_through_after_its_reset_time() -> None:
    now = [0.0]
    breaker = CircuitBreaker(2, reset_seconds=10, clock=lambda: now[0])
    breaker.failed()
    breaker.admit()
    breaker.failed()
    with pytest.raises(BreakerOpen):
        breaker.admit()
    now[0] = 11
    breaker.admit()  # the trial
    with pytest.raises(BreakerOpen):
        breaker.admit()  # only one at a time
    breaker.failed()  # the trial failed: open again for the full reset time
    now[0] = 15
    with pytest.raises(BreakerOpen):
        breaker.admit()
    now[0] = 22
    breaker.admit()
    breaker.succeeded()
    breaker.admit()
    assert breaker.is_open is False


def test_an_unknown_path_is_an_html_error_page(simulator: Simulator) -> None:
    response = httpx.get(f"{simulator.url}/pcare-katalog/peserta/{ACTIVE}")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
