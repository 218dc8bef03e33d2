"""What the device and the day allow: immutable `DeviceState` snapshots in, `Directives` out.

Pure policy (functional core); the browser adapter turns battery, visibility, freeze and
network events into snapshots and carries the directives out.

- Battery below 25 % and discharging: the lighter preset and one worker, with a notice.
  Below 10 % and discharging: offer to send originals instead of compressing. Charging, or a
  battery the browser does not report, lifts both.
- Hidden: uploads go on; compression goes on for a grace period (default 30 s), then pauses
  until the page is visible again. Frozen: everything waits (the browser froze the workers
  anyway); nothing is lost and the watchdog does not count the time.
- Offline: uploads pause. A slow or metered connection (2G, data saver) prefers the lighter
  preset.
"""

from __future__ import annotations

import msgspec

from client.core.presets import PRESETS

LOW_BATTERY = 0.25
CRITICAL_BATTERY = 0.10
HIDDEN_GRACE_S = 30.0
SLOW_CONNECTIONS = frozenset({"slow-2g", "2g"})


class DeviceState(msgspec.Struct, frozen=True, kw_only=True):
    battery_level: float | None = None  # 0..1; None where the browser does not say
    charging: bool | None = None
    visible: bool = True
    hidden_for_s: float = 0.0  # how long the page has been hidden
    frozen: bool = False
    online: bool = True
    effective_type: str | None = None  # navigator.connection.effectiveType
    save_data: bool = False


class Directives(msgspec.Struct, frozen=True, kw_only=True):
    lighter_preset: bool = False
    one_worker: bool = False
    offer_originals: bool = False
    pause_compression: bool = False
    pause_uploads: bool = False
    notices: tuple[str, ...] = ()  # which notices to show: "low-battery", "critical-battery", …


def directives(state: DeviceState, *, hidden_grace_s: float = HIDDEN_GRACE_S) -> Directives:
    discharging = state.charging is False and state.battery_level is not None
    low = discharging and state.battery_level < LOW_BATTERY  # type: ignore[operator]
    critical = discharging and state.battery_level < CRITICAL_BATTERY  # type: ignore[operator]
    slow = state.save_data or state.effective_type in SLOW_CONNECTIONS
    hidden_too_long = not state.visible and state.hidden_for_s >= hidden_grace_s
    notices = [
        name
        for name, applies in (
            ("critical-battery", critical),
            ("low-battery", low and not critical),
            ("slow-network", slow),
            ("offline", not state.online),
            ("paused-hidden", hidden_too_long and not state.frozen),
        )
        if applies
    ]
    return Directives(
        lighter_preset=low or slow,
        one_worker=low,
        offer_originals=critical,
        pause_compression=state.frozen or hidden_too_long,
        pause_uploads=state.frozen or not state.online,
        notices=tuple(notices),
    )


def preset_for(requested: str, given: Directives) -> str:
    """The preset to use: one step lighter when the directives ask for it (and one exists)."""
    if not given.lighter_preset:
        return requested
    return PRESETS[requested].lighter or requested
