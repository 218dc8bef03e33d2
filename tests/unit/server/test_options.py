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
    "Tus-Extension": "creation,creation-with-upload,creation-defer-length,expiration,"
    "checksum,termination,concatenation",
    "Tus-Max-Size": str(64 * 1024 * 1024),
    "Tus-Checksum-Algorithm": "sha1,sha256,md5",
}


@pytest.mark.parametrize("path", ["/files/", "/files"])
@pytest.mark.parametrize("tus", [True, False], ids=["with-tus-resumable", "without"])
def test_discovery_needs_no_session_and_no_version(
    anonymous: httpx.Client, path: str, tus: bool
) -> None:
    check(anonymous, Call("OPTIONS", path, tus=tus), Expect(204, headers=DISCOVERY))


@pytest.mark.parametrize(
    ("capabilities", "advertised", "algorithms"),
    [
        (frozenset({Capability.CREATION}), "creation", None),
        (
            frozenset({Capability.CHECKSUM, Capability.TERMINATION, Capability.CREATION}),
            "creation,checksum,termination",
            "sha1,sha256,md5",
        ),
        (frozenset(), None, None),
    ],
)
def test_extensions_are_what_the_storage_supports(
    make_settings, capabilities, advertised, algorithms
) -> None:
    app = create_app(make_settings(), storage=MemoryStorage(capabilities))
    with TestClient(app) as client:
        response = client.options("/files/")
    assert response.headers.get("Tus-Extension") == advertised
    assert response.headers.get("Tus-Checksum-Algorithm") == algorithms


def test_unadvertised_extensions_are_refused(make_settings) -> None:
    app = create_app(make_settings(), storage=MemoryStorage(frozenset({Capability.CREATION})))
    with TestClient(app) as client:
        client.get("/")
        tus = {"Tus-Resumable": "1.0.0"}
        deferred = client.post("/files/", headers={**tus, "Upload-Defer-Length": "1"})
        assert deferred.json()["code"] == "ERR_DEFER_LENGTH_UNSUPPORTED"
        partial = client.post(
            "/files/", headers={**tus, "Upload-Length": "1", "Upload-Concat": "partial"}
        )
        assert partial.json()["code"] == "ERR_EXTENSION_NOT_SUPPORTED"
        location = client.post("/files/", headers={**tus, "Upload-Length": "3"}).headers["location"]
        assert client.delete(location, headers=tus).status_code == 405
        checked = client.patch(
            location,
            headers={
                **tus,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": "sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
            },
            content=b"abc",
        )
        assert checked.status_code == 400
        assert "Upload-Expires" not in client.head(location, headers=tus).headers
