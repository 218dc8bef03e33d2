"""Nothing acknowledged is ever lost: faults injected into the real server at finishing.

The last PATCH of an upload makes every byte durable and recorded, then the
server must finish it (S3: CompleteMultipartUpload). Here the process is
SIGKILLed between the two (and, on S3, right after CompleteMultipartUpload
succeeded but before the registry heard of it), or S3 answers the completion
with an error. Each time the upload must end downloadable and byte-identical,
finished either by the next HEAD or by the sweep (which must never delete it,
even with its expiry long past), and HEAD must never report offset = length
before it is finished.
"""

import hashlib
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.medpress_process import MedpressProcess
from tests.support.moto_s3 import CREDENTIALS, new_bucket

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"
SIZE = 6 * 1024 * 1024 + 12_345  # on S3: one full part and a tail


class _Server:
    """One data dir (and bucket), restarted with different settings."""

    def __init__(self, tmp_path: Path, storage_args: list[str], env: dict[str, str]) -> None:
        self.data_dir = tmp_path / "var"
        self.storage_args = storage_args
        self.env = env
        self.process: MedpressProcess | None = None
        self.secret = "fault-test-secret-0123456789abcdef"

    def start(self, **env: str) -> MedpressProcess:
        self.stop()
        self.process = MedpressProcess(
            self.data_dir, env={**self.env, **env}, args=self.storage_args, secret=self.secret
        ).start()
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def client(self) -> httpx.Client:
        assert self.process is not None
        auth = {"Authorization": f"Bearer {self.process.token('nurse')}"}
        return httpx.Client(base_url=self.process.base_url, headers=auth, timeout=30)

    def state(self, upload_id: str) -> tuple[str, int]:
        with sqlite3.connect(self.data_dir / "medpress.db") as db:
            row = db.execute('SELECT state, "offset" FROM uploads WHERE id = ?', (upload_id,))
            found = row.fetchone()
        assert found is not None, "the upload's row is gone"
        return found


def _server(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> _Server:
    if kind == "filesystem":
        return _Server(tmp_path, [], {})
    s3_client = request.getfixturevalue("s3_client")
    endpoint = request.getfixturevalue("s3_endpoint")
    args = ["--storage", "s3", "--s3-bucket", new_bucket(s3_client)]
    return _Server(tmp_path, [*args, "--s3-endpoint-url", endpoint], dict(CREDENTIALS))


@pytest.fixture(params=["filesystem", "s3"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Server]:
    made = _server(request, tmp_path, request.param)
    yield made
    made.stop()


@pytest.fixture
def s3_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Server]:
    made = _server(request, tmp_path, "s3")
    yield made
    made.stop()


def _send_all(server: _Server, data: bytes) -> tuple[str, httpx.Response | None]:
    """Create the upload and PATCH every byte; the answer is None if the server died."""
    with server.client() as client:
        created = client.post("/files/", headers={**TUS, "Upload-Length": str(len(data))})
        assert created.status_code == 201, created.text
        path = created.headers["Location"]
        headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": "0"}
        try:
            return path, client.patch(path, headers=headers, content=data)
        except httpx.TransportError:
            return path, None


def _assert_stored(server: _Server, path: str, data: bytes) -> None:
    with server.client() as client:
        head = client.head(path, headers=TUS)
        assert head.status_code == 200, head.status_code
        assert head.headers["Upload-Offset"] == str(len(data))
        assert server.state(path.rsplit("/", 1)[1])[0] == "finished"  # before HEAD answered
        download = client.get(path)
        assert download.status_code == 200, download.text
        assert hashlib.sha256(download.content).digest() == hashlib.sha256(data).digest()


def _sweep_with_expiry_past(server: _Server, upload_id: str) -> None:
    """Restart with every upload's expiry long past and a fast sweep; let it run."""
    log = server.start(MEDPRESS_UPLOAD_EXPIRY="0.001", MEDPRESS_SWEEP_INTERVAL="0.05").log_path
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.state(upload_id)[0] != "finished":
        time.sleep(0.05)
    time.sleep(0.3)  # a few more sweeps
    assert server.state(upload_id)[0] == "finished", log.read_text()[-2000:]


@pytest.mark.parametrize("then", ["head", "sweep"])
def test_killed_between_last_write_and_finishing(server: _Server, then: str) -> None:
    data = random.Random(1).randbytes(SIZE)
    server.start(MEDPRESS_FAULTS="kill-before-finish")
    path, answer = _send_all(server, data)
    assert answer is None, "the fault should have killed the server before it answered"
    upload_id = path.rsplit("/", 1)[1]
    assert server.state(upload_id) == ("receiving", SIZE)  # every byte recorded, not finished
    if then == "sweep":
        _sweep_with_expiry_past(server, upload_id)  # the sweep finishes it, never deletes it
    else:
        server.start()  # the next HEAD finishes it before reporting the full offset
    _assert_stored(server, path, data)
    _sweep_with_expiry_past(server, upload_id)
    _assert_stored(server, path, data)


def test_s3_killed_after_completing_before_recording(s3_server: _Server) -> None:
    server = s3_server
    data = random.Random(2).randbytes(SIZE)
    server.start(MEDPRESS_FAULTS="kill-after-complete")
    path, answer = _send_all(server, data)
    assert answer is None
    upload_id = path.rsplit("/", 1)[1]
    assert server.state(upload_id) == ("receiving", SIZE)
    server.start()  # finishing again must recognise the completed upload, not re-send the tail
    _assert_stored(server, path, data)
    _sweep_with_expiry_past(server, upload_id)
    _assert_stored(server, path, data)


def test_s3_completion_failing_once(s3_server: _Server) -> None:
    server = s3_server
    data = random.Random(3).randbytes(SIZE)
    server.start(MEDPRESS_FAULTS="s3-complete-error")
    path, answer = _send_all(server, data)
    assert answer is not None and answer.status_code == 503, answer
    assert answer.headers["Retry-After"]
    upload_id = path.rsplit("/", 1)[1]
    assert server.state(upload_id) == ("receiving", SIZE)
    _assert_stored(server, path, data)  # the retry (HEAD) finishes it
    _sweep_with_expiry_past(server, upload_id)
    _assert_stored(server, path, data)
