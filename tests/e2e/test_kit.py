"""Self-tests of the QA kit (tests/e2e/kit/), against the real medpress page and server:
each fault and lifecycle step must do to the page what it says."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.kit import (
    block_python,
    block_webassembly,
    fail_patch,
    go_offline,
    go_online,
    reload_mid_work,
    stored_uploads,
    throttle_uploads,
)

# Records the page's visibility and lifecycle events, from the first moment of the document.
LIFECYCLE_RECORDER = """
window.__lifecycle = [];
for (const type of ["visibilitychange", "freeze", "resume"]) {
  document.addEventListener(type, () => window.__lifecycle.push(`${type}:${document.visibilityState}`));
}
"""

# A dedicated worker (from a Blob: the page's CSP allows blob: workers) that posts the time
# every 50 ms; the page keeps the longest gap between two ticks.
TICKING_WORKER = """() => {
  const source = "setInterval(() => postMessage(performance.timeOrigin + performance.now()), 50);";
  const worker = new Worker(URL.createObjectURL(new Blob([source], {type: "text/javascript"})));
  window.__ticks = {count: 0, last: null, longestGap: 0};
  worker.onmessage = ({data}) => {
    const ticks = window.__ticks;
    if (ticks.last !== null) ticks.longestGap = Math.max(ticks.longestGap, data - ticks.last);
    ticks.last = data;
    ticks.count += 1;
  };
  window.__worker = worker;
}"""


def send_original(page, path: Path, timeout_ms: float = 60_000) -> tuple[str, float]:
    """Press "Send original now" for ``path``; its upload URL and the seconds it took."""
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(path)
    started = time.monotonic()
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=timeout_ms)
    return status.get_attribute("data-upload-url"), time.monotonic() - started


def random_file(directory: Path, name: str, size: int) -> Path:
    """A file of ``size`` random bytes (incompressible, and no two alike)."""
    path = directory / name
    path.write_bytes(os.urandom(size))
    return path


@pytest.mark.parametrize("battery", [{"level": 0.42, "charging": False}], indirect=True)
def test_battery_is_what_the_test_says_and_changes_on_demand(battery, page, server, outside_requests):
    page.goto(server.url)
    initial = page.evaluate("""async () => {
      const b = await navigator.getBattery();
      window.__batteryEvents = [];
      b.addEventListener("levelchange", () => __batteryEvents.push(["level", b.level]));
      b.onchargingchange = () => __batteryEvents.push(["charging", b.charging]);
      return [b.level, b.charging, b.chargingTime, b.dischargingTime,
              b === await navigator.getBattery(), b instanceof EventTarget];
    }""")
    assert initial == [0.42, False, math.inf, 6048, True, True]

    battery.set(level=0.9, charging=True)
    assert page.evaluate("window.__batteryEvents") == [["charging", True], ["level", 0.9]]
    assert page.evaluate("navigator.getBattery().then(b => [b.chargingTime, b.dischargingTime])") \
        == [720, math.inf]
    battery.set(level=0.9)  # nothing changed: no event, as with a real battery
    assert len(page.evaluate("window.__batteryEvents")) == 2


def test_hide_and_show_reach_the_page(detached_chromium, playwright, server):
    page = detached_chromium.attach(playwright)
    page.add_init_script(LIFECYCLE_RECORDER)
    page.goto(server.url)
    detached_chromium.detach()

    detached_chromium.hide()
    assert detached_chromium.evaluate("document.visibilityState") == "hidden"
    detached_chromium.show()
    assert detached_chromium.evaluate("window.__lifecycle") == [
        "visibilitychange:hidden", "visibilitychange:visible"]


def test_freeze_pauses_the_page_and_its_workers_until_resume(detached_chromium, playwright, server):
    page = detached_chromium.attach(playwright)
    block_python(page)  # a busy page is made below, on purpose and for a known time
    page.add_init_script(LIFECYCLE_RECORDER)
    page.goto(server.url)
    page.evaluate(TICKING_WORKER)
    page.wait_for_function("window.__ticks.count >= 3")
    detached_chromium.detach()

    # A long task (as when Pyodide compiles) delays the freeze past CDP's answer: freeze()
    # must return only once the page is really frozen.
    detached_chromium.evaluate(
        "setTimeout(() => { const end = performance.now() + 1000; while (performance.now() < end); })")
    detached_chromium.freeze()
    frozen_at = time.monotonic()
    time.sleep(1.5)
    frozen_for = time.monotonic() - frozen_at
    detached_chromium.resume()
    assert detached_chromium.evaluate("document.visibilityState") == "hidden"  # until shown
    detached_chromium.show()
    count = detached_chromium.evaluate("window.__ticks.count")
    time.sleep(0.3)
    ticks = detached_chromium.evaluate("window.__ticks")
    assert ticks["count"] > count  # ticking again
    assert ticks["longestGap"] >= 1000 * frozen_for - 50, ticks  # not while frozen
    assert detached_chromium.evaluate("window.__lifecycle") == [
        "visibilitychange:hidden", "freeze:hidden", "resume:hidden", "visibilitychange:visible"]


def test_fail_patch_fails_exactly_the_nth_and_the_upload_recovers(
        page, server, outside_requests, tmp_path):
    clip = random_file(tmp_path, "three-chunks.bin", 20 * 1024 * 1024)  # 8 + 8 + 4 MiB
    faults = fail_patch(page, nth=2, status=503)
    block_python(page)  # not needed here: its load would only compete for the CPU
    before = stored_uploads(server)
    page.goto(server.url)
    url, _ = send_original(page, clip)
    assert faults.failed == [2]
    assert faults.seen == 4  # three chunks and the one retried
    assert page.request.get(url).body() == clip.read_bytes()
    assert len(stored_uploads(server) - before) == 1


def test_a_dropped_connection_is_retried_too(page, server, outside_requests, tmp_path):
    clip = random_file(tmp_path, "small.bin", 300_000)
    faults = fail_patch(page, nth=1, status=None)
    block_python(page)
    page.goto(server.url)
    url, _ = send_original(page, clip)
    assert (faults.failed, faults.seen) == ([1], 2)
    assert page.request.get(url).body() == clip.read_bytes()


def test_throttle_slows_uploads_until_lifted(page, server, outside_requests, tmp_path):
    size, rate = 600_000, 150_000  # 4 s throttled; well under 1 s on loopback
    block_python(page)
    page.goto(server.url)
    throttle_uploads(page, rate)
    _, slow = send_original(page, random_file(tmp_path, "slow.bin", size))
    throttle_uploads(page, None)
    _, fast = send_original(page, random_file(tmp_path, "fast.bin", size))
    assert slow >= 0.8 * size / rate, slow
    assert fast < 0.5 * size / rate, (fast, slow)


def test_offline_and_online_reach_the_page_also_when_throttled(page, server, outside_requests):
    block_python(page)
    page.goto(server.url)
    page.evaluate("""() => { window.__net = [];
      for (const type of ["offline", "online"]) addEventListener(type, () => __net.push([type, navigator.onLine])); }""")
    reach = "fetch('/healthz').then(r => r.status, () => 'unreachable')"
    go_offline(page)
    assert page.evaluate("navigator.onLine") is False
    go_online(page.context)
    assert page.evaluate("window.__net") == [["offline", False], ["online", True]]

    throttle_uploads(page, 100_000)  # its own network emulation must not undo offline
    go_offline(page)
    assert (page.evaluate(reach), page.evaluate("navigator.onLine")) == ("unreachable", False)
    go_online(page)
    assert (page.evaluate(reach), page.evaluate("navigator.onLine")) == (200, True)


def test_without_webassembly_python_never_loads_but_the_bypass_works(
        page, server, outside_requests, tmp_path):
    block_webassembly(page)
    page.goto(server.url)
    assert page.evaluate("typeof WebAssembly") == "undefined"
    clip = random_file(tmp_path, "clip.bin", 100_000)
    url, _ = send_original(page, clip)
    assert page.request.get(url).body() == clip.read_bytes()
    assert page.evaluate("document.documentElement.dataset.python") != "attached"
    expect(page.get_by_test_id("start")).to_be_disabled()


def test_reload_mid_work_reloads_once_the_condition_holds(page, server, outside_requests):
    block_python(page)
    page.goto(server.url)
    page.evaluate("window.__marker = 0; setTimeout(() => { window.__marker = 1; }, 300)")
    reload_mid_work(page, until=lambda p: p.evaluate("window.__marker") == 1, timeout_ms=5_000)
    assert page.evaluate("window.__marker") is None
    with pytest.raises(TimeoutError):
        reload_mid_work(page, until=lambda p: False, timeout_ms=200)
