"""Run the real ``medpress serve`` as a subprocess on a free loopback port.

Used by the conformance suite (when no ``--tus-url`` is given), the crash test,
the interop tests and the ingest benchmark. Ends only the process it started.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

MEDPRESS = Path(sys.executable).parent / "medpress"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MedpressProcess:
    def __init__(
        self,
        data_dir: Path,
        *,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        secret: str | None = None,
        program: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.secret = secret or secrets.token_hex(32)
        self.port = 0
        self._env = env or {}
        self._args = args or []
        self._program = program or [str(MEDPRESS)]  # another build of medpress, for benchmarks
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def token(self, user: str = "conformance", case: str | None = None, admin: bool = False) -> str:
        from server.auth.tokens import mint_token

        return mint_token(self.secret, user, case, admin=admin)

    def start(self, timeout: float = 30) -> Self:
        for _ in range(3):  # another process may take the free port before we bind it
            self.port = free_port()
            if self._launch(timeout):
                return self
        raise RuntimeError(f"medpress did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, as in a power cut of the process."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self, timeout: float) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MEDPRESS_SECRET": self.secret, **self._env}
        command = [*self._program, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), *self._args]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        return False
