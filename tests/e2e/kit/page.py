"""A page object for medpress, built only on the page's ``data-testid`` hooks, so that QA
suites read as the clinician's steps: choose clips, Start, wait until they have arrived.

The single-file hooks (``status``, ``progress``, ``start``, ``bypass``) always refer to
the queue's current clip; ``item(n)`` is the n-th clip's own row (0-based, in order)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.kit.server import LOAD_TIMEOUT_MS

ITEM_STATES = ("waiting", "compressing", "paused", "uploading", "done", "bypassed", "failed", "needs-file")


class ClipRow:
    """One clip in the queue: its state, upload URL and own controls."""

    def __init__(self, locator: Locator) -> None:
        self.locator = locator

    @property
    def state(self) -> str | None:
        return self.locator.get_attribute("data-state")

    @property
    def upload_url(self) -> str | None:
        return self.locator.get_attribute("data-upload-url")

    def press(self, action: str) -> None:
        """"pause", "resume", "retry", "cancel" (remove) or "bypass" (send original now)."""
        self.locator.get_by_test_id(f"item-{action}").click()

    def wait_for(self, state: str, timeout_ms: float = 180_000) -> ClipRow:
        assert state in ITEM_STATES, state
        expect(self.locator).to_have_attribute("data-state", state, timeout=timeout_ms)
        return self

    def wait_for_upload_url(self, timeout_ms: float = 180_000) -> str:
        self.locator.page.wait_for_function(
            "(row) => row.dataset.uploadUrl", arg=self.locator.element_handle(), timeout=timeout_ms)
        return self.upload_url or ""


class MedpressPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def __getattr__(self, test_id: str) -> Locator:
        """``medpress.status``, ``medpress.start``… any ``data-testid`` (underscores for dashes)."""
        return self.page.get_by_test_id(test_id.replace("_", "-"))

    def wait_until_python_attached(self, timeout_ms: float = LOAD_TIMEOUT_MS) -> MedpressPage:
        self.page.wait_for_function("document.documentElement.dataset.python === 'attached'",
                                    timeout=timeout_ms)
        return self

    def choose(self, *files: Path | Sequence[Path]) -> MedpressPage:
        """Choose clips in the picker (several at once, or more while others are at work)."""
        paths = [p for f in files for p in (f if isinstance(f, (list, tuple)) else [f])]
        self.page.get_by_test_id("file-input").set_input_files(paths)
        return self

    def set_priority(self, priority: str) -> MedpressPage:
        self.page.get_by_test_id("priority").select_option(priority)
        return self

    def set_preset(self, preset: str) -> MedpressPage:
        self.page.get_by_test_id("preset").select_option(preset)
        return self

    def press_start(self) -> MedpressPage:
        self.page.get_by_test_id("start").click()
        return self

    def send_original_now(self) -> MedpressPage:
        self.page.get_by_test_id("bypass").click()
        return self

    def item(self, index: int) -> ClipRow:
        return ClipRow(self.page.get_by_test_id("queue-item").nth(index))

    @property
    def items(self) -> list[ClipRow]:
        rows = self.page.get_by_test_id("queue-item")
        return [ClipRow(rows.nth(i)) for i in range(rows.count())]

    def wait_until_all_arrived(self, count: int, timeout_ms: float = 300_000) -> list[str]:
        """Wait until `count` clips are on the server; their upload URLs, in order."""
        expect(self.page.get_by_test_id("indicator")).to_have_attribute("data-done", str(count), timeout=timeout_ms)
        return [self.item(i).wait_for_upload_url() for i in range(count)]

    def status_state(self) -> str | None:
        return self.page.get_by_test_id("status").get_attribute("data-state")

    def notice(self, name: str) -> Locator:
        """A device notice: "low-battery", "critical-battery", "offline", "paused-hidden"…"""
        return self.page.locator(f'[data-testid="notice"][data-notice="{name}"]')
