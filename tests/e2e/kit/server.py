"""The live medpress server for browser tests, the page-state recorder, what the server
stored, and the guard that keeps the page on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from server.storage.ids import is_upload_id
from tests.support.medpress_process import MedpressProcess

ROOT = Path(__file__).resolve().parents[3]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
LOAD_TIMEOUT_MS = 90_000  # cold page load until Python is ready, on a busy 2-core machine


@dataclass
class Server:
    """A running ``medpress serve``: its base URL, data directory and process."""

    url: str
    data_dir: Path
    process: MedpressProcess


@contextmanager
def running_server(data_dir: Path) -> Iterator[Server]:
    """Start the real server on a free loopback port with ``data_dir``; stop it on exit."""
    build = ROOT / "public" / "vendor" / "build.json"
    assert build.is_file(), "browser assets are not built: run `make test` (or `make build`)"
    json.loads(build.read_text())
    with MedpressProcess(data_dir) as process:
        yield Server(url=process.base_url, data_dir=data_dir, process=process)


def upload_metadata(page, url: str) -> dict[str, str]:
    """The tus Upload-Metadata of an upload, read with HEAD as its owner."""
    response = page.request.head(url, headers={"Tus-Resumable": "1.0.0"})
    assert response.status == 200, response.status
    pairs = (item.split(" ") for item in response.headers.get("upload-metadata", "").split(",") if item)
    return {key: base64.b64decode(value[0]).decode() if value else "" for key, *value in pairs}


def stored_uploads(server: Server) -> set[str]:
    """Ids of the uploads the server holds: their bytes, not their .info files nor the
    storage's own marker files (written by the periodic orphan pass, at any moment)."""
    return {p.name for p in (server.data_dir / "uploads").iterdir() if is_upload_id(p.name)}


def is_outside(url: str) -> bool:
    """Whether a request URL goes over the network to a host other than loopback."""
    host = urlsplit(url).hostname or ""
    return url.startswith(("http://", "https://", "ws://", "wss://")) and host not in LOOPBACK


def guard_outside_requests(context, seen: list[str] | None = None) -> list[str]:
    """Abort every request of ``context`` that leaves loopback, recording its URL in ``seen``
    (a new list by default), which it returns.

    A context route on ``**/*`` that falls back for loopback, so page routes (faults.py)
    run first and may still fulfil, abort or fall back to it."""
    seen = [] if seen is None else seen

    def guard(route) -> None:
        if is_outside(route.request.url):
            seen.append(route.request.url)
            route.abort()
        else:
            route.fallback()

    context.route("**/*", guard)
    return seen


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
