"""The page, versioned vendor assets and other public files."""

import logging
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.storage import MemoryStorage

from .conftest import BUILD_ID, WASM_BYTES

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def storage() -> MemoryStorage:
    """These tests do not touch uploads: one storage backend is enough."""
    return MemoryStorage()


def test_index_points_at_the_current_vendor_build(anonymous: httpx.Client) -> None:
    response = anonymous.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == NO_CACHE
    assert "{{VENDOR}}" not in response.text
    assert response.text.count(f"/vendor/{BUILD_ID}/") == 2


def test_index_sets_a_strict_session_cookie(anonymous: httpx.Client) -> None:
    set_cookie = anonymous.get("/").headers["set-cookie"]
    assert set_cookie.startswith("medpress_session=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=Strict"):
        assert attribute.lower() in set_cookie.lower()


def test_index_keeps_a_valid_session(client: httpx.Client) -> None:
    assert "set-cookie" not in client.get("/").headers


def test_index_replaces_an_invalid_session(anonymous: httpx.Client) -> None:
    anonymous.cookies.set("medpress_session", "forged")
    assert "set-cookie" in anonymous.get("/").headers


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/vendor/{build}/pyodide.wasm", "application/wasm"),
        ("/vendor/{build}/pyscript/core.js", "text/javascript; charset=utf-8"),
        ("/vendor/{build}/worker.mjs", "text/javascript; charset=utf-8"),
        ("/vendor/{build}/build.json", "application/json"),
        ("/vendor/{build}/wheels/medpress_client-0.1.0-py3-none-any.whl", "application/zip"),
    ],
)
def test_vendor_files_are_immutable_with_correct_types(
    anonymous: httpx.Client, path: str, media_type: str
) -> None:
    response = anonymous.get(path.format(build=BUILD_ID))
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == IMMUTABLE


def test_wasm_is_served_whole(anonymous: httpx.Client) -> None:
    response = anonymous.get(f"/vendor/{BUILD_ID}/pyodide.wasm", headers={"Accept-Encoding": "identity"})
    assert response.content == WASM_BYTES
    assert response.headers["content-length"] == str(len(WASM_BYTES))
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8", "*"])
def test_a_gzip_twin_is_sent_to_browsers_that_accept_it(anonymous: httpx.Client, accept: str) -> None:
    response = anonymous.get(f"/vendor/{BUILD_ID}/pyodide.wasm", headers={"Accept-Encoding": accept})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"] == "application/wasm"  # the file's, not the twin's
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.content == WASM_BYTES  # httpx decodes it


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "deflate", ""])
def test_the_plain_file_goes_to_browsers_that_refuse_gzip(anonymous: httpx.Client, accept: str) -> None:
    response = anonymous.get(f"/vendor/{BUILD_ID}/pyodide.wasm", headers={"Accept-Encoding": accept})
    assert "content-encoding" not in response.headers
    assert response.content == WASM_BYTES


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/0000000/pyodide.wasm",  # an old build id
        "/vendor/unbuilt/pyodide.wasm",
        f"/vendor/{BUILD_ID}/missing.js",
        f"/vendor/{BUILD_ID}/pyscript",  # a directory
        f"/vendor/{BUILD_ID}/..%2Findex.html",
        f"/vendor/{BUILD_ID}/..%2F..%2Foutside.txt",
        f"/vendor/{BUILD_ID}/%2e%2e/%2e%2e/outside.txt",
        "/vendor/build.json",  # vendor files only through the versioned path
        "/vendor/pyodide.wasm",
        "/..%2Foutside.txt",
        "/%2e%2e/outside.txt",
        "/js/..%2F..%2Foutside.txt",
        "/.hidden",
        "/nothing-here.css",
    ],
)
def test_not_found(anonymous: httpx.Client, path: str) -> None:
    assert anonymous.get(path).status_code == 404


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/app.css", "text/css; charset=utf-8"),
        ("/js/bypass.js", "text/javascript; charset=utf-8"),
        ("/main.py", "text/x-python; charset=utf-8"),
        ("/pyscript.json", "application/json"),
    ],
)
def test_public_files_revalidate(anonymous: httpx.Client, path: str, media_type: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == NO_CACHE
    assert response.headers["etag"]
    assert response.headers["last-modified"]
    again = anonymous.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert anonymous.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_head_on_a_static_file(anonymous: httpx.Client) -> None:
    response = anonymous.head("/app.css")
    assert response.status_code == 200
    assert response.content == b""


def test_symlink_out_of_public_is_refused(anonymous: httpx.Client, public_dir: Path) -> None:
    (public_dir / "escape.txt").symlink_to(public_dir.parent / "outside.txt")
    assert anonymous.get("/escape.txt").status_code == 404


def test_without_build_json_the_page_says_unbuilt(
    make_settings, public_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (public_dir / "vendor" / "build.json").unlink()
    with caplog.at_level(logging.WARNING, logger="medpress.site"):
        app = create_app(make_settings())
    assert "run the setup" in caplog.text
    with TestClient(app) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "/vendor/unbuilt/pyscript/core.js" in page.text
        assert client.get("/vendor/unbuilt/pyodide.wasm").status_code == 404


def test_invalid_build_json_counts_as_unbuilt(make_settings, public_dir: Path) -> None:
    (public_dir / "vendor" / "build.json").write_text('{"build_id": "../evil"}')
    with TestClient(create_app(make_settings())) as client:
        assert "/vendor/unbuilt/" in client.get("/").text


def test_missing_index_is_a_404(make_settings, public_dir: Path) -> None:
    (public_dir / "index.html").unlink()
    with TestClient(create_app(make_settings())) as client:
        assert client.get("/").status_code == 404
