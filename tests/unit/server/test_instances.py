"""Several instances on one PostgreSQL and one bucket: any instance serves any request.

Two real ``medpress serve`` processes share a database (migrated by ``medpress
migrate``), an S3 bucket on moto's server and the signing secret. Chunks of one
upload alternate between them; a PATCH on each never interleave; a silent PATCH
on one yields to the resumed one on the other; one is SIGKILLed mid-PATCH and
its lock clears; the expiry sweep runs on one instance at a time.
"""

import hashlib
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.medpress_process import MedpressProcess
from tests.support.moto_s3 import CREDENTIALS, new_bucket

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"
SECRET = "shared-secret-of-the-cluster-0123456789"


class Cluster:
    def __init__(self, tmp_path: Path, database_url: str, s3_endpoint: str, bucket: str) -> None:
        self._tmp = tmp_path
        self._args = ["--database-url", database_url, "--storage", "s3", "--s3-bucket", bucket]
        self._args += ["--s3-endpoint-url", s3_endpoint]
        self.instances: list[MedpressProcess] = []

    def start(self, count: int = 2, **env: str) -> list[MedpressProcess]:
        for index in range(count):
            process = MedpressProcess(
                self._tmp / f"instance-{len(self.instances)}",
                env={**CREDENTIALS, **env},
                args=self._args,
                secret=SECRET,
            )
            self.instances.append(process)
        for process in self.instances[-count:]:
            process.start()
        return self.instances[-count:]

    def stop(self) -> None:
        for process in self.instances:
            process.stop()


@pytest.fixture
def cluster(
    tmp_path: Path, database_url: str, s3_endpoint: str, s3_client: object
) -> Iterator[Cluster]:
    made = Cluster(tmp_path, database_url, s3_endpoint, new_bucket(s3_client))
    yield made
    made.stop()


def _client(process: MedpressProcess, user: str = "nurse") -> httpx.Client:
    auth = {"Authorization": f"Bearer {process.token(user)}"}
    return httpx.Client(base_url=process.base_url, headers=auth, timeout=30)


def _create(process: MedpressProcess, length: int) -> str:
    with _client(process) as client:
        created = client.post("/files/", headers={**TUS, "Upload-Length": str(length)})
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def _patch(process: MedpressProcess, path: str, offset: int, data: bytes) -> httpx.Response:
    with _client(process) as client:
        headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": str(offset)}
        return client.patch(path, headers=headers, content=data)


def _offset(process: MedpressProcess, path: str) -> int:
    with _client(process) as client:
        head = client.head(path, headers=TUS)
    assert head.status_code == 200, head.status_code
    return int(head.headers["Upload-Offset"])


def _download(process: MedpressProcess, path: str) -> bytes:
    with _client(process) as client:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return response.content


class _SlowPatch(threading.Thread):
    """A PATCH sent over a raw socket a piece at a time (a phone on poor Wi-Fi).

    With ``hang_after``, it stops sending after that many bytes and keeps the
    connection open without a FIN, as a phone whose connection died silently.
    """

    def __init__(
        self,
        process: MedpressProcess,
        path: str,
        body: bytes,
        pause: float,
        hang_after: int | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.process, self.path, self.body, self.pause = process, path, body, pause
        self.hang_after = len(body) if hang_after is None else hang_after
        self.status: int | None = None
        self.sent = 0

    def run(self) -> None:
        head = (
            f"PATCH {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.process.port}\r\n"
            f"Authorization: Bearer {self.process.token('nurse')}\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: {OCTETS}\r\nUpload-Offset: 0\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n"
        ).encode()
        try:
            with socket.create_connection(("127.0.0.1", self.process.port), timeout=60) as sock:
                sock.sendall(head)
                while self.sent < self.hang_after:
                    piece = self.body[self.sent : min(self.sent + 4096, self.hang_after)]
                    sock.sendall(piece)
                    self.sent += len(piece)
                    time.sleep(self.pause)
                match = re.match(r"HTTP/1.1 (\d+)", sock.recv(4096).decode(errors="replace"))
                self.status = int(match.group(1)) if match else None
        except OSError:
            self.status = None


def test_chunks_alternate_between_instances(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    data = random.Random(1).randbytes(12 * 1024 * 1024 + 777)
    path = _create(a, len(data))
    offset, chunk, turn = 0, 1024 * 1024 + 333, 0
    while offset < len(data):
        server = (a, b)[turn % 2]
        assert _offset(server, path) == offset
        reply = _patch(server, path, offset, data[offset : offset + chunk])
        assert reply.status_code == 204, reply.text
        offset = int(reply.headers["Upload-Offset"])
        turn += 1
    for server in (a, b):
        assert hashlib.sha256(_download(server, path)).digest() == hashlib.sha256(data).digest()


def test_a_token_and_a_session_cookie_from_one_instance_work_on_the_other(
    cluster: Cluster,
) -> None:
    a, b = cluster.start(2)
    path = _create(a, 3)
    assert _patch(b, path, 0, b"abc").status_code == 204
    with httpx.Client(base_url=a.base_url) as page_on_a:
        assert page_on_a.get("/").status_code == 200
        cookie = dict(page_on_a.cookies)
    with httpx.Client(base_url=b.base_url, cookies=cookie) as page_on_b:
        created = page_on_b.post("/files/", headers={**TUS, "Upload-Length": "1"})
        assert created.status_code == 201


def test_patches_on_two_instances_never_interleave(cluster: Cluster) -> None:
    a, b = cluster.start(2, MEDPRESS_LOCK_WAIT="0.5", MEDPRESS_LOCK_STALE_AFTER="30")
    data = random.Random(2).randbytes(400 * 1024)
    path = _create(a, len(data))
    slow = _SlowPatch(a, path, data, pause=0.01)  # about 1 s of steady sending
    slow.start()
    while slow.sent < 64 * 1024:
        time.sleep(0.01)
    intruder = _patch(b, path, 0, b"x" * 1000)
    assert intruder.status_code == 423, intruder.text  # busy on the other instance
    slow.join(30)
    assert slow.status == 204
    assert _download(b, path) == data


def test_a_silent_patch_on_one_instance_yields_to_the_resumed_one(cluster: Cluster) -> None:
    a, b = cluster.start(
        2,
        MEDPRESS_LOCK_WAIT="0.5",
        MEDPRESS_LOCK_STALE_AFTER="1",
        MEDPRESS_CHECKPOINT_SECONDS="0.1",
    )
    data = random.Random(3).randbytes(200 * 1024)
    path = _create(a, len(data))
    ghost = _SlowPatch(a, path, data, pause=0.001, hang_after=50 * 1024)
    ghost.start()
    while ghost.sent < 50 * 1024:
        time.sleep(0.01)
    time.sleep(1.5)  # silent for longer than the stale time
    deadline = time.monotonic() + 20
    while True:
        offset = _offset(b, path)
        reply = _patch(b, path, offset, data[offset:])
        if reply.status_code == 204 or time.monotonic() > deadline:
            break
        assert reply.status_code in (409, 423), reply.text  # moved on meanwhile, or yielding
        time.sleep(0.2)
    assert reply.status_code == 204, reply.text
    assert _download(a, path) == data
    ghost.join(10)
    assert ghost.status == 204  # the ghost yielded: it recorded its bytes and answered


def test_an_instance_killed_mid_patch_leaves_no_lock_behind(cluster: Cluster) -> None:
    a, b = cluster.start(2, MEDPRESS_LOCK_WAIT="1", MEDPRESS_CHECKPOINT_SECONDS="0.1")
    data = random.Random(4).randbytes(600 * 1024)
    path = _create(a, len(data))
    slow = _SlowPatch(a, path, data, pause=0.01)
    slow.start()
    while slow.sent < 200 * 1024:
        time.sleep(0.01)
    a.kill()
    slow.join(10)
    started = time.monotonic()
    offset = _offset(b, path)
    assert 0 <= offset <= slow.sent
    reply = _patch(b, path, offset, data[offset:])
    assert reply.status_code == 204, reply.text  # A's lock died with A's connection
    assert time.monotonic() - started < 10
    a.start()  # restarted, it serves the same upload
    assert hashlib.sha256(_download(a, path)).digest() == hashlib.sha256(data).digest()


def test_the_sweep_runs_on_one_instance_at_a_time(cluster: Cluster) -> None:
    a, b = cluster.start(2, MEDPRESS_UPLOAD_EXPIRY="1", MEDPRESS_SWEEP_INTERVAL="0.05")
    paths = [_create((a, b)[n % 2], 10) for n in range(80)]
    expected = sorted(p.rsplit("/", 1)[1] for p in paths)
    deadline = time.monotonic() + 30
    removed: list[str] = []
    while time.monotonic() < deadline:  # until every removal is logged (the row goes first)
        logs = a.log_path.read_text() + b.log_path.read_text()
        removed = re.findall(r"upload removed id=([0-9a-f]{32}) reason=expired", logs)
        if len(removed) >= len(expected):
            break
        time.sleep(0.2)
    time.sleep(0.5)  # and nothing more comes
    logs = a.log_path.read_text() + b.log_path.read_text()
    removed = re.findall(r"upload removed id=([0-9a-f]{32}) reason=expired", logs)
    assert sorted(removed) == expected  # each exactly once
    with _client(a) as client:
        assert all(client.head(p, headers=TUS).status_code == 404 for p in paths)
    # both tried every 50 ms while one spent many of them removing: the other stood aside
    assert "sweep skipped: another instance is sweeping" in logs
