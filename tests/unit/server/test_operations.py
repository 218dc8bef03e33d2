"""Operating the real server: readiness, graceful shutdown, an outdated schema refused."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.medpress_process import MedpressProcess
from tests.support.postgres import new_database

TUS = {"Tus-Resumable": "1.0.0"}
MEDPRESS = Path(sys.executable).parent / "medpress"


def test_readyz_turns_503_when_storage_is_gone(tmp_path: Path) -> None:
    with MedpressProcess(tmp_path / "var") as server:
        assert httpx.get(f"{server.base_url}/readyz").json()["status"] == "ready"
        (tmp_path / "var" / "uploads").rename(tmp_path / "elsewhere")
        response = httpx.get(f"{server.base_url}/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "not-ready", "database": True, "storage": False}
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200  # alive, not ready


def test_sigterm_lets_a_patch_finish_its_bytes_and_records_them(tmp_path: Path) -> None:
    """A rolling restart: SIGTERM mid-PATCH loses no byte the server received."""
    env = {"MEDPRESS_SHUTDOWN_GRACE": "1", "MEDPRESS_CHECKPOINT_SECONDS": "30"}
    server = MedpressProcess(tmp_path / "var", env=env).start()
    try:
        auth = {"Authorization": f"Bearer {server.token('nurse')}"}
        length = 4 * 1024 * 1024
        created = httpx.post(
            f"{server.base_url}/files/", headers={**TUS, **auth, "Upload-Length": str(length)}
        )
        path = created.headers["Location"]
        sent = [0]

        def send_slowly() -> None:
            head = (
                f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth['Authorization']}"
                f"\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Upload-Offset: 0\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
            try:
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(head)
                    while sent[0] < length:
                        sock.sendall(b"m" * 8192)
                        sent[0] += 8192
                        time.sleep(0.005)
            except OSError:
                pass  # the server went away

        sender = threading.Thread(target=send_slowly, daemon=True)
        sender.start()
        while sent[0] < 256 * 1024:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGTERM)
        sent_at_sigterm = sent[0]
        started = time.monotonic()
        server._process.wait(timeout=15)  # type: ignore[union-attr]
        assert time.monotonic() - started < 10  # the grace period, then out
        sender.join(5)
        server.start()
        head = httpx.head(f"{server.base_url}{path}", headers={**TUS, **auth})
        offset = int(head.headers["Upload-Offset"])
        # checkpoints are 30 s apart: only the shutdown can have recorded these bytes
        assert sent_at_sigterm - 64 * 1024 <= offset <= sent[0]
    finally:
        server.stop()


def test_serve_refuses_a_postgres_schema_that_is_not_migrated(
    postgres_dsn: str, tmp_path: Path
) -> None:
    empty = new_database(postgres_dsn)
    env = {**os.environ, "MEDPRESS_SECRET": "s" * 32}
    served = subprocess.run(
        [str(MEDPRESS), "serve", "--port", "1", "--data-dir", str(tmp_path)]
        + ["--database-url", empty],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode != 0
    assert "medpress migrate" in served.stdout + served.stderr
    migrated = subprocess.run(
        [str(MEDPRESS), "migrate", "--database-url", empty, "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0 and "postgresql" in migrated.stdout
