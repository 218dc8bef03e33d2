"""The device and the day: a low battery picks the lighter preset (and, nearly empty, offers
the originals); a frozen page loses nothing and, once resumed, finishes without a fallback
even when the freeze outlasted the engine watchdog. The battery is the one browser API the
kit fakes (headless Chromium has none); freezing goes through CDP on a page Playwright is
not attached to (tests/e2e/kit/lifecycle.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import run_ffmpeg
from tests.e2e.kit import MedpressPage, upload_metadata
from tests.e2e.kit.server import LOAD_TIMEOUT_MS

# What medpress tells the host page, in order.
HOST_EVENTS = """
window.__hostEvents = [];
for (const name of ["low-battery", "paused", "resumed", "bypass", "drained"]) {
  window.addEventListener(`medpress:${name}`, (event) => window.__hostEvents.push(name));
}
"""


@pytest.mark.parametrize("battery", [{"level": 0.2, "charging": False}], indirect=True)
def test_low_battery_picks_the_lighter_preset_and_nearly_empty_offers_the_originals(
    battery, page, open_app, clip720: Path, series: list[Path]
):
    page.add_init_script(HOST_EVENTS)
    open_app()
    medpress = MedpressPage(page)
    expect(medpress.notice("low-battery")).to_be_visible()
    medpress.choose(clip720).press_start()
    url = medpress.item(0).wait_for("done").wait_for_upload_url()
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["preset"]) == ("1", "mobile-fast")  # Standard was chosen

    battery.set(level=0.08)
    offer = medpress.notice("critical-battery")
    expect(offer).to_be_visible()
    medpress.choose(series[0])
    expect(medpress.page.get_by_test_id("queue-item")).to_have_count(2)
    offer.get_by_test_id("send-originals").click()
    second = medpress.item(1).wait_for("bypassed")
    meta = upload_metadata(page, second.wait_for_upload_url())
    assert (meta["compressed"], meta["bypass"]) == ("0", "1")
    assert page.request.get(second.upload_url).body() == series[0].read_bytes()

    battery.set(charging=True)  # plugged in: both lifted
    expect(medpress.notice("critical-battery")).to_have_count(0)
    expect(medpress.notice("low-battery")).to_have_count(0)
    events = page.evaluate("window.__hostEvents")
    assert events.count("low-battery") == 2 and "bypass" in events, events  # 20 % and 8 %


def test_a_freeze_longer_than_the_watchdog_then_resume_completes_without_fallback(
    detached_chromium, playwright, server, clip720: Path
):
    stall_s = 3
    page = detached_chromium.attach(playwright)
    page.add_init_script(HOST_EVENTS)
    page.goto(f"{server.url}/?engine=ffmpeg-mt&stall={stall_s}")
    medpress = MedpressPage(page).wait_until_python_attached(LOAD_TIMEOUT_MS)
    medpress.choose(clip720).press_start()
    expect(medpress.status).to_contain_text("% ·", timeout=60_000)  # ffmpeg.wasm is encoding
    detached_chromium.detach()

    detached_chromium.freeze()
    frozen_at = time.monotonic()
    time.sleep(3 * stall_s)  # three times the watchdog's limit
    detached_chromium.resume()
    detached_chromium.show()
    assert time.monotonic() - frozen_at >= 3 * stall_s

    page = detached_chromium.attach(playwright)
    medpress = MedpressPage(page)
    url = medpress.item(0).wait_for("done").wait_for_upload_url()
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["reason"], meta["engine"]) == ("1", "compressed", "ffmpeg-mt")
    events = page.evaluate("window.__hostEvents")
    assert events[:2] == ["paused", "resumed"], events  # the freeze paused the engines' clock


@pytest.fixture(scope="session")
def clip20(media_dir: Path) -> Path:
    """20 s of 720p: long enough to hide the page in the middle of its compression."""
    path = media_dir / "clip20.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "20",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(path),
    )
    return path


def item_percent(chromium) -> float:
    text = chromium.evaluate("document.querySelector('[data-testid=item-percent]').textContent")
    return float(text.rstrip("%") or 0)


def settled_percent(chromium, quiet_s: float, timeout_s: float) -> float:
    """The item's percent once it has not moved for `quiet_s`."""
    deadline = time.monotonic() + timeout_s
    held, since = item_percent(chromium), time.monotonic()
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() < deadline, "compression went on while the page was hidden"
        time.sleep(0.25)
        now = item_percent(chromium)
        if now != held:
            held, since = now, time.monotonic()
    return held


@pytest.mark.parametrize("engine", ["webcodecs", "ffmpeg-mt"])
def test_a_hidden_page_pauses_compression_after_its_grace_and_goes_on_when_shown(
    engine, detached_chromium, playwright, server, clip20: Path
):
    """WebCodecs stops feeding frames at once; x264 (ffmpeg.wasm, the clip in runs of a few
    seconds) finishes the run under way and waits before the next."""
    page = detached_chromium.attach(playwright)
    page.add_init_script(HOST_EVENTS)
    page.goto(f"{server.url}/?engine={engine}&hidden_grace=1")
    medpress = MedpressPage(page).wait_until_python_attached(LOAD_TIMEOUT_MS)
    medpress.choose(clip20).press_start()
    medpress.item(0).wait_for("compressing", 60_000)
    page.wait_for_function("parseFloat(document.querySelector('[data-testid=item-percent]').textContent) > 0",
                           timeout=60_000)
    detached_chromium.detach()

    detached_chromium.hide()
    deadline = time.monotonic() + 10
    while not detached_chromium.evaluate("window.__hostEvents.includes('paused')"):
        assert time.monotonic() < deadline, "compression did not pause once the grace was over"
        time.sleep(0.1)
    held = settled_percent(detached_chromium, quiet_s=3, timeout_s=30)  # frames or a run under way end first
    assert held < 100  # no frame fed, no run begun, while hidden
    assert detached_chromium.evaluate(
        "document.querySelector('[data-notice=\"paused-hidden\"]') !== null")
    detached_chromium.show()

    page = detached_chromium.attach(playwright)
    medpress = MedpressPage(page)
    url = medpress.item(0).wait_for("done").wait_for_upload_url()
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["engine"]) == ("1", engine)  # went on: no fallback
    assert page.evaluate("window.__hostEvents")[:2] == ["paused", "resumed"]
