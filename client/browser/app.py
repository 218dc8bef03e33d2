"""Wire the page to the pipeline: Start runs it, the bypass button cancels it."""

from __future__ import annotations

import asyncio

import js

from client.browser import page
from client.browser.bridge import glue, persistent
from client.browser.engines import FfmpegWasmTranscoder, Prober
from client.browser.tus_uploader import TusUploader
from client.core import messages
from client.core.capabilities import Capabilities
from client.core.pipeline import Ports, send
from client.core.progress import Status


class App:
    def __init__(self) -> None:
        found = glue.capabilities()
        caps = Capabilities(cross_origin_isolated=bool(found.crossOriginIsolated), cores=int(found.cores))
        self.view = page.DomView()
        self.transcoder = FfmpegWasmTranscoder()
        self.ports = Ports(
            prober=Prober(multi_thread=caps.cross_origin_isolated),
            transcoder=self.transcoder,
            uploader=TusUploader(),
            view=self.view,
            caps=caps,
        )
        self.task: asyncio.Task | None = None
        self._listeners = [persistent(self.on_start), persistent(self.on_bypass)]

    def attach(self) -> None:
        start = page.element("start")
        start.addEventListener("click", self._listeners[0])
        js.document.addEventListener("medpress:bypass", self._listeners[1])
        start.disabled = False
        self.view.show(Status(state="ready", message=messages.READY))

    def on_start(self, _event: object = None) -> None:
        file = page.selected_file()
        if file is None:
            self.view.show(Status(state="error", message=messages.CHOOSE_FILE))
            return
        if self.task and not self.task.done():
            return  # one file at a time; the button is disabled meanwhile anyway
        self.view.muted = False
        self.task = asyncio.ensure_future(self._run(file))

    async def _run(self, file: object) -> None:
        start = page.element("start")
        start.disabled = True
        try:
            await send(file, page.facts_of(file), page.priority(), self.ports)
        except Exception as exc:  # noqa: BLE001 (never leave the page stuck on a bug of ours)
            js.console.error("medpress pipeline failed:", type(exc).__name__)
            self.view.show(Status(state="error", message=messages.UNEXPECTED))
        finally:
            start.disabled = False

    def on_bypass(self, _event: object = None) -> None:
        """The bypass (plain JS) is sending the original: stop compressing, stay quiet."""
        self.view.muted = True
        self.transcoder.cancel()
        if self.task and not self.task.done():
            self.task.cancel()


async def main() -> None:
    App().attach()
