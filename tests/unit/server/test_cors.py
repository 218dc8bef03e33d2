"""CORS: off unless origins are configured; then the tus headers are allowed and exposed."""

from collections.abc import Callable

from litestar.testing import TestClient

from server.app import TUS_RESPONSE_HEADERS, create_app
from server.auth.tokens import mint_token
from server.settings import Settings
from server.storage import MemoryStorage

from .conftest import SECRET

ORIGIN = "https://emr.example.org"


def test_no_cors_by_default(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(), storage=MemoryStorage())) as client:
        response = client.options("/files/", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_preflight_and_exposed_headers(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(cors_origins=(ORIGIN,)), storage=MemoryStorage())
    with TestClient(app) as client:
        preflight = client.options(
            "/files/",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization,tus-resumable,upload-offset,"
                "content-type,upload-checksum,x-http-method-override",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        token = mint_token(SECRET, "alice")
        created = client.post(
            "/files/",
            headers={
                "Origin": ORIGIN,
                "Authorization": f"Bearer {token}",
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "3",
            },
        )
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == ORIGIN
        exposed = {
            h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")
        }
        assert {h.lower() for h in TUS_RESPONSE_HEADERS} <= exposed
        assert {"location", "upload-offset", "tus-resumable", "upload-expires"} <= exposed


def test_other_origins_get_no_cors_headers(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(cors_origins=(ORIGIN,)), storage=MemoryStorage())
    with TestClient(app) as client:
        response = client.options("/files/", headers={"Origin": "https://evil.example"})
    assert response.headers.get("access-control-allow-origin") != "https://evil.example"
