"""A real Unleash server (npm ``unleash-server``, pinned in tests/interop/package.json) on
loopback, over a PostgreSQL database the tests made, for medpress's ``--flags-url`` tests.

Started with Node from ``tests/interop/node_modules`` on a free ``127.0.0.1`` port, with an
admin API token given at start (``INIT_ADMIN_API_TOKENS``), so everything else (context
fields, client tokens, features, strategies, segments) is made through the admin API, as an
operator's scripts would. It must not reach the internet: the version check and telemetry are
off, and the version URL points at a closed loopback port in case a later release ignores
the switch. Its log (the request log included: ``REQUEST_LOGGER_ENABLE``) is kept in
``log_path`` for debugging, and read by the tests to see what Unleash answered (a 304 to a
revalidation). Ends only the process it started, by its PID.

Unleash 7 has no ``default`` environment on a fresh database (only ``development`` and
``production``); the tests use ``development``, Unleash's default for new tokens.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from tests.support.medpress_process import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_JS = ROOT / "tests" / "interop" / "node_modules" / "unleash-server" / "dist" / "server.js"
ENVIRONMENT = "development"
PROJECT = "default"
START_ATTEMPTS = 3
_REQUEST = re.compile(r"\bHTTP - (?:\x1b\[[0-9;]*m)?(\d{3}) ([A-Z]+) (\S+)")


def server_script() -> Path:
    """unleash-server's entry point; a clear failure (never a skip) when it is missing."""
    assert SERVER_JS.exists(), (
        f"unleash-server is not installed ({SERVER_JS} is missing): run `make setup` "
        "(it runs `npm ci --prefix tests/interop`)"
    )
    return SERVER_JS


def node() -> str:
    found = shutil.which("node")
    assert found, "Node.js is required to run unleash-server: install nodejs (>= 20)"
    return found


class UnleashServer:
    """``with UnleashServer(database_url, log_path) as unleash:`` a healthy server, with an
    admin client (``unleash.admin``) and helpers for the admin and client APIs."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.admin_token = f"*:*.{secrets.token_hex(24)}"  # all projects, all environments
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def admin(self) -> httpx.Client:
        assert self._admin is not None, "the Unleash server is not running"
        return self._admin

    # Running.

    def start(self, timeout: float = 90) -> Self:
        script = server_script()
        for _ in range(START_ATTEMPTS):  # another process may take the free port before Node binds it
            self.port = free_port()
            if self._launch(script, timeout):
                self._admin = httpx.Client(
                    base_url=self.base_url, headers={"Authorization": self.admin_token}, timeout=30
                )
                return self
        raise AssertionError(f"unleash-server did not start; its log ({self.log_path}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # SIGTERM: Unleash shuts down gracefully
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _environment(self) -> dict[str, str]:
        """A clean environment: nothing from the caller's shell (a stray DATABASE_* or PORT)
        reaches the server."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "TZ": "UTC",  # as unleash-server's own start script sets it
            "NODE_ENV": "production",
            "DATABASE_URL": self.database_url,
            "DATABASE_SSL": "false",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "UNLEASH_URL": self.base_url,
            # Offline: no version check, no telemetry, and nowhere to send them anyway.
            "CHECK_VERSION": "false",
            "SEND_TELEMETRY": "false",
            "UNLEASH_VERSION_URL": "http://127.0.0.1:9/",
            "SCARF_ANALYTICS": "false",
            "DO_NOT_TRACK": "1",
            "INIT_ADMIN_API_TOKENS": self.admin_token,
            "UNLEASH_DEFAULT_ADMIN_USERNAME": "admin",
            "UNLEASH_DEFAULT_ADMIN_PASSWORD": secrets.token_urlsafe(18),
            "UNLEASH_SECRET": secrets.token_hex(32),
            "LOG_LEVEL": "info",
            "REQUEST_LOGGER_ENABLE": "true",
        }

    def _launch(self, script: Path, timeout: float) -> bool:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [node(), str(script)],
                cwd=script.parent.parent,
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                answer = httpx.get(f"{self.base_url}/health", timeout=1)
                if answer.status_code == 200 and answer.json().get("health") == "GOOD":
                    return True
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.1)
        self.stop()
        return False

    # Its log.

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def requests(self) -> list[tuple[int, str, str]]:
        """What the server answered so far, from its request log: ``(status, method, path)``."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [(int(status), method, path) for status, method, path in _REQUEST.findall(text)]

    # The admin API.

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.admin.request(method, path, json=body)
        assert answer.is_success, f"Unleash {method} {path} answered {answer.status_code}: {answer.text}"
        return answer.json() if answer.content else None

    def create_context_field(self, name: str, description: str = "") -> None:
        self._call("POST", "/api/admin/context", {"name": name, "description": description})

    def create_client_token(self, name: str, environment: str = ENVIRONMENT) -> str:
        """A client (backend SDK) token for every project of ``environment``; its secret."""
        token = {"tokenName": name, "type": "client", "environment": environment, "projects": ["*"]}
        return self._call("POST", "/api/admin/api-tokens", token)["secret"]

    def create_segment(self, name: str, constraints: list[dict[str, Any]]) -> int:
        return self._call("POST", "/api/admin/segments", {"name": name, "constraints": constraints})["id"]

    def create_feature(self, name: str, *, kind: str = "release", description: str | None = None,
                       impression_data: bool = False) -> None:
        feature = {"name": name, "type": kind, "impressionData": impression_data}
        if description is not None:
            feature["description"] = description
        self._call("POST", f"/api/admin/projects/{PROJECT}/features", feature)

    def _strategies(self, feature: str, environment: str) -> str:
        return f"/api/admin/projects/{PROJECT}/features/{feature}/environments/{environment}/strategies"

    def add_strategy(self, feature: str, strategy: dict[str, Any], environment: str = ENVIRONMENT) -> str:
        """Add an activation strategy; its id."""
        return self._call("POST", self._strategies(feature, environment), strategy)["id"]

    def update_strategy(self, feature: str, strategy_id: str, strategy: dict[str, Any],
                        environment: str = ENVIRONMENT) -> None:
        self._call("PUT", f"{self._strategies(feature, environment)}/{strategy_id}", strategy)

    def add_dependency(self, feature: str, parent: str, *, enabled: bool = True,
                       variants: list[str] | None = None) -> None:
        dependency = {"feature": parent, "enabled": enabled, "variants": variants or []}
        self._call("POST", f"/api/admin/projects/{PROJECT}/features/{feature}/dependencies", dependency)

    def set_enabled(self, feature: str, enabled: bool, environment: str = ENVIRONMENT) -> None:
        switch = "on" if enabled else "off"
        self._call("POST", f"/api/admin/projects/{PROJECT}/features/{feature}/environments/{environment}/{switch}")

    def playground(self, context: dict[str, Any], environment: str = ENVIRONMENT) -> dict[str, dict[str, Any]]:
        """Unleash's own evaluation of every feature for ``context``, by feature name."""
        body = {"projects": "*", "environment": environment, "context": context}
        return {feature["name"]: feature for feature in self._call("POST", "/api/admin/playground", body)["features"]}

    # The client API, as an SDK (or medpress) sees it.

    def client_features(self, token: str, etag: str | None = None) -> httpx.Response:
        headers = {"Authorization": token, **({"If-None-Match": etag} if etag else {})}
        return httpx.get(f"{self.base_url}/api/client/features", headers=headers, timeout=30)
