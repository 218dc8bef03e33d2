"""Recording in the page: Chromium's fake camera (a test pattern) and microphone (a beep)
are recorded, encoded while they are captured and sent fragment by fragment; Stop finishes
the upload, the next recording can start at once, and a reload during a recording keeps
everything up to its last stored fragment. What arrives is checked on the real server's
copy with Debian's ffprobe, and played back in Chromium."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.kit import MedpressPage, upload_metadata
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS, FAKE_MEDIA_ARGS
from tests.support.media_probe import probe

DURATION_TOLERANCE_S = 0.5
RECORD = '[data-testid="record"]'

# Resolves with performance.now() as soon as the record control says `state`.
WHEN_STATE = """state => new Promise(resolve => {
  const button = document.querySelector('[data-testid="record"]');
  const check = () => button.dataset.state === state && (resolve(performance.now()), true);
  if (!check()) new MutationObserver((_, observer) => check() && observer.disconnect())
    .observe(button, {attributes: true});
})"""
# Presses the control and says when (performance.now()).
PRESS = """() => { document.querySelector('[data-testid="record"]').click(); return performance.now(); }"""


def watch_patches(page) -> list[tuple[float, str]]:
    """(monotonic time, URL) of every PATCH the page sends."""
    seen: list[tuple[float, str]] = []
    page.on("request", lambda r: seen.append((time.monotonic(), r.url)) if r.method == "PATCH" else None)
    return seen


def record(page, seconds: float) -> tuple[float, float]:
    """Records for about `seconds`; (the length measured in the page from the moment it says
    it is recording to the press on Stop, the monotonic time of that press)."""
    expect(page.locator(RECORD)).to_be_visible()
    started = page.evaluate(f"""() => {{
      document.querySelector('{RECORD}').click();
      return ({WHEN_STATE})("recording");
    }}""")
    page.wait_for_timeout(seconds * 1000)
    stopped_at = time.monotonic()
    stopped = page.evaluate(PRESS)
    return (stopped - started) / 1000, stopped_at


def stored(page, url: str, path: Path) -> Path:
    """The server's copy of an upload, as its owner reads it."""
    response = page.request.get(url)
    assert response.status == 200, response.status
    path.write_bytes(response.body())
    return path


def top_level_boxes(data: bytes) -> list[str]:
    boxes, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        if size == 1:
            size = int.from_bytes(data[at + 8:at + 16], "big")
        boxes.append(data[at + 4:at + 8].decode("latin-1"))
        if size < 8:
            break
        at += size
    return boxes


def plays_in_chromium(page, url: str) -> dict:
    """Loads the stored file in a <video>, seeks near its end and plays it to the end."""
    return page.evaluate("""async url => {
      const video = document.createElement("video");
      video.muted = true;
      const once = (name) => new Promise((resolve, reject) => {
        video.addEventListener(name, resolve, {once: true});
        video.addEventListener("error", () => reject(new Error("media error " + video.error?.code)), {once: true});
      });
      video.src = url;
      await once("loadedmetadata");
      const duration = video.duration;
      video.currentTime = Math.max(0, duration - 1);
      await once("seeked");
      const ended = once("ended");
      await video.play();
      await ended;
      return {duration, width: video.videoWidth, height: video.videoHeight, ended: video.ended};
    }""", url)


def check_recording(page, url: str, seconds: float, path: Path) -> dict:
    info = probe(stored(page, url, path))
    kinds = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert kinds.get("video") == "h264", kinds
    assert kinds.get("audio") in ("opus", "aac"), kinds
    duration = float(info["format"]["duration"])
    print(f"recording: measured in the page {seconds:.3f} s, stored {duration:.3f} s, {kinds}")
    assert abs(duration - seconds) <= DURATION_TOLERANCE_S, (duration, seconds)
    played = plays_in_chromium(page, url)
    assert played["ended"] and played["width"] > 0, played
    meta = upload_metadata(page, url)
    assert (meta["reason"], meta["filetype"], meta["compressed"]) == ("recorded", "video/mp4", "1"), meta
    assert meta["filename"].startswith("recording-") and meta["filename"].endswith(".mp4"), meta
    return info


def test_a_recording_is_sent_while_it_is_made_and_the_next_can_start_at_once(open_app, tmp_path: Path):
    page = open_app()
    medpress = MedpressPage(page)
    patches = watch_patches(page)

    first_s, first_stopped = record(page, 6)
    sent_while_recording = [at for at, _ in patches if at < first_stopped]
    assert len(sent_while_recording) >= 2, patches  # the init segment and a fragment, at least

    expect(page.locator(RECORD)).to_have_attribute("data-state", "idle", timeout=2_000)  # free at once
    second_s, _ = record(page, 3)

    urls = medpress.wait_until_all_arrived(2, timeout_ms=60_000)
    assert len(set(urls)) == 2
    for n, (url, seconds) in enumerate(zip(urls, (first_s, second_s), strict=True)):
        check_recording(page, url, seconds, tmp_path / f"recording-{n}.mp4")
    assert medpress.item(0).state == "done" and medpress.item(1).state == "done"


def test_stop_finishes_the_upload_within_a_couple_of_seconds(open_app):
    page = open_app()
    medpress = MedpressPage(page)
    _, stopped_at = record(page, 4)
    medpress.item(0).wait_for_upload_url(timeout_ms=30_000)
    arrived = time.monotonic() - stopped_at
    print(f"recording: Stop → complete on the server in {arrived:.2f} s")
    assert arrived < 3.0, arrived  # the poster follows; the video itself is complete by then


def test_a_reload_during_a_recording_keeps_everything_up_to_the_last_fragment(open_app, tmp_path: Path):
    page = open_app()
    medpress = MedpressPage(page)
    patches = watch_patches(page)
    page.locator(RECORD).click()
    expect(page.locator(RECORD)).to_have_attribute("data-state", "recording", timeout=30_000)
    page.wait_for_timeout(6_000)
    sent = len(patches)  # the init segment and the fragments finished so far
    assert sent >= 3, patches
    [begun] = {target for _, target in patches}
    page.reload()
    expect(page.get_by_test_id("status")).not_to_have_attribute("data-state", "loading", timeout=120_000)

    url = medpress.item(0).wait_for("done", timeout_ms=60_000).wait_for_upload_url()
    assert url == begun  # the upload begun before the reload, continued from the server's offset
    head = page.request.head(url, headers={"Tus-Resumable": "1.0.0"})
    assert head.headers["upload-offset"] == head.headers["upload-length"], head.headers  # complete
    path = stored(page, url, tmp_path / "recovered.mp4")
    boxes = top_level_boxes(path.read_bytes())
    assert boxes[:2] == ["ftyp", "moov"] and boxes[-1] == "mdat", boxes  # ends with its last fragment
    assert boxes.count("moof") >= sent - 1, (boxes, sent)  # every fragment sent before the reload
    info = probe(path)
    print(f"recording: {sent} requests before the reload, {boxes.count('moof')} fragments stored after it, "
          f"{float(info['format']['duration']):.2f} s")
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert float(info["format"]["duration"]) >= 2 * (sent - 2), info["format"]
    assert plays_in_chromium(page, url)["ended"]
    assert upload_metadata(page, url)["reason"] == "recorded"


def test_no_record_control_without_a_camera(playwright, medpress_server):
    """Chromium without the fake devices (this machine has no camera): Record stays hidden."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[arg for arg in CHROMIUM_ARGS if arg not in FAKE_MEDIA_ARGS])
    try:
        page = browser.new_page()
        page.goto(medpress_server.url + "/")
        expect(page.locator("html")).to_have_attribute("data-python", "attached", timeout=120_000)
        page.wait_for_timeout(1_000)  # time enough to look for a camera
        assert page.evaluate("navigator.mediaDevices.enumerateDevices()"
                             ".then(d => d.filter(x => x.kind === 'videoinput').length)") == 0
        expect(page.locator(RECORD)).to_be_hidden()
    finally:
        browser.close()
