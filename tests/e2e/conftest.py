"""E2e set-up: the real medpress server on a free loopback port, Debian Chromium
driven by Playwright, and a guard that fails any test whose page reaches beyond
127.0.0.1. Every fixture and helper comes from the QA kit (tests/e2e/kit/)."""

from __future__ import annotations

import os

import pytest

from tests.e2e.kit.plugin import (
    app_page,
    battery,
    browser_type_launch_args,
    detached_chromium,
    medpress_server,
    open_app,
    outside_requests,
)
from tests.e2e.kit.server import (
    LOAD_TIMEOUT_MS,
    LOOPBACK,
    ROOT,
    STATE_RECORDER,
    Server,
    stored_uploads,
    upload_metadata,
)

__all__ = [
    "LOAD_TIMEOUT_MS", "LOOPBACK", "ROOT", "STATE_RECORDER", "Server", "app_page", "battery",
    "browser_type_launch_args", "detached_chromium", "medpress_server", "open_app",
    "outside_requests", "server", "stored_uploads", "upload_metadata",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def server(medpress_server: Server) -> Server:
    """The real medpress server (the kit's ``medpress_server``, under its usual name here)."""
    return medpress_server
