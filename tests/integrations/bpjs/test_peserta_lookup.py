"""``GET /api/v1/bpjs/peserta``: its own scope, a purpose of use, the audit with the number hashed, a rate limit per
client, masking, and the cache (stale answers while BPJS is unreachable); over real HTTP against the simulator."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from audit_expectations import ExchangeLog, recorded_events
from ilp_api.app import create_app
from ilp_api.audit.tables import AuditEventRow
from ilp_api.db.engine import Database
from ilp_api.integrations.bpjs.errors import BpjsOutcome, BpjsUnavailable
from ilp_api.integrations.bpjs.lookup import PesertaCache
from ilp_api.integrations.bpjs.simulator.fixtures import ACTIVE
from ilp_api.security.smart_scopes import BPJS_PESERTA_IDENTITY_SCOPE, BPJS_PESERTA_SCOPE
from ilp_api.settings import Settings
from pcare_simulator import Simulator, bpjs_settings

ACTIVE_NIK = "3211015203900001"
PURPOSE = {"X-Purpose-Of-Use": "COVERAGE"}
Clients = Callable[[str], Any]


@contextmanager
def audited_clients(app: FastAPI, db: Database, issue_token: Any) -> Iterator[Clients]:
    """``clients(scopes)``: ``app`` as a client with those scopes; afterwards the audit trail must hold exactly one
    event per audited request."""
    exchanges = ExchangeLog()
    with TestClient(app) as http:
        http.event_hooks = {"request": [], "response": [exchanges.record]}

        def as_client(scopes: str) -> TestClient:
            http.headers["Authorization"] = f"Bearer {issue_token(None, scopes)}"
            return http

        yield as_client
    assert recorded_events(db) == exchanges.expected_events()


@pytest.fixture
def clients(db: Database, bpjs_app: FastAPI, simulator: Simulator, issue_token: Any) -> Iterator[Clients]:
    """The module's shared app: its cache outlives a test, and clients are not limited."""
    with audited_clients(bpjs_app, db, issue_token) as as_client:
        yield as_client


@pytest.fixture
def own_clients(db: Database, settings: Settings, simulator: Simulator, issue_token: Any) -> Iterator[Clients]:
    """An app of the test's own: an empty cache, and 5 look-ups at once per client."""
    app = create_app(bpjs_settings(settings, simulator, bpjs_lookups_per_minute=60, bpjs_lookups_burst=5), db)
    with audited_clients(app, db, issue_token) as as_client:
        yield as_client


def audited_queries(db: Database) -> list[str | None]:
    table = AuditEventRow.__table__  # type: ignore[attr-defined]
    with db.session(write=False) as session:
        return [row.query for row in session.execute(select(table.c.query, table.c.path)).all()]


def test_a_look_up_masks_nik_and_phone_and_audits_the_number_hashed(own_clients: Clients, db: Database) -> None:
    response = own_clients(BPJS_PESERTA_SCOPE).get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["stale"], answer["ageSeconds"]) == (False, 0)
    peserta = answer["peserta"]
    assert (peserta["nama"], peserta["aktif"]) == ("SITI AMINAH", True)
    assert (peserta["noKTP"], peserta["noHP"]) == ("3211********0001", "0812****7890")
    [query] = audited_queries(db)
    assert str(query).startswith("noka=hmac-sha256:")
    assert ACTIVE not in str(query)


def test_the_identity_scope_shows_them(clients: Clients) -> None:
    http = clients(f"{BPJS_PESERTA_SCOPE} {BPJS_PESERTA_IDENTITY_SCOPE}")
    peserta = http.get(f"/api/v1/bpjs/peserta?nik={ACTIVE_NIK}", headers=PURPOSE).json()["peserta"]
    assert (peserta["noKTP"], peserta["noHP"]) == (ACTIVE_NIK, "081234567890")


def test_resource_scopes_do_not_allow_it(clients: Clients) -> None:
    response = clients("system/*.cruds").get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE)
    assert response.status_code == 403
    assert BPJS_PESERTA_SCOPE in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("query", "headers", "expression"),
    [
        (f"noKartu={ACTIVE}", {}, "X-Purpose-Of-Use"),
        (f"noKartu={ACTIVE}", {"X-Purpose-Of-Use": "coverage"}, "X-Purpose-Of-Use"),
        ("noKartu=12345", PURPOSE, "noKartu"),
        ("nik=32110152039000", PURPOSE, "nik"),
        (f"noKartu={ACTIVE}&nik={ACTIVE_NIK}", PURPOSE, None),
        ("", PURPOSE, None),
        (f"nama=SITI&noKartu={ACTIVE}", PURPOSE, "nama"),
    ],
)
def test_malformed_look_ups(clients: Clients, query: str, headers: dict[str, str], expression: str | None) -> None:
    response = clients(BPJS_PESERTA_SCOPE).get(f"/api/v1/bpjs/peserta?{query}", headers=headers)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue.get("expression", [None]) == [expression]


def test_look_ups_are_rate_limited_per_client(own_clients: Clients) -> None:
    http = own_clients(BPJS_PESERTA_SCOPE)
    statuses = [http.get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    other = own_clients(BPJS_PESERTA_SCOPE)  # a new client: its own bucket
    assert other.get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE).status_code == 200


def test_answers_are_cached_and_bpjs_unreachable_is_a_503(own_clients: Clients, simulator: Simulator) -> None:
    http = own_clients(BPJS_PESERTA_SCOPE)
    assert http.get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE).status_code == 200
    seen = simulator.requests_seen()
    simulator.fault("hang", seconds=2)
    cached = http.get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE).json()
    assert (cached["stale"], simulator.requests_seen()) == (False, seen)  # BPJS was not asked
    unknown = http.get("/api/v1/bpjs/peserta?noKartu=0001000000002", headers=PURPOSE)
    assert unknown.status_code == 503
    assert unknown.json()["issue"][0]["details"]["coding"][0]["code"] == BpjsOutcome.TIMEOUT


def test_past_its_lifetime_a_cached_answer_is_served_stale_while_bpjs_is_down() -> None:
    now = [0.0]
    cache = PesertaCache(ttl_seconds=60, max_entries=10, clock=lambda: now[0])
    assert cache.lookup("noka", ACTIVE, lambda: {"nama": "A"}).peserta == {"nama": "A"}

    def down() -> dict[str, Any]:
        raise BpjsUnavailable("down")

    now[0] = 30
    fresh = cache.lookup("noka", ACTIVE, down)
    assert (fresh.stale, fresh.age_seconds) == (False, 30)
    now[0] = 90
    stale = cache.lookup("noka", ACTIVE, down)
    assert (stale.peserta, stale.stale, stale.age_seconds) == ({"nama": "A"}, True, 90)
    now[0] = 100
    renewed = cache.lookup("noka", ACTIVE, lambda: {"nama": "B"})
    assert (renewed.peserta, renewed.stale, renewed.age_seconds) == ({"nama": "B"}, False, 0)
    with pytest.raises(BpjsUnavailable):
        cache.lookup("nik", ACTIVE_NIK, down)


def test_the_cache_forgets_the_oldest_beyond_its_size() -> None:
    cache = PesertaCache(ttl_seconds=60, max_entries=2, clock=lambda: 0.0)
    asked: list[str] = []

    def ask(number: str) -> Callable[[], dict[str, Any]]:
        def answer() -> dict[str, Any]:
            asked.append(number)
            return {"noKartu": number}

        return answer

    for number in ("1", "2", "3", "3", "1"):
        cache.lookup("noka", number, ask(number))
    assert asked == ["1", "2", "3", "1"]  # 3 came from the cache, 1 had been forgotten


def test_without_bpjs_the_look_up_says_so(client: TestClient) -> None:
    response = client.get(f"/api/v1/bpjs/peserta?noKartu={ACTIVE}", headers=PURPOSE)
    assert response.status_code == 503
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == BpjsOutcome.NOT_CONFIGURED
