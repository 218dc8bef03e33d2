"""Wire the page to the queue: choosing (or dropping) files adds clips and previews them,
Start runs the queue, Cancel stops it, each clip's own controls act on it, and the bypass
(plain JS, ``public/js/originals.js``) takes a clip over whenever it is pressed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import js

from client import flags
from client.browser import page
from client.browser.bridge import glue, persistent
from client.browser.camera import Camera
from client.browser.device_watch import DeviceWatch
from client.browser.engines import BrowserTranscoder, Prober
from client.browser.flag_feed import FlagFeed, installation_id
from client.browser.imager import BrowserImager
from client.browser.queue_page import QueuePage
from client.browser.recorder import Recorder, specialty_from
from client.browser.tus_uploader import TusUploader, measured_uplink
from client.core.capabilities import Capabilities, Overrides, overrides_from_query
from client.core.device import HIDDEN_GRACE_S, DeviceState, Directives
from client.core.pipeline import Ports
from client.core.planner import Limits
from client.core.steering import EXPERIMENTS, context_for, steering


def read_capabilities() -> tuple[Capabilities, Overrides, dict[str, str]]:
    """What this browser can do, QA's overrides, and the facts flag conditions may name."""
    found = glue.capabilities()
    overrides = overrides_from_query(str(found.query))
    caps = Capabilities(
        cross_origin_isolated=bool(found.crossOriginIsolated),
        cores=int(found.cores),
        device_memory_gb=float(found.deviceMemoryGb),
        webcodecs=bool(found.webcodecs),
        forced_engine=overrides.engine,
    )
    facts = {name: str(getattr(found, name)) for name in ("browser", "browserVersion", "deviceType")}
    return caps, overrides, facts


FIRST_FLAGS_S = 3.0  # how long Ready waits for fresh flags before going on with the kept ones


class App:
    def __init__(self) -> None:
        caps, overrides, self.facts = read_capabilities()
        limits = Limits() if overrides.stall_s is None else Limits(stall_s=overrides.stall_s)
        self.installation = installation_id()
        self.recorder = Recorder(self.installation, self.facts["deviceType"],
                                 specialty_from(str(js.location.search)))
        ports = Ports(
            prober=Prober(multi_thread=caps.cross_origin_isolated),
            transcoder=BrowserTranscoder(),
            uploader=TusUploader(),
            uplink=measured_uplink,
            view=page.DomView(),
            imager=BrowserImager(),
            caps=caps,
            clock=lambda: float(glue.now()),
            limits=limits,
            record=self.recorder,
        )
        self.queue = QueuePage(ports, ports.view)
        self.camera = Camera(self.queue)
        self.device = DeviceWatch(self.on_device, overrides.hidden_grace_s or HIDDEN_GRACE_S)
        self.flags = FlagFeed(lambda _state: self.steer())
        self.preset_chosen = False  # the person picked a preset: the flags no longer set it
        self._listeners: list[Any] = []
        self._adding: asyncio.Future | None = None

    def attach(self) -> None:
        for target, event, handler in (
            (page.element("start"), "click", self.on_start),
            (page.element("cancel"), "click", self.on_cancel),
            (page.element("file-input"), "change", self.on_choose),
            (page.element("preset"), "change", self.on_preset),
            (js.document, "medpress:bypass", self.on_bypass),
            (js.document, "medpress:item", self.on_item),
            (js.document, "medpress:page", self.on_page),
        ):
            listener = persistent(handler)
            self._listeners.append(listener)
            target.addEventListener(event, listener)
        self.steer()  # the flags kept from the last visit (or none: the safe side) until fresh
        self.device.start()
        asyncio.ensure_future(self.camera.attach())  # Record, where there is a camera
        js.document.documentElement.dataset.python = "attached"  # for QA: Python is wired up
        self._adding = asyncio.ensure_future(self._begin())

    async def _begin(self) -> None:
        """Fresh flags (briefly), the queue kept from before a reload, then files chosen while
        Python loaded (some perhaps already sent by the bypass), started at once if Start
        was pressed meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flags.fetch(), FIRST_FLAGS_S)
        self.flags.start()
        self.queue.main_view.show(page.ready_status())
        glue.keepAssets()  # for the next visit's start (public/sw.js); nobody waits for it
        await self.queue.restore()
        await self.camera.recover()  # recordings a reload cut short: finished from what was stored
        files = page.selected_files()
        if files:
            await self.queue.add(files, page.priority(), page.preset())
        if glue.takeEarlyStart() and self.queue.queue.items:  # Start pressed while Python loaded
            self.queue.start(page.priority(), page.preset())

    def on_choose(self, _event: object = None) -> None:
        files = page.selected_files()
        if files:
            before = self._adding

            async def add() -> None:
                if before is not None:
                    await before  # in the order chosen
                await self.queue.add(files, page.priority(), page.preset())

            self._adding = asyncio.ensure_future(add())

    def on_start(self, _event: object = None) -> None:
        async def start() -> None:
            if self._adding is not None:
                await self._adding  # Start right after choosing: the clips are in the queue first
            if not self.queue.queue.items:
                self.queue.main_view.show(page.choose_file_status())
                return
            self.queue.start(page.priority(), page.preset())

        asyncio.ensure_future(start())

    def on_cancel(self, _event: object = None) -> None:
        self.queue.halt()

    def on_item(self, event: Any) -> None:
        self.queue.act(str(event.detail.id), str(event.detail.action))

    def steer(self) -> None:
        """Evaluate the flags for this device now (new flags, or a changed device)."""
        battery = self.device.state.battery_level
        device = {**self.facts, "batteryLevel": None if battery is None else round(battery * 100),
                  "charging": None if self.device.state.charging is None else str(self.device.state.charging).lower()}
        context = context_for(self.installation, self.queue.ports.caps, device)
        given = steering(self.flags.state, context)
        self.recorder.variant = given.ui_variant
        for name in EXPERIMENTS:
            if self.flags.state and any(f.get("name") == name for f in self.flags.state.get("features", [])):
                found = flags.get_variant(self.flags.state, name, context)
                self.recorder.exposure(name, found["name"], found["feature_enabled"])
        self.queue.apply_steering(given)
        if given.default_preset and not self.preset_chosen:
            page.element("preset").value = given.default_preset

    def on_device(self, state: DeviceState, given: Directives) -> None:
        self.queue.apply_device(state, given)
        self.steer()

    def on_preset(self, _event: object = None) -> None:
        self.preset_chosen = True

    def on_page(self, event: Any) -> None:
        if str(event.detail.action) == "send-originals":
            self.queue.send_originals()

    def on_bypass(self, event: Any) -> None:
        self.queue.bypassed(event.detail.file)


async def main() -> None:
    App().attach()
