"""The page's Record control: records from the camera and microphone at the chosen preset,
sending the recording while it is made (``wasm/src/capture.js``), and hands each one to the
queue when it stops, so the next can start at once. After a reload, recordings that were
cut short are finished from what was stored (``recover``).

Rules and words are in ``client.core.recording``; this module only wires them to the page."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js
import msgspec

from client.browser import page
from client.browser.bridge import JsFailure, glue, js_object, persistent, settled
from client.browser.queue_page import QueuePage
from client.browser.tus_uploader import TusStream
from client.core import recording
from client.core.i18n import text
from client.core.ports import UploadFailed

TICK_S = 1.0
_about = msgspec.convert  # dict from JS → recording.About


class Live:
    """A recording under way."""

    def __init__(self, handle: Any, key: str, about: recording.About) -> None:
        self.handle, self.key, self.about = handle, key, about
        self.started = float(js.performance.now()) / 1000
        self.ticker: asyncio.Task | None = None
        self.watcher: asyncio.Task | None = None


class Camera:
    def __init__(self, queue: QueuePage) -> None:
        self.queue = queue
        self.button = page.element("record")
        self.status = page.element("record-status")
        self.live: Live | None = None
        self.busy = False  # the camera is being opened: a second press waits for it
        self._listener: Any = None

    async def attach(self) -> None:
        """Shows Record where there is a camera (and the browser can record from it)."""
        if not bool(await glue.camera.available()):
            return
        self._listener = persistent(self.on_click)
        self.button.addEventListener("click", self._listener)
        self.button.hidden = False
        self._show_state("idle")

    def on_click(self, event: Any = None) -> None:
        if self.busy:
            return
        # Stop ends the recording when it was pressed (the event's time), not when we get to it.
        at = float(event.timeStamp) if event is not None and getattr(event, "timeStamp", None) else None
        asyncio.ensure_future(self.stop(at) if self.live else self.start())

    async def start(self) -> None:
        self.busy = True
        self._show_state("starting")
        self._say("")
        try:
            self.live = await self._begin(page.preset(), page.priority())
        except JsFailure as failure:
            self._say(recording.problem(failure.code))
            self._show_state("idle")
            return
        finally:
            self.busy = False
        self._show_state("recording")
        self.live.ticker = asyncio.ensure_future(self._tick(self.live))
        self.live.watcher = asyncio.ensure_future(self._watch(self.live))

    async def _begin(self, preset: str, priority: str) -> Live:
        width, height = recording.camera_request(preset)
        camera = await settled(glue.camera.open(js_object({"width": width, "height": height})))
        settings = camera.settings
        config = recording.encoder_config(preset, int(settings.width), int(settings.height),
                                          float(settings.frameRate))
        key = recording.stream_key(str(js.crypto.randomUUID()))
        about = recording.About(name=recording.recording_name(key), priority=priority, preset=preset,
                                width=config["width"], height=config["height"], fps=config["framerate"])
        metadata = recording.upload_metadata(about.name, priority, preset, config["bitrate"])
        options = {"video": config, "audioBitrate": recording.audio_bitrate(preset)}
        try:
            handle = await settled(glue.camera.start(camera, key, js_object(options), js_object(metadata),
                                                     js_object(msgspec.to_builtins(about))))
        except JsFailure:
            await glue.camera.close(camera)
            raise
        return Live(handle, key, about)

    async def stop(self, at: float | None = None) -> None:
        """Ends the recording under way (at ``at``, the page's performance.now() in ms; None:
        now); it joins the queue, and Record is free at once."""
        live, self.live = self.live, None
        if live is None:
            return
        self._end(live)
        self._show_state("idle")
        self._say("")
        self.queue.add_recorded(live.key, live.about, lambda progress: self._finish(live, at, progress))

    async def _finish(self, live: Live, at: float | None,
                      on_progress: Callable[[int, int], None]) -> recording.Recorded:
        try:
            made = await settled(glue.camera.stop(live.handle, at))
        except JsFailure as failure:
            raise UploadFailed(recording.problem(failure.code)) from None
        url = await TusStream(live.handle.stream).finish({}, on_progress)  # which frees streams/<key>/
        return recording.Recorded(url=url, size=int(made.size), duration=float(made.duration), head=made.head)

    async def recover(self) -> None:
        """Finishes the recordings a reload cut short: every piece stored whole is sent (from
        the server's offset) and the file ends with the last of them."""
        try:
            found = await settled(glue.camera.interrupted())
        except JsFailure:
            return
        for entry in found:
            key = str(entry.key)
            if not recording.is_recording_key(key):
                continue
            try:
                about = _about(entry.about.to_py(), recording.About)
            except (msgspec.ValidationError, AttributeError):
                await glue.camera.forget(key)
                continue
            self.queue.add_recorded(key, about, lambda progress, key=key: self._finish_kept(key, progress),
                                    recovered=True)

    async def _finish_kept(self, key: str, on_progress: Callable[[int, int], None]) -> recording.Recorded:
        try:
            kept = await settled(glue.camera.resume(key))
        except JsFailure as failure:
            raise UploadFailed(recording.problem(failure.code)) from None
        url = await TusStream(kept.stream).finish({}, on_progress)
        return recording.Recorded(url=url, size=int(kept.size), duration=float(kept.duration), head=kept.head)

    async def _watch(self, live: Live) -> None:
        """A recording that fails (the encoder, the storage, the camera) is finished from
        what was stored, as after a reload."""
        code = str(await live.handle.failed)
        if self.live is not live:
            return  # stopped meanwhile
        self.live = None
        self._end(live, watcher=False)
        live.handle.letGo()
        self._show_state("idle")
        self._say(recording.problem(code))
        self.queue.add_recorded(live.key, live.about, lambda progress: self._finish_kept(live.key, progress),
                                recovered=True)

    def _end(self, live: Live, watcher: bool = True) -> None:
        if live.ticker:
            live.ticker.cancel()
        if watcher and live.watcher:
            live.watcher.cancel()

    async def _tick(self, live: Live) -> None:
        while self.live is live:
            self._say(recording.live(float(js.performance.now()) / 1000 - live.started))
            await asyncio.sleep(TICK_S)

    def _show_state(self, state: str) -> None:
        """The button's label and ``data-state`` (idle, starting, recording), for people and QA."""
        key = "button.stop_recording" if state == "recording" else "button.record"
        self.button.dataset.state = state
        self.button.dataset.i18n = key
        self.button.textContent = text(key)
        self.button.disabled = state == "starting"
        self.button.setAttribute("aria-pressed", "true" if state == "recording" else "false")

    def _say(self, message: str) -> None:
        self.status.textContent = message
        self.status.hidden = not message
