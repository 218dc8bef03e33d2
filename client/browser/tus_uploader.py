"""Uploader port over the page's tus client (``public/js/upload.js``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js

from client.browser.bridge import JsFailure, callbacks, glue, js_object, settled
from client.core.link import Sample, Uplink, uplink
from client.core.pipeline import PAUSE
from client.core.ports import UploadFailed


def measured_uplink() -> Uplink:
    """The uplink from the page's recent PATCHes (``public/js/upload.js`` times them)."""
    seen = glue.uplinkSamples()
    samples = [Sample(sent=int(s.sent), seconds=float(s.seconds), at=float(s.at)) for s in seen.samples]
    return uplink(samples, float(seen.now), None if seen.downlink is None else float(seen.downlink))


class TusStream:
    """A streamed upload (``public/js/stream-upload.js``): the engine appends to ``handle``."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def finish(self, metadata: dict[str, str], on_progress: Callable[[int, int], None]) -> str:
        def progress(sent: float, total: float) -> None:
            on_progress(int(sent), int(total))

        with callbacks(progress) as (progress_proxy,):
            try:
                return str(await settled(glue.finishStream(self.handle, js_object(metadata), progress_proxy)))
            except JsFailure as failure:
                raise UploadFailed(failure.detail) from None

    def abort(self) -> None:
        self.handle.abort()  # runs on in JS: safe from a cancelled task

    def suspend(self) -> None:
        self.handle.suspend()

    @property
    def stopped(self) -> bool:
        return bool(self.handle.aborted.signal.aborted)

    async def continue_with(self, blob: Any) -> str | bool:
        try:
            found = await settled(glue.continueStream(self.handle, blob))
        except JsFailure:
            return False
        return found if isinstance(found, bool) else str(found)

    async def kept(self) -> dict[str, Any] | None:
        if self.handle.key is None:
            return None
        try:
            plan = await settled(glue.keptStreamPlan(self.handle.key))
        except JsFailure:
            return None
        return None if plan is None else plan.to_py()


class TusUploader:
    def stream(self, metadata: dict[str, str], key: str | None = None) -> TusStream:
        return TusStream(glue.openStream(js_object(metadata), key))

    async def upload(
        self,
        blob: Any,
        metadata: dict[str, str],
        on_progress: Callable[[int, int], None],
        source: Any | None = None,
        *,
        resume_url: str | None = None,
        on_url: Callable[[str], None] | None = None,
    ) -> str:
        def progress(sent: float, total: float) -> None:
            on_progress(int(sent), int(total))

        def created(url: str) -> None:
            if on_url:
                on_url(str(url))

        controller = js.AbortController.new()
        with callbacks(progress, created) as (progress_proxy, created_proxy):
            try:
                options = js_object({"resumeUrl": resume_url})
                options.onUrl = created_proxy
                call = glue.uploadBlob(
                    blob, js_object(metadata), progress_proxy, controller.signal, source, options
                )
                return str(await settled(call))
            except JsFailure as failure:
                raise UploadFailed(failure.detail) from None
            except asyncio.CancelledError as cancelled:
                # Paused: stop sending but keep what the server holds, to resume from its
                # offset. Otherwise stop and ask the server to drop the partial upload.
                controller.abort(PAUSE if PAUSE in cancelled.args else "stop")
                raise
