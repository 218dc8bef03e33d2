"""OPTIONS /files/: tus discovery, open to anyone."""

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.storage import Capability, MemoryStorage

from .tus_requests import Call, Expect, check

DISCOVERY = {
    "Tus-Resumable": "1.0.0",
    "Tus-Version": "1.0.0",
    "Tus-Extension": "creation",
    "Tus-Max-Size": str(64 * 1024 * 1024),
}


@pytest.mark.parametrize("path", ["/files/", "/files"])
@pytest.mark.parametrize("tus", [True, False], ids=["with-tus-resumable", "without"])
def test_discovery_needs_no_session_and_no_version(
    anonymous: httpx.Client, path: str, tus: bool
) -> None:
    check(anonymous, Call("OPTIONS", path, tus=tus), Expect(204, headers=DISCOVERY))


class _StorageWith(MemoryStorage):
    def __init__(self, capabilities: frozenset[Capability]) -> None:
        super().__init__()
        self.capabilities = capabilities


@pytest.mark.parametrize(
    ("capabilities", "advertised"),
    [
        (frozenset({Capability.CREATION}), "creation"),
        # the protocol layer does not implement termination yet, so it is not advertised
        (frozenset({Capability.CREATION, Capability.TERMINATION}), "creation"),
        (frozenset(), None),
    ],
)
def test_extensions_are_what_the_storage_supports(make_settings, capabilities, advertised) -> None:
    app = create_app(make_settings(), storage=_StorageWith(capabilities))
    with TestClient(app) as client:
        response = client.options("/files/")
    assert response.headers.get("Tus-Extension") == advertised
