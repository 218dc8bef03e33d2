"""E2e set-up: the real medpress server on a free loopback port, Debian Chromium
driven by Playwright, and a guard that fails any test whose page reaches beyond
127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.medpress_process import MedpressProcess

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@dataclass
class Server:
    url: str
    data_dir: Path
    process: MedpressProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    build = ROOT / "public" / "vendor" / "build.json"
    assert build.is_file(), "browser assets are not built: run `make test` (or `make build`)"
    json.loads(build.read_text())
    data_dir = tmp_path_factory.mktemp("var")
    with MedpressProcess(data_dir) as process:
        yield Server(url=process.base_url, data_dir=data_dir, process=process)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def outside_requests(context) -> Iterator[list[str]]:
    """Abort (and record) every request that is not to loopback; fail the test if any."""
    seen: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("http://", "https://", "ws://", "wss://")) and host not in LOOPBACK:
            seen.append(url)
            route.abort()
        else:
            route.fallback()

    context.route("**/*", guard)
    yield seen
    assert seen == [], f"the page tried to reach beyond 127.0.0.1: {seen}"


LOAD_TIMEOUT_MS = 90_000


@pytest.fixture
def open_app(page, server: Server, outside_requests):
    """Open the medpress page (with an optional query such as "?engine=ffmpeg"), recording
    every status state it passes through, and wait until Python is ready."""

    def open_(query: str = ""):
        page.add_init_script(STATE_RECORDER)
        page.goto(server.url + "/" + query)
        expect(page.get_by_test_id("status")).to_have_attribute("data-state", "ready", timeout=LOAD_TIMEOUT_MS)
        return page

    return open_


@pytest.fixture
def app_page(open_app):
    return open_app()


def upload_metadata(page, url: str) -> dict[str, str]:
    """The tus Upload-Metadata of an upload, read with HEAD as its owner."""
    response = page.request.head(url, headers={"Tus-Resumable": "1.0.0"})
    assert response.status == 200, response.status
    pairs = (item.split(" ") for item in response.headers.get("upload-metadata", "").split(",") if item)
    return {key: base64.b64decode(value[0]).decode() if value else "" for key, *value in pairs}


def stored_uploads(server: Server) -> set[str]:
    return {p.name for p in (server.data_dir / "uploads").glob("*") if not p.name.endswith(".info")}


# Records each (state, percent) the status element shows, for assertions on progress.
STATE_RECORDER = """
window.__medpressStates = [];
new MutationObserver(() => {
  const status = document.querySelector('[data-testid="status"]');
  const bar = document.querySelector('[data-testid="progress"]');
  if (!status) return;
  const last = window.__medpressStates.at(-1);
  const entry = {state: status.dataset.state, percent: bar && bar.hasAttribute('value') ? bar.value : null};
  if (!last || last.state !== entry.state || last.percent !== entry.percent) window.__medpressStates.push(entry);
}).observe(document, {subtree: true, attributes: true, childList: true, characterData: true});
"""
