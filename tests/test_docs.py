"""/docs and /redoc work without internet: their pages load only assets the app serves itself."""

import re

import pytest
from fastapi.testclient import TestClient

from ilp_api.openapi_document import openapi_document
from ilp_api.security.auth import TOKEN_PATH

ASSET_URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_load_only_local_assets(anonymous_client: TestClient, page: str) -> None:
    response = anonymous_client.get(page)

    assert response.status_code == 200
    urls = ASSET_URL.findall(response.text)
    assert "/openapi.json" in urls
    assert any(url.endswith(".js") for url in urls)
    assert not [url for url in urls if not url.startswith("/")], "a documentation asset is loaded from elsewhere"
    for url in urls:
        asset = anonymous_client.get(url)
        assert asset.status_code == 200, url
        assert asset.content


def test_swagger_ui_authorizes_with_client_credentials_and_no_scope_ticked(anonymous_client: TestClient) -> None:
    """Swagger UI then sends grant_type alone, and the token carries the client's registered scopes
    (tests/security/test_token_endpoint.py::test_token_with_basic_credentials)."""
    page = anonymous_client.get("/docs").text
    document = openapi_document()

    assert "initOAuth" not in page  # no scopes or client preselected
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == TOKEN_PATH
    requirements = [
        requirement
        for methods in document["paths"].values()
        for operation in methods.values()
        for requirement in operation.get("security", [])
    ]
    assert {"oauth2": []} in requirements
    assert all(scopes == [] for requirement in requirements for scopes in requirement.values())
    assert anonymous_client.get("/docs/oauth2-redirect").status_code == 200
