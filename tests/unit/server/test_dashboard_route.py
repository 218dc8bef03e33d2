"""``/dashboard``: the operators' page, rendered like index.html (vendor placeholder filled,
no-cache, the strict CSP), never served raw, and no data in it without a token."""

import re
from pathlib import Path

import httpx
import pytest

from server.storage import MemoryStorage
from server.web.isolation_headers import ISOLATION_HEADERS
from server.web.site import Site

from .conftest import BUILD_ID

DASHBOARD_TEMPLATE = (
    '<!doctype html><link rel="stylesheet" href="{{VENDOR}}/uplot/uPlot.css">'
    '<script src="{{VENDOR}}/uplot/uPlot.iife.js"></script>'
    '<script type="module" src="/js/dashboard.js"></script>'
)
REAL_DASHBOARD = Path(__file__).resolve().parents[3] / "public" / "dashboard.html"


@pytest.fixture
def deployment() -> str:
    """A page route: the embedded deployment is enough."""
    return "sqlite-fs"


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def public_dir(public_dir: Path) -> Path:
    (public_dir / "dashboard.html").write_text(DASHBOARD_TEMPLATE)
    (public_dir / "dashboard.css").write_text("body { margin: 0 }")
    (public_dir / "js" / "dashboard.js").write_text("export {};")
    return public_dir


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard.html"])
def test_dashboard_points_at_the_current_vendor_build(anonymous: httpx.Client, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert "{{VENDOR}}" not in response.text
    assert f'src="/vendor/{BUILD_ID}/uplot/uPlot.iife.js"' in response.text
    assert f'href="/vendor/{BUILD_ID}/uplot/uPlot.css"' in response.text


def test_dashboard_has_the_security_headers(anonymous: httpx.Client) -> None:
    headers = anonymous.get("/dashboard").headers
    for name, value in ISOLATION_HEADERS.items():
        assert headers[name] == value
    csp = headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval';" in csp  # no 'unsafe-inline'
    assert "default-src 'self'" in csp


def test_dashboard_sets_no_cookie(anonymous: httpx.Client) -> None:
    assert "set-cookie" not in anonymous.get("/dashboard").headers


def test_head_on_the_dashboard(anonymous: httpx.Client) -> None:
    response = anonymous.head("/dashboard")
    assert response.status_code == 200
    assert response.content == b""


def test_its_script_and_styles_are_ordinary_public_files(anonymous: httpx.Client) -> None:
    assert anonymous.get("/js/dashboard.js").headers["content-type"].startswith("text/javascript")
    assert anonymous.get("/dashboard.css").headers["content-type"].startswith("text/css")


def test_the_template_is_never_served_raw(public_dir: Path) -> None:
    assert Site.load(public_dir).public_file("dashboard.html") is None


def test_missing_dashboard_is_a_404(anonymous: httpx.Client, public_dir: Path) -> None:
    (public_dir / "dashboard.html").unlink()
    assert anonymous.get("/dashboard").status_code == 404


def test_the_real_page_has_no_inline_script_or_style_and_loads_only_this_origin() -> None:
    html = REAL_DASHBOARD.read_text(encoding="utf-8")
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"\son[a-z]+\s*=", html) is None, "an inline event handler"
    for tag in html.split("<script")[1:]:
        assert tag.split(">", 1)[1].startswith("</script>"), "an inline script"
        assert 'src="{{VENDOR}}/' in tag or 'src="/js/' in tag
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
