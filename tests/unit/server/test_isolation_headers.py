"""COOP/COEP/CORP on every response, so the page is crossOriginIsolated."""

import httpx
import pytest

from server.storage import MemoryStorage

from .conftest import BUILD_ID
from .tus_requests import TUS

ISOLATION = {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
    "cross-origin-resource-policy": "same-origin",
}


@pytest.fixture
def storage() -> MemoryStorage:
    """These tests do not touch uploads: one storage backend is enough."""
    return MemoryStorage()


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/", {}),
        ("GET", "/healthz", {}),
        ("GET", f"/vendor/{BUILD_ID}/pyodide.wasm", {}),
        ("GET", "/vendor/stale/pyodide.wasm", {}),
        ("GET", "/app.css", {}),
        ("GET", "/no-such-file", {}),
        ("GET", "/schema/openapi.json", {}),
        ("OPTIONS", "/files/", {}),
        ("POST", "/files/", TUS),  # 401
        ("HEAD", "/files/" + "0" * 32, TUS),  # 401 for anonymous
        ("DELETE", "/files/" + "0" * 32, TUS),  # 405 from the framework
    ],
)
def test_every_response_is_isolated(
    anonymous: httpx.Client, method: str, path: str, headers
) -> None:
    response = anonymous.request(method, path, headers=headers)
    for name, value in ISOLATION.items():
        assert response.headers.get(name) == value, (response.status_code, name)


def test_the_page_allows_only_what_it_needs(anonymous: httpx.Client) -> None:
    headers = anonymous.get("/").headers
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    # no inline scripts or handlers; eval only because PyScript and Pyodide need it
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval' 'unsafe-eval'"
    assert policy["worker-src"] == "'self' blob:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert headers["referrer-policy"] == "no-referrer"


def test_readyz_says_the_database_and_storage_answer(anonymous: httpx.Client) -> None:
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": True, "storage": True}
    assert response.headers["cache-control"] == "no-store"


def test_tus_resumable_on_every_files_response(anonymous: httpx.Client) -> None:
    for method in ("OPTIONS", "POST", "DELETE", "PUT"):
        assert anonymous.request(method, "/files/").headers.get("tus-resumable") == "1.0.0"
    assert "tus-resumable" not in anonymous.get("/healthz").headers


def test_healthz(anonymous: httpx.Client) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_schema_lists_the_api_but_not_static_files(anonymous: httpx.Client) -> None:
    paths = anonymous.get("/schema/openapi.json").json()["paths"]
    assert "/healthz" in paths and "/files" in paths
    assert "/" not in paths


def test_schema_is_served_as_json_without_any_cdn_viewer(anonymous: httpx.Client) -> None:
    response = anonymous.get("/schema")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "medpress"
    assert "cdn" not in response.text.lower()
