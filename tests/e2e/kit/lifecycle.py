"""Hidden, shown, frozen and resumed pages, which Chromium only produces for a page that
Playwright is not attached to (see shared BROWSER-STACK.md, "Page lifecycle").

``DetachedChromium`` launches Debian's Chromium itself with a DevTools port; a test drives
the page with Playwright (``attach``), lets go (``detach``), changes its lifecycle and reads
its state over raw CDP, then may attach again::

    with DetachedChromium() as chromium:
        page = chromium.attach(playwright)
        page.add_init_script(RECORDER)
        page.goto(server.url)
        chromium.detach()
        chromium.freeze(); time.sleep(2); chromium.resume(); chromium.show()
        events = chromium.evaluate("window.recorded")

Outside requests: while attached, the same Playwright guard as the other tests records
and aborts them (``outside_requests``). While detached no route can run, so Chromium is
launched with ``--host-resolver-rules`` that make every host but loopback unresolvable
(IP literals included): nothing leaves the machine, but nothing is recorded either.
Init scripts added with Playwright apply to documents loaded while attached only.

Attaching has side effects (Chromium 156): it makes the page visible and resumes it if
frozen (the page gets resume and visibilitychange); on detaching, a page behind the blank
tab of ``hide()`` turns hidden again, but a page that was frozen stays resumed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import websocket
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.kit.server import guard_outside_requests
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS

ONLY_LOOPBACK = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
# Lets freeze()/resume() see when the page really froze or resumed (its own events).
LIFECYCLE_MARK = """
window.__kitFrozen = false;
document.addEventListener("freeze", () => { window.__kitFrozen = true; }, {once: true});
document.addEventListener("resume", () => { window.__kitFrozen = false; }, {once: true});
"""


class CdpError(RuntimeError):
    """A CDP command answered with an error, or a page threw while evaluating."""


def cdp_call(ws_url: str, method: str, params: dict | None = None, timeout: float = 10) -> dict:
    """Send one CDP command over a fresh websocket connection and return its result."""
    try:
        ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
    except websocket.WebSocketTimeoutException as error:
        raise TimeoutError(f"CDP {method}: no connection in {timeout} s") from error
    try:
        ws.send(json.dumps({"id": 1, "method": method, "params": params or {}}))
        while (message := json.loads(ws.recv())).get("id") != 1:
            pass  # an event: not ours to read
    except websocket.WebSocketTimeoutException as error:
        raise TimeoutError(f"CDP {method}: no answer in {timeout} s") from error
    finally:
        ws.close()
    if "error" in message:
        raise CdpError(f"CDP {method}: {message['error']}")
    return message["result"]


class DetachedChromium:
    """One Chromium of our own with one page that tests can hide, show, freeze and resume."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        self.args = [*CHROMIUM_ARGS, f"--host-resolver-rules={ONLY_LOOPBACK}", *args]
        self.outside_requests: list[str] = []  # recorded while attached, as in the other tests
        self.port = 0  # the DevTools port, once started
        self.target_id = ""  # the page's CDP target
        self._browser_ws = ""
        self._helper_tab = ""  # the blank tab in front of the page while it is hidden
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._connection = None  # Playwright's Browser while attached

    @property
    def page_ws(self) -> str:
        """The DevTools websocket URL of the page target."""
        return f"ws://127.0.0.1:{self.port}/devtools/page/{self.target_id}"

    def start(self, timeout: float = 30) -> Self:
        """Launch Chromium on a free DevTools port (loopback) with a fresh profile."""
        self._dir = Path(tempfile.mkdtemp(prefix="medpress-chromium-"))
        command = [CHROMIUM, *self.args, "--remote-debugging-port=0",
                   f"--user-data-dir={self._dir / 'profile'}", "about:blank"]
        with (self._dir / "chromium.log").open("ab") as log:  # a pipe could fill and block it
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._connect(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def _connect(self, timeout: float) -> None:
        """Wait for Chromium's DevTools port (it writes DevToolsActivePort) and its page."""
        deadline = time.monotonic() + timeout
        while not self.target_id:
            if self._process.poll() is not None or time.monotonic() > deadline:
                errors = (self._dir / "chromium.log").read_text(errors="replace")
                raise RuntimeError(f"Chromium did not start: {errors[-2000:]}")
            lines = _read_lines(self._dir / "profile" / "DevToolsActivePort")
            if len(lines) >= 2:
                self.port = int(lines[0])
                self._browser_ws = f"ws://127.0.0.1:{self.port}{lines[1]}"
                targets = self.browser_cdp("Target.getTargets")["targetInfos"]
                self.target_id = next((t["targetId"] for t in targets if t["type"] == "page"), "")
            time.sleep(0.05)

    def stop(self) -> None:
        """Disconnect Playwright, end the Chromium we started (by its PID), remove its profile."""
        if self._connection is not None:
            try:
                self.detach()
            except PlaywrightError:  # the browser may be gone already
                self._connection = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._process is not None:
            _wait_for_group(self._process.pid)  # its helpers still write to the profile
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def attached(self) -> bool:
        """Whether Playwright is connected (lifecycle changes are then ignored by Chromium)."""
        return self._connection is not None

    def attach(self, playwright) -> Any:
        """Connect Playwright over CDP and return the page as a Playwright Page (guarded)."""
        if self._connection is None:
            self._connection = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{self.port}")
            guard_outside_requests(self._connection.contexts[0], self.outside_requests)
        context = self._connection.contexts[0]
        for page in context.pages:
            session = context.new_cdp_session(page)
            target = session.send("Target.getTargetInfo")["targetInfo"]["targetId"]
            session.detach()
            if target == self.target_id:
                return page
        raise RuntimeError("the page target is gone")

    def detach(self) -> None:
        """Disconnect Playwright only: Chromium, the page and its state stay as they are."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def page_cdp(self, method: str, params: dict | None = None, timeout: float = 10) -> dict:
        """One raw CDP command to the page target."""
        return cdp_call(self.page_ws, method, params, timeout)

    def browser_cdp(self, method: str, params: dict | None = None, timeout: float = 10) -> dict:
        """One raw CDP command to the browser target."""
        return cdp_call(self._browser_ws, method, params, timeout)

    def evaluate(self, expression: str, timeout: float = 10) -> Any:
        """Evaluate JS in the page (promises awaited) and return its value, attached or not.

        A frozen page runs synchronous code but no timers: awaiting one times out."""
        answer = self.page_cdp("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True,
        }, timeout)
        if "exceptionDetails" in answer:
            raise CdpError(f"the page threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def freeze(self, timeout: float = 10) -> None:
        """Freeze the page and return once it is frozen: it gets visibilitychange (hidden),
        then freeze; its timers and dedicated workers pause."""
        self._require_detached()
        # CDP answers at once, but a renderer busy with a long task (Pyodide compiling) only
        # freezes after it: wait for the page's own freeze event.
        self.evaluate(LIFECYCLE_MARK, timeout)
        self.page_cdp("Page.setWebLifecycleState", {"state": "frozen"})
        self._wait_for("window.__kitFrozen === true", timeout)

    def resume(self, timeout: float = 10) -> None:
        """Unfreeze the page and return once it has its resume event; it stays hidden until
        ``show()``."""
        self._require_detached()
        self.page_cdp("Page.setWebLifecycleState", {"state": "active"})
        self._wait_for("window.__kitFrozen !== true", timeout)

    def hide(self, timeout: float = 10) -> None:
        """Open a blank tab in front of the page; return once the page is hidden (it gets
        visibilitychange)."""
        self._require_detached()
        if not self._helper_tab:
            self._helper_tab = self.browser_cdp("Target.createTarget", {
                "url": "about:blank", "newWindow": False, "background": False,
            })["targetId"]
        self._wait_for("document.visibilityState === 'hidden'", timeout)

    def show(self, timeout: float = 10) -> None:
        """Bring the page to the front (also after ``resume``), close the blank tab; return
        once the page is visible."""
        self.hide(timeout)  # a resumed page is the front tab yet hidden: switching tabs shows it
        self.browser_cdp("Target.activateTarget", {"targetId": self.target_id})
        self.browser_cdp("Target.closeTarget", {"targetId": self._helper_tab})
        self._helper_tab = ""
        self._wait_for("document.visibilityState === 'visible'", timeout)

    def _wait_for(self, expression: str, timeout: float) -> None:
        """Poll ``expression`` in the page (synchronously: works while frozen) until true."""
        deadline = time.monotonic() + timeout
        while self.evaluate(expression, timeout) is not True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page did not get to {expression!r} in {timeout} s")
            time.sleep(0.02)

    def _require_detached(self) -> None:
        if self._connection is not None:
            raise RuntimeError("detach() first: Chromium ignores lifecycle changes while "
                               "Playwright is attached to the page")


def _wait_for_group(group: int, timeout: float = 5) -> None:
    """Wait until no process of a process group is left (about 2 s after Chromium exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)  # signal 0: only asks whether any is there
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _read_lines(path: Path) -> list[str]:
    """The lines of a file, or none if it is not there yet."""
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []
