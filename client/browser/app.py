"""Wire the page to the pipeline: choosing a file previews the plan, Start runs it,
Cancel stops it, and the bypass button (plain JS) takes over."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import js

from client.browser import page
from client.browser.bridge import glue, persistent
from client.browser.engines import BrowserTranscoder, Prober
from client.browser.imager import BrowserImager
from client.browser.tus_uploader import TusUploader
from client.core import messages
from client.core.capabilities import Capabilities, Overrides, overrides_from_query
from client.core.pipeline import Job, Ports, preview, send
from client.core.planner import Limits
from client.core.progress import Status


def read_capabilities() -> tuple[Capabilities, Overrides]:
    found = glue.capabilities()
    overrides = overrides_from_query(str(found.query))
    caps = Capabilities(
        cross_origin_isolated=bool(found.crossOriginIsolated),
        cores=int(found.cores),
        device_memory_gb=float(found.deviceMemoryGb),
        webcodecs=bool(found.webcodecs),
        forced_engine=overrides.engine,
    )
    return caps, overrides


class App:
    def __init__(self) -> None:
        caps, overrides = read_capabilities()
        limits = Limits() if overrides.stall_s is None else Limits(stall_s=overrides.stall_s)
        self.view = page.DomView()
        self.transcoder = BrowserTranscoder()
        self.ports = Ports(
            prober=Prober(multi_thread=caps.cross_origin_isolated),
            transcoder=self.transcoder,
            uploader=TusUploader(),
            view=self.view,
            imager=BrowserImager(),
            caps=caps,
            clock=lambda: float(glue.now()),
            limits=limits,
        )
        self.task: asyncio.Task | None = None
        self._listeners: list[Any] = []

    def attach(self) -> None:
        for test_id, event, handler in (
            ("start", "click", self.on_start),
            ("cancel", "click", self.on_cancel),
            ("file-input", "change", self.on_choose),
            ("priority", "change", self.on_choose),
            ("preset", "change", self.on_choose),
        ):
            listener = persistent(handler)
            self._listeners.append(listener)
            page.element(test_id).addEventListener(event, listener)
        bypass = persistent(self.on_bypass)
        self._listeners.append(bypass)
        js.document.addEventListener("medpress:bypass", bypass)
        js.document.documentElement.dataset.python = "attached"  # for QA: Python is wired up
        if page.bypassed(page.selected_file()):
            self.view.muted = True  # pressed before Python loaded: its result stays on screen
            return
        page.element("start").disabled = False
        self.view.show(Status(state="ready", message=messages.READY))

    def _job(self) -> Job | None:
        file = page.selected_file()
        if file is None:
            return None
        return Job(file=file, facts=page.facts_of(file), priority=page.priority(), preset=page.preset())

    def _launch(self, work: Coroutine[Any, Any, Any], busy: bool = False) -> None:
        self.stop()
        page.set_busy(busy)
        self.view.muted = False
        self.task = asyncio.ensure_future(self._guarded(work))

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (never leave the page stuck on a bug of ours)
            js.console.error("medpress pipeline failed:", type(exc).__name__)
            self.view.show(Status(state="error", message=messages.UNEXPECTED))
        finally:
            page.set_busy(False)

    def on_choose(self, _event: object = None) -> None:
        if page.is_busy() or page.bypassed(page.selected_file()):
            return  # a file is being sent: Cancel first; a bypassed one is done with
        job = self._job()
        if job is not None:
            self._launch(self._preview(job))

    async def _preview(self, job: Job) -> None:
        self.view.show(Status(state="ready", message="Checking the video…"))
        self.view.show(await preview(job, self.ports))

    def on_start(self, _event: object = None) -> None:
        job = self._job()
        if job is None:
            self.view.show(Status(state="error", message=messages.CHOOSE_FILE))
            return
        if page.bypassed(job.file):
            return  # its original is sent (or being sent): never a second copy
        self._launch(send(job, self.ports), busy=True)

    def on_cancel(self, _event: object = None) -> None:
        self.stop()
        self.transcoder.prepare(None)  # Cancel frees everything, the engine loaded ahead too
        self.view.show(Status(state="ready", message=messages.CANCELLED))

    def on_bypass(self, _event: object = None) -> None:
        """The bypass (plain JS) is sending the original: stop compressing, stay quiet."""
        self.stop()
        self.transcoder.prepare(None)
        self.view.muted = True

    def stop(self) -> None:
        self.transcoder.cancel()
        if self.task and not self.task.done():
            self.task.cancel()
        page.set_busy(False)


async def main() -> None:
    App().attach()
