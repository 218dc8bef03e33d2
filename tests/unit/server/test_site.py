"""Which public files may be served (pure path logic)."""

from pathlib import Path

import pytest

from server.web.site import Site, read_build_id

from .conftest import BUILD_ID


@pytest.fixture
def site(public_dir: Path) -> Site:
    return Site.load(public_dir)


def test_reads_the_build_id(site: Site) -> None:
    assert site.build_id == BUILD_ID
    assert site.vendor_prefix == f"/vendor/{BUILD_ID}"
    assert (
        site.render_index("{{VENDOR}}/a.js {{VENDOR}}/b")
        == f"/vendor/{BUILD_ID}/a.js /vendor/{BUILD_ID}/b"
    )


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"wheels": []}',
        '{"build_id": ""}',
        '{"build_id": "a/b"}',
        '{"build_id": 5}',
    ],
)
def test_bad_build_json_is_unbuilt(tmp_path: Path, content: str) -> None:
    (tmp_path / "build.json").write_text(content)
    assert read_build_id(tmp_path) is None


@pytest.mark.parametrize("relative", ["app.css", "js/bypass.js", "/main.py", "js//bypass.js"])
def test_public_files(site: Site, relative: str) -> None:
    assert site.public_file(relative) is not None


@pytest.mark.parametrize(
    "relative",
    [
        "",
        "/",
        "index.html",
        "vendor/build.json",
        "vendor/pyodide.wasm",
        "../outside.txt",
        "js/../../outside.txt",
        "js/../vendor/build.json",
        ".hidden",
        "js",
        "a\x00b",
        "..\\outside.txt",
        "missing.css",
    ],
)
def test_refused_public_paths(site: Site, relative: str) -> None:
    assert site.public_file(relative) is None


def test_vendor_files(site: Site) -> None:
    assert (
        site.vendor_file(BUILD_ID, "/pyscript/core.js") == site.vendor_dir / "pyscript" / "core.js"
    )
    assert site.vendor_file("stale", "pyscript/core.js") is None
    assert site.vendor_file(BUILD_ID, "../index.html") is None
    assert site.vendor_file(BUILD_ID, "pyscript") is None


def test_unbuilt_site_serves_no_vendor_files(public_dir: Path) -> None:
    site = Site(public_dir, None)
    assert site.vendor_prefix == "/vendor/unbuilt"
    assert site.vendor_file("unbuilt", "pyodide.wasm") is None
