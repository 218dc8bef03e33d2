"""Faults a test can inflict on the medpress page: battery, network, failing and slow
uploads, no WebAssembly, a reload mid-work. Plain functions on a Playwright page or context.

The battery is the only browser API faked (headless Chromium cannot make one change); every
other fault uses the real browser (offline mode, routes, CDP network emulation)."""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

# A JS function of {level, charging}: makes navigator.getBattery() resolve to one controllable
# BatteryManager-like EventTarget; window.__kitBattery.set(level, charging) changes it at run
# time and fires the *change events (only for what changed), as a real battery does.
BATTERY_SCRIPT = """({level, charging}) => {
  const state = {level, charging};
  const times = () => state.charging
    ? {chargingTime: state.level >= 1 ? 0 : Math.round((1 - state.level) * 7200), dischargingTime: Infinity}
    : {chargingTime: Infinity, dischargingTime: Math.round(state.level * 14400)};
  class BatteryManager extends EventTarget {
    get level() { return state.level; }
    get charging() { return state.charging; }
    get chargingTime() { return times().chargingTime; }
    get dischargingTime() { return times().dischargingTime; }
  }
  const battery = new BatteryManager();
  for (const type of ["levelchange", "chargingchange", "chargingtimechange", "dischargingtimechange"]) {
    let handler = null;
    Object.defineProperty(battery, "on" + type, {
      get: () => handler,
      set: (fn) => {
        if (handler) battery.removeEventListener(type, handler);
        handler = typeof fn === "function" ? fn : null;
        if (handler) battery.addEventListener(type, handler);
      },
    });
  }
  const promise = Promise.resolve(battery);
  Object.defineProperty(Navigator.prototype, "getBattery", {value: () => promise, configurable: true});
  window.__kitBattery = {
    set(level, charging) {
      const before = {...times(), level: state.level, charging: state.charging};
      if (level !== null && level !== undefined) state.level = level;
      if (charging !== null && charging !== undefined) state.charging = charging;
      const after = {...times(), level: state.level, charging: state.charging};
      const fire = (key, type) => before[key] !== after[key] && battery.dispatchEvent(new Event(type));
      fire("charging", "chargingchange");
      fire("level", "levelchange");
      fire("chargingTime", "chargingtimechange");
      fire("dischargingTime", "dischargingtimechange");
    },
  };
}"""


def install_battery(context_or_page, level: float = 1.0, charging: bool = True) -> None:
    """Fake ``navigator.getBattery`` in every document loaded from now on (add before goto)."""
    initial = json.dumps({"level": level, "charging": charging})
    context_or_page.add_init_script(script=f"({BATTERY_SCRIPT})({initial});")


def set_battery(page, level: float | None = None, charging: bool | None = None) -> None:
    """Change the fake battery now (None keeps a value) and fire its change events."""
    page.evaluate("([level, charging]) => window.__kitBattery.set(level, charging)", [level, charging])


def _context(context_or_page):
    """The browser context of a page, or the context itself."""
    return getattr(context_or_page, "context", context_or_page)


def go_offline(context_or_page) -> None:
    """Cut the whole context's network (the page gets ``offline``; navigator.onLine false)."""
    _set_offline(_context(context_or_page), True)


def go_online(context_or_page) -> None:
    """Give the context its network back (the page gets ``online``)."""
    _set_offline(_context(context_or_page), False)


@dataclass
class PatchFaults:
    """What ``fail_patch`` has seen: PATCH requests counted from 1, and which it failed."""

    seen: int = 0
    failed: list[int] = field(default_factory=list)


def fail_patch(page, nth: int = 1, status: int | None = 503, times: int = 1,
               retry_after: str | None = None) -> PatchFaults:
    """Fail PATCH number ``nth`` (and the ``times - 1`` after it) to ``/files/``: answer
    ``status`` (None: drop the connection); every other request falls through to any
    other route (e.g. the outside-requests guard) and then the server."""
    faults = PatchFaults()

    def handle(route) -> None:
        if route.request.method != "PATCH":
            route.fallback()
            return
        faults.seen += 1
        if not nth <= faults.seen < nth + times:
            route.fallback()
            return
        faults.failed.append(faults.seen)
        if status is None:
            route.abort("connectionreset")
            return
        headers = {"Tus-Resumable": "1.0.0", **({"Retry-After": retry_after} if retry_after else {})}
        route.fulfill(status=status, headers=headers, body="")

    page.route("**/files/**", handle)
    return faults


# Network emulation of our own CDP session per page: Chromium lets it override Playwright's
# set_offline (a later set_offline(True) no longer cuts the page), so offline and throttling
# go through one place: use go_offline/go_online, not context.set_offline, with throttling.
_upload_caps: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page -> (session, cap)
_offline: weakref.WeakSet = weakref.WeakSet()  # contexts cut off by go_offline


def throttle_uploads(page, bytes_per_second: int | None) -> None:
    """Cap the page's upload speed through CDP network emulation (None lifts the cap)."""
    session = _upload_caps[page][0] if page in _upload_caps else None
    if session is None:
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
    _upload_caps[page] = (session, -1 if bytes_per_second is None else bytes_per_second)
    _emulate(page)


def _set_offline(context, offline: bool) -> None:
    """Switch a context off or on line, in Playwright and in our own throttling sessions."""
    (_offline.add if offline else _offline.discard)(context)
    context.set_offline(offline)
    for page in context.pages:
        if page in _upload_caps:
            _emulate(page)


def _emulate(page) -> None:
    """Send the page's network conditions (offline or not, upload cap) on our session."""
    session, cap = _upload_caps[page]
    session.send("Network.emulateNetworkConditions", {
        "offline": page.context in _offline, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": cap,
    })


# Python never starts: no WebAssembly at all, as in a browser that has it switched off.
BLOCK_WEBASSEMBLY_SCRIPT = "delete globalThis.WebAssembly;"


def block_webassembly(page) -> None:
    """Remove ``WebAssembly`` from every document loaded from now on: Python never loads."""
    page.add_init_script(script=BLOCK_WEBASSEMBLY_SCRIPT)


def block_python(page) -> None:
    """Make Pyodide's runtime unreachable (its wasm request is aborted): Python never loads.
    Routed on the context: once the service worker keeps the assets, it is what fetches them."""
    page.context.route("**/pyodide.asm.wasm", lambda route: route.abort())


def reload_mid_work(page, until: str | Callable[[object], object], timeout_ms: float = 60_000) -> None:
    """Wait until ``until`` holds (a JS expression, or a callable of the page polled every
    50 ms), then reload the page."""
    if isinstance(until, str):
        page.wait_for_function(until, timeout=timeout_ms)
    else:
        deadline = time.monotonic() + timeout_ms / 1000
        while not until(page):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reload_mid_work: condition not met in {timeout_ms:.0f} ms")
            page.wait_for_timeout(50)
    page.reload()
