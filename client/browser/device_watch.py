"""The device's lifecycle as Python sees it: browser events (``wasm/src/device.js``) become
immutable ``DeviceState`` snapshots, the pure policy (``client.core.device``) turns them
into ``Directives``, and the owner is told whenever they change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from client.browser.bridge import glue, persistent
from client.core.device import HIDDEN_GRACE_S, DeviceState, Directives, directives


class DeviceWatch:
    def __init__(self, on_change: Callable[[DeviceState, Directives], None],
                 hidden_grace_s: float = HIDDEN_GRACE_S) -> None:
        self.on_change = on_change
        self.hidden_grace_s = hidden_grace_s
        self.state = DeviceState()
        self.directives = Directives()
        self._snapshot: Any = None
        self._grace: asyncio.Task | None = None
        self._listener = persistent(self._on_snapshot)

    def start(self) -> None:
        glue.watchDevice(self._listener)

    def _on_snapshot(self, snapshot: Any) -> None:
        self._snapshot = snapshot
        self._evaluate()
        if self._grace is not None and not self._grace.done():
            self._grace.cancel()
        if not self.state.visible and not self.state.frozen:
            left = self.hidden_grace_s - self.state.hidden_for_s
            if left > 0:  # look again once the grace period is over
                self._grace = asyncio.ensure_future(self._after(left + 0.05))

    async def _after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._evaluate()

    def _evaluate(self) -> None:
        found = self._snapshot
        level = found.batteryLevel
        charging = found.charging
        self.state = DeviceState(
            battery_level=None if level is None else float(level),
            charging=None if charging is None else bool(charging),
            visible=bool(found.visible),
            hidden_for_s=float(glue.hiddenForSeconds(found.hiddenSince)),
            frozen=bool(found.frozen),
            online=bool(found.online),
            effective_type=None if found.effectiveType is None else str(found.effectiveType),
            save_data=bool(found.saveData),
        )
        given = directives(self.state, hidden_grace_s=self.hidden_grace_s)
        self.directives = given
        self.on_change(self.state, given)  # the owner compares: battery levels steer flags too
