"""Logs carry ids, sizes and codes: never metadata; tracebacks only for server errors."""

import base64
import logging

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.db.registry import MemoryRegistry
from server.storage import MemoryStorage

from .tus_requests import TUS, append, create_upload, metadata


def test_upload_logs_hold_no_metadata(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = "Jane Doe MRN 1234567.mp4"
    upload_id = create_upload(client, 4, metadata(filename=name, reason="bleeding"))
    append(client, upload_id, 0, b"data")
    client.head(f"/files/{upload_id}", headers=TUS)
    client.post(
        "/files/", headers={**TUS, "Upload-Length": "1", "Upload-Metadata": metadata(mrn=name)}
    )
    assert f"upload complete id={upload_id} size=4" in caplog.text
    for leak in ("Jane", "1234567", "bleeding", base64.b64encode(name.encode()).decode()[:12]):
        assert leak not in caplog.text


class _BrokenRegistry(MemoryRegistry):
    async def get(self, upload_id: str):  # type: ignore[no-untyped-def]
        raise OSError("disk on fire")


def test_only_server_errors_leave_a_traceback(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(), storage=MemoryStorage(), registry=_BrokenRegistry())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/")
        caplog.clear()
        assert client.head("/files/" + "0" * 32).status_code == 412
        assert client.get("/no-such-file").status_code == 404
        assert "Traceback" not in caplog.text
        assert client.head("/files/" + "0" * 32, headers=TUS).status_code == 500
    assert "disk on fire" in caplog.text
