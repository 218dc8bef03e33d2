"""Crash safety: SIGKILL the real server at random moments of a PATCH, restart, resume.

After every restart HEAD must report an offset that covers only bytes that were
sent, are durable and are correct (checked against the data file itself for the
filesystem store), and never less than what was reported before; at the end
the client resumes to a byte-identical file. The moments are drawn from a
seeded RNG, so a failure can be replayed.
"""

import hashlib
import random
import socket
import time
from pathlib import Path

import httpx

from tests.support.medpress_process import MedpressProcess

SEED = 20240917
PIECE = 32 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _stream_until_killed(
    server: MedpressProcess, upload_path: str, offset: int, body: bytes, rng: random.Random
) -> int:
    """PATCH ``body`` at ``offset``; SIGKILL the server after a random share of it.

    The kill comes after a random number of body bytes (from none to all of
    them) plus a random pause of up to 0.3 s, so it lands anywhere: before the
    body, mid-body, mid-checkpoint, or after the last byte but before the answer.
    Returns how many body bytes were handed to the socket.
    """
    head = (
        f"PATCH {upload_path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.token()}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    kill_after = rng.randint(0, len(body))
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port)) as connection:
        try:
            connection.sendall(head)
            while sent < kill_after:
                piece = body[sent : min(sent + PIECE, kill_after)]
                connection.sendall(piece)
                sent += len(piece)
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.3))
        finally:
            server.kill()
    return sent


def _offset(client: httpx.Client, upload_path: str) -> int:
    response = client.head(upload_path, headers=TUS)
    assert response.status_code == 200, response.text
    return int(response.headers["Upload-Offset"])


def _kill_and_resume(
    server: MedpressProcess, data: bytes, rounds: int, uploads_dir: Path | None = None
) -> None:
    rng = random.Random(SEED)
    auth = {"Authorization": f"Bearer {server.token()}"}
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=30) as client:
        created = client.post("/files/", headers={**TUS, "Upload-Length": str(len(data))})
        assert created.status_code == 201, created.text
        upload_path = created.headers["Location"]
    reported = 0
    for round_number in range(rounds):
        sent = _stream_until_killed(server, upload_path, reported, data[reported:], rng)
        server.start()
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=30) as client:
            offset = _offset(client, upload_path)
        context = f"round {round_number} (seed {SEED}): sent {sent} from {reported}, got {offset}"
        assert reported <= offset <= reported + sent, context
        if uploads_dir is not None:  # the durable bytes themselves are right
            with (uploads_dir / upload_path.rsplit("/", 1)[1]).open("rb") as stored:
                assert stored.read(offset) == data[:offset], context
        print(context)
        reported = offset
    assert 0 < reported, "no round made durable progress: the kills came too early"
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as client:
        if reported < len(data):
            response = client.patch(
                upload_path,
                headers={
                    **TUS,
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(reported),
                },
                content=data[reported:],
            )
            assert response.status_code == 204, response.text
        downloaded = client.get(upload_path)
        assert downloaded.status_code == 200
        assert hashlib.sha256(downloaded.content).hexdigest() == hashlib.sha256(data).hexdigest()


def test_filesystem_survives_sigkill_mid_patch(tmp_path: Path) -> None:
    data = random.Random(SEED).randbytes(8 * 1024 * 1024)
    server = MedpressProcess(tmp_path / "var", env={"MEDPRESS_CHECKPOINT_SECONDS": "0.1"})
    server.start()
    try:
        _kill_and_resume(server, data, rounds=7, uploads_dir=tmp_path / "var" / "uploads")
    finally:
        server.stop()


def test_s3_survives_sigkill_mid_patch(tmp_path: Path, s3_endpoint: str, s3_client) -> None:  # type: ignore[no-untyped-def]
    from tests.support.moto_s3 import CREDENTIALS, new_bucket

    data = random.Random(SEED + 1).randbytes(12 * 1024 * 1024)  # crosses two 5 MiB parts
    bucket = new_bucket(s3_client)
    server = MedpressProcess(
        tmp_path / "var",
        env=CREDENTIALS,
        args=["--storage", "s3", "--s3-bucket", bucket, "--s3-endpoint-url", s3_endpoint],
    )
    server.start()
    try:
        _kill_and_resume(server, data, rounds=4)
    finally:
        server.stop()
