"""Eligibility while BPJS hangs: p50 and p99 of POST /fhir/Patient/{id}/$eligibility, the product (circuit breaker
on, and off) vs. a bare baseline that signs the same PCare request and waits the same timeout.

    .venv/bin/python bench/bpjs_bench.py [--postgres URL] [--requests N] [--concurrency C] [--timeout S]

The PCare simulator (``ilp bpjs simulator``'s app) runs as a child process with its ``hang`` fault on, so every
PCare call times out. Each server is a child process on a scratch database: the product as deployed with
ILP_BPJS_* pointing at the simulator, and a bare FastAPI endpoint that signs the request (the product's protocol
functions), waits for PCare with the same httpx timeout and answers 503. Without a breaker every call costs the
timeout; with one, calls after K failures answer at once until the breaker lets a trial through.
"""

import argparse
import os
import sys
import time

import httpx
import orjson
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from harness import (
    DEFAULT_POSTGRES,
    FHIR_JSON,
    SERVER_ENV,
    Measurement,
    Target,
    admin_token,
    machine_lines,
    run_load,
    scratch_database,
)
from ilp_api.integrations.bpjs.protocol import request_headers, timestamp_at
from ilp_api.integrations.bpjs.simulator.app import SimulatorState, create_simulator
from ilp_api.integrations.bpjs.simulator.fixtures import SIMULATED_PPK, SIMULATOR_CREDENTIALS
from servers import serve, start_server

NIK = "9271060312000001"
NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
KINDS = ("product", "bare", "simulator")


def bare_app() -> FastAPI:
    """Sign, ask PCare with the timeout, answer 503 on a timeout: the least any eligibility endpoint must do."""
    app = FastAPI()
    pcare = httpx.Client(timeout=httpx.Timeout(float(os.environ["ILP_BPJS_TIMEOUT_SECONDS"])))
    base_url = os.environ["ILP_BPJS_PCARE_URL"]

    @app.post("/fhir/Patient/{patient_id}/$eligibility")
    def eligibility(patient_id: str) -> Response:
        headers = request_headers(SIMULATOR_CREDENTIALS, timestamp_at(time.time()))
        try:
            answer = pcare.get(f"{base_url}/peserta/nik/{NIK}", headers=headers)
        except httpx.TimeoutException:
            return Response(b'{"resourceType":"OperationOutcome"}', status_code=503, media_type=FHIR_JSON)
        return Response(answer.content, media_type=FHIR_JSON)

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve_simulator(port: int) -> None:
    app = create_simulator(SimulatorState(SIMULATOR_CREDENTIALS))
    # Hung requests must not hold up its shutdown.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_config=None,
        log_level="critical",  # the cancelled hung requests are expected, not errors
        timeout_graceful_shutdown=1,
    )


def bpjs_env(simulator_url: str, timeout: float, breaker_failures: int) -> dict[str, str]:
    credentials = SIMULATOR_CREDENTIALS
    return SERVER_ENV | {
        "ILP_BPJS_PCARE_URL": simulator_url,
        "ILP_BPJS_CONS_ID": credentials.cons_id,
        "ILP_BPJS_SECRET": credentials.secret,
        "ILP_BPJS_USER_KEY": credentials.user_key,
        "ILP_BPJS_USERNAME": credentials.username,
        "ILP_BPJS_PASSWORD": credentials.password,
        "ILP_BPJS_PPK_CODE": SIMULATED_PPK,
        "ILP_BPJS_TIMEOUT_SECONDS": str(timeout),
        "ILP_BPJS_BREAKER_FAILURES": str(breaker_failures),
        "ILP_BPJS_BREAKER_RESET_SECONDS": "30",
    }


def measure(kind: str, env: dict[str, str], postgres: str, requests: int, concurrency: int) -> Measurement:
    with scratch_database(postgres) as database_url:
        process, base_url = start_server(__file__, kind, database_url, env, "/health/live")
        try:
            headers = {"Content-Type": FHIR_JSON}
            patient_id = "bare"
            if kind == "product":
                headers["Authorization"] = f"Bearer {admin_token(base_url, database_url)}"
                patient = {"resourceType": "Patient", "identifier": [{"system": NIK_SYSTEM, "value": NIK}]}
                created = httpx.post(f"{base_url}/fhir/Patient", content=orjson.dumps(patient), headers=headers)
                created.raise_for_status()
                patient_id = created.json()["id"]
            operations = [("POST", f"/fhir/Patient/{patient_id}/$eligibility", None, b"")] * requests
            return run_load(Target(kind, base_url, headers), operations, concurrency)
        finally:
            process.terminate()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL; the bench makes its own databases")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per server")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--timeout", type=float, default=0.5, help="the PCare timeout, seconds")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve == "simulator":
        serve_simulator(arguments.port)
        return
    if arguments.serve:
        serve(arguments.serve, arguments.port, arguments.database_url, bare_app)
        return
    simulator, simulator_url = start_server(__file__, "simulator", "unused", {}, "/_simulator/requests")
    try:
        fault = {"kind": "hang", "seconds": 600}
        httpx.put(f"{simulator_url}/_simulator/fault", json=fault).raise_for_status()
        runs = {
            "bare (timeout only)": ("bare", 1),
            "product, breaker off": ("product", 10**9),
            "product, breaker K=5": ("product", 5),
        }
        results = {
            name: measure(
                kind,
                bpjs_env(simulator_url, arguments.timeout, failures),
                arguments.postgres,
                arguments.requests,
                arguments.concurrency,
            )
            for name, (kind, failures) in runs.items()
        }
    finally:
        simulator.terminate()
        simulator.wait()
    for line in machine_lines(arguments.postgres):
        print(line)
    print(
        f"PCare hanging, timeout {arguments.timeout:g} s, {arguments.requests} requests per server, "
        f"concurrency {arguments.concurrency}"
    )
    print(f"{'server':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for name, result in results.items():
        print(
            f"{name:<24}{result.throughput:>9.1f}{result.percentile(50):>9.1f}{result.percentile(99):>9.1f}  "
            f"{result.statuses_line()}"
        )
    bare = results["bare (timeout only)"].percentile(99)
    for name in ("product, breaker off", "product, breaker K=5"):
        print(f"p99 {name} / bare: {results[name].percentile(99) / bare:.2f}×")


if __name__ == "__main__":
    sys.exit(main())
