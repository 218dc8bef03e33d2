"""Every bypass is in an append-only audit trail (admins read it), and every emergency
bypass reaches the staff webhook. Nothing that could name a patient is in either."""

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import ClassVar

import httpx
import pytest
from litestar.testing import TestClient

from server import cli
from server.app import create_app
from server.audit.trail import bypass_entry
from server.db.registry import UploadInfo
from server.settings import Settings
from server.storage import MemoryStorage

from .tus_requests import create_upload, metadata

NAME = "Jane Doe MRN 1234567.mp4"


def _info(**meta: str) -> UploadInfo:
    return UploadInfo(id="a" * 32, owner="user:dr", length=9, metadata=meta)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"bypass": "1", "reason": "bypass", "priority": "routine"}, ("bypass", "routine")),
        ({"reason": "emergency", "priority": "emergency"}, ("emergency", "emergency")),
        ({"bypass": "1", "reason": "Jane Doe", "priority": "x"}, ("other", "unknown")),
        ({"reason": "little-gain", "priority": "routine"}, None),  # not a bypass
        ({}, None),
    ],
)
def test_what_counts_as_a_bypass(meta: dict[str, str], expected: tuple[str, str] | None) -> None:
    entry = bypass_entry(_info(filename=NAME, **meta), 5.0)
    if expected is None:
        assert entry is None
    else:
        assert entry is not None and (entry.reason, entry.priority) == expected
        assert (entry.principal, entry.upload_id, entry.size, entry.at) == (
            "user:dr",
            "a" * 32,
            9,
            5.0,
        )


def test_admins_read_every_bypass_and_only_they_may(
    bearer: Callable[..., httpx.Client], anonymous: httpx.Client
) -> None:
    nurse = bearer("nurse")
    bypassed = create_upload(
        nurse, 5, metadata(filename=NAME, bypass="1", reason="bypass", priority="urgent")
    )
    create_upload(nurse, 5, metadata(filename=NAME, reason="little-gain"))  # not a bypass
    emergency = create_upload(nurse, 7, metadata(reason="emergency", priority="emergency"))
    response = bearer("chief", admin=True).get("/api/audit")
    assert response.status_code == 200, response.text
    entries = response.json()
    assert [(e["upload_id"], e["reason"], e["priority"], e["size"]) for e in entries] == [
        (emergency, "emergency", "emergency", 7),
        (bypassed, "bypass", "urgent", 5),
    ]
    assert all(e["principal"] == "user:nurse" and e["at"] > 0 for e in entries)
    assert "Jane" not in response.text
    assert nurse.get("/api/audit").status_code == 403
    assert anonymous.get("/api/audit").status_code == 401
    assert bearer("chief", admin=True).get("/api/audit?limit=0").status_code == 400


def test_the_audit_command_lists_bypasses(make_settings, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(data_dir=tmp_path)
    with TestClient(create_app(settings, storage=MemoryStorage())) as client:
        client.get("/")
        upload = create_upload(client, 3, metadata(filename=NAME, bypass="1", reason="bypass"))
    assert cli.main(["audit", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"\t{upload}\tbypass\t" in out and "Jane" not in out


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/bypass"
    finally:
        server.shutdown()
        server.server_close()


def test_every_emergency_bypass_reaches_the_staff_webhook(
    make_settings: Callable[..., Settings], receiver: str
) -> None:
    settings = make_settings(bypass_webhook_url=receiver)
    with TestClient(create_app(settings, storage=MemoryStorage())) as client:
        client.get("/")
        routine = create_upload(client, 3, metadata(filename=NAME, bypass="1", reason="bypass"))
        urgent = create_upload(
            client, 4, metadata(filename=NAME, bypass="1", reason="emergency", priority="emergency")
        )
        deadline = time.monotonic() + 10
        while not _Receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    [event] = _Receiver.received  # the routine bypass is audited, not broadcast
    assert event["event"] == "emergency-bypass" and event["upload_id"] == urgent
    assert event["size"] == 4 and event["reason"] == "emergency"
    assert routine not in json.dumps(_Receiver.received) and "Jane" not in json.dumps(event)
