"""Evaluations per second of the ILP engine, pure and through the API, next to a bare FastAPI endpoint.

Run: .venv/bin/python bench/engine_bench.py. Single core, deterministic population, a few seconds in all.
Performance is measured here and never asserted in tests.
"""

import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from typing import Any

from fastapi import Body, FastAPI
from fastapi.testclient import TestClient

from ilp_api.app import create_app
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.ilp.evaluate import evaluate
from ilp_api.screening.schemas import EvaluateRequest
from ilp_api.screening.service import to_visit
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings

VISIT = date(2026, 6, 1)
SITES = ["posyandu", "kunjungan-rumah", "sekolah", "pustu", "puskesmas"]


def _person(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["bayi", "anak", "remaja", "hamil", "dewasa", "lansia"])
    days = {"bayi": (0, 700), "anak": (700, 2500), "remaja": (3700, 6500), "hamil": (6600, 14000),
            "dewasa": (6600, 21000), "lansia": (21950, 32000)}[kind]  # fmt: skip
    sex = "female" if kind == "hamil" else rng.choice(["male", "female"])
    visit: dict[str, Any] = {
        "birthDate": (VISIT - timedelta(days=rng.randint(*days))).isoformat(),
        "sex": sex,
        "visitDate": VISIT.isoformat(),
        "site": rng.choice(SITES),
    }
    systolic = rng.randint(95, 190)
    measurements: dict[str, Any] = {"systolic": systolic, "diastolic": rng.randint(55, min(120, systolic - 1))}
    instruments: dict[str, Any] = {"tbSymptoms": {"symptoms": rng.sample(["batuk", "demam"], rng.randint(0, 1))}}
    if kind in ("bayi", "anak"):
        measurements = {"weightKg": round(rng.uniform(4, 18), 1), "heightCm": round(rng.uniform(80, 110), 1)}
        if kind == "bayi":
            measurements = {"weightKg": round(rng.uniform(3, 10), 2), "lengthCm": round(rng.uniform(50, 80), 1)}
        instruments = {"kpsp": {"yesCount": rng.randint(5, 10)}}
        visit["weights"] = [{"date": "2026-05-03", "weightKg": measurements["weightKg"] - 0.2}]
    else:
        measurements |= {
            "weightKg": round(rng.uniform(40, 95), 1),
            "heightCm": round(rng.uniform(145, 180), 1),
            "waistCm": rng.randint(65, 110),
            "glucoseRandom": rng.randint(80, 260),
            "hemoglobin": round(rng.uniform(8, 15), 1),
        }
        instruments["srq20"] = [rng.random() < 0.2 for _ in range(20)]
    if kind == "hamil":
        visit["pregnancy"] = {"status": "hamil", "gestationalAgeDays": rng.randint(40, 270), "ancVisitNumber": 3}
        measurements["muacCm"] = round(rng.uniform(20, 28), 1)
    if kind == "lansia":
        instruments |= {
            "adl": {"total": rng.randint(6, 20)},
            "skilas": {"depresi": rng.random() < 0.3},
            "puma": {"neverSmoked": False, "packYears": rng.randint(0, 40), "cough": True},
            "whisper": {"wordsHeard": rng.randint(2, 5)},
        }
    visit["measurements"], visit["instruments"] = measurements, instruments
    return visit


def population(size: int) -> list[dict[str, Any]]:
    rng = random.Random(20261122)
    return [_person(rng) for _ in range(size)]


def bench_pure(bodies: list[dict[str, Any]], seconds: float = 1.5) -> float:
    visits = [to_visit(EvaluateRequest.model_validate(body), VISIT) for body in bodies]
    for visit in visits:  # warm-up: the growth module reads the WHO tables once, on first use
        evaluate(visit)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for visit in visits:
            evaluate(visit)
        done += len(visits)
    return done / (time.perf_counter() - start)


def bare_app(response: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.post("/bare")
    def bare(body: dict[str, Any] = Body()) -> dict[str, Any]:
        return response

    return app


def bench_http(client: TestClient, path: str, bodies: list[dict[str, Any]]) -> tuple[float, float, float]:
    latencies = []
    start = time.perf_counter()
    for body in bodies:
        began = time.perf_counter()
        response = client.post(path, json=body)
        latencies.append(time.perf_counter() - began)
        assert response.status_code == 200, response.text
    rate = len(bodies) / (time.perf_counter() - start)
    quantiles = statistics.quantiles(latencies, n=100)
    return rate, quantiles[49] * 1000, quantiles[98] * 1000


def authenticated_product(directory: str) -> TestClient:
    """The product on a throwaway SQLite database, with a bearer token from its own token endpoint."""
    settings = Settings(database_url=f"sqlite:///{directory}/bench.db", rate_limit_per_minute=0, log_level="WARNING")
    upgrade(settings.database_url)
    database = Database(create_database_engine(settings.database_url))
    with database.session(write=True) as session:
        admin = register_client(session, "engine bench", None, ADMIN_SCOPE)
    client = TestClient(create_app(settings, database))
    token = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(admin.info.client_id, admin.client_secret)
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def main() -> None:
    bodies = population(600)
    print(f"pure engine: {bench_pure(bodies):,.0f} evaluations/s (single core, {len(bodies)} mixed visits)")
    with tempfile.TemporaryDirectory() as directory, authenticated_product(directory) as product:
        sample = product.post("/api/v1/screening/evaluate", json=bodies[0]).json()
        api_rate, api_p50, api_p99 = bench_http(product, "/api/v1/screening/evaluate", bodies)
    with TestClient(bare_app(sample)) as bare:
        bare_rate, bare_p50, bare_p99 = bench_http(bare, "/bare", bodies)
    print(f"API evaluate: {api_rate:,.0f} evaluations/s, p50 {api_p50:.2f} ms, p99 {api_p99:.2f} ms")
    print(f"bare FastAPI: {bare_rate:,.0f} requests/s, p50 {bare_p50:.2f} ms, p99 {bare_p99:.2f} ms")
    print(f"ratio product/bare: {api_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
