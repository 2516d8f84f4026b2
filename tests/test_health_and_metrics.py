"""Liveness, readiness and Prometheus metrics: labels are route templates and code constants, never request data."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition ``metrics`` (0 when absent, as for a counter never counted)."""
    for family in text_string_to_metric_families(metrics):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


def test_probes_answer_while_the_database_does(client: TestClient) -> None:
    for path in ("/health/live", "/health/ready", "/health"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json() == {"status": "ok"}


def test_requests_are_counted_by_route_template_without_request_data(client: TestClient) -> None:
    route = "/fhir/Patient/{resource_id}"
    before = client.get("/metrics").text
    assert client.get("/fhir/Patient/Bayu Wibowo").status_code == 404
    assert client.get("/fhir/Patient/abc-123").status_code == 404
    assert client.get("/no/such/Bayu").status_code == 404
    assert client.request("BAYU", "/fhir/Patient").status_code == 405

    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    after = metrics.text
    requests = "ilp_http_requests_total"
    assert (
        sample(after, requests, route=route, method="GET", status="404")
        - sample(before, requests, route=route, method="GET", status="404")
        == 2
    )
    assert sample(after, requests, route="unmatched", method="GET", status="404") >= 1
    assert sample(after, requests, route="/fhir/Patient", method="other", status="405") >= 1
    assert sample(after, "ilp_http_request_duration_seconds_count", route=route, method="GET") >= 2
    assert "Bayu" not in after
    assert "abc-123" not in after
    assert sample(after, "ilp_db_pool_size") >= 1
    assert "ilp_db_pool_checked_out" in after
    assert "process_resident_memory_bytes" in after


def test_rate_limit_refusals_are_counted(
    db: Database, settings: Settings, issue_token: Callable[[str | None, str], str]
) -> None:
    limited = create_app(settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 1}), db)
    headers = {"Authorization": f"Bearer {issue_token(None, ADMIN_SCOPE)}"}
    with TestClient(limited) as http:
        before = sample(http.get("/metrics").text, "ilp_rate_limited_total", limiter="api_client")
        assert http.get("/fhir/Organization", headers=headers).status_code == 200
        assert http.get("/fhir/Organization", headers=headers).status_code == 429
        after = sample(http.get("/metrics").text, "ilp_rate_limited_total", limiter="api_client")
    assert after - before == 1


def test_metrics_can_require_a_token(db: Database, settings: Settings) -> None:
    protected = create_app(settings.model_copy(update={"metrics_token": SecretStr("scrape-" + "x" * 24)}), db)
    with TestClient(protected) as http:
        refused = http.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["resourceType"] == "OperationOutcome"
        assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        allowed = http.get("/metrics", headers={"Authorization": "Bearer scrape-" + "x" * 24})
        assert allowed.status_code == 200
        assert "ilp_http_requests_total" in allowed.text


def test_refusals_over_the_bounds_and_token_failures_are_counted(client: TestClient) -> None:
    before = client.get("/metrics").text
    assert client.get("/fhir/Patient?" + "&".join(["gender=male"] * 11)).status_code == 400
    oversized = {"Content-Type": "application/fhir+json", "Content-Length": str(64 * 1024 * 1024)}
    assert client.post("/fhir/Patient", content=b"{}", headers=oversized).status_code == 413
    wrong = {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "wrong"}
    assert client.post("/oauth2/token", data=wrong).status_code == 401

    after = client.get("/metrics").text

    def counted(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert counted("ilp_limit_refusals_total", limit="too-costly") == 1
    assert counted("ilp_limit_refusals_total", limit="too-long") == 1
    assert counted("ilp_token_failures_total", error="invalid_client") == 1
