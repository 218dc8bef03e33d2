"""The spine: pick a video, Python compresses it in a worker, it lands on the server.
Each engine is forced in turn with ?engine=…; the default picks WebCodecs here."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import upload_metadata
from tests.support.media_probe import probe, ssim, video_stream

ROOT = Path(__file__).resolve().parents[2]
COMPRESS_TIMEOUT_MS = 240_000


def compress_and_send(page, path: Path) -> tuple[str, float]:
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(path)
    expect(status).to_contain_text("Ready")  # the preview: expected size and time, or why not
    started = time.monotonic()
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "done", timeout=COMPRESS_TIMEOUT_MS)
    return status.get_attribute("data-upload-url"), time.monotonic() - started


@pytest.mark.parametrize(("query", "engine"), [("", "webcodecs"), ("?engine=ffmpeg-mt", "ffmpeg-mt"),
                                               ("?engine=ffmpeg", "ffmpeg")])
def test_compressed_video_lands_on_the_server(open_app, query, engine, clip720: Path, tmp_path: Path):
    page = open_app(query)
    assert page.evaluate("crossOriginIsolated") is True
    url, seconds = compress_and_send(page, clip720)
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("smaller")
    if not query:
        # The README shows this screenshot (copied to docs/page-done.png).
        page.screenshot(path=str(ROOT / "test-results" / "page-done.png"), full_page=True)

    # The progress bar really moved through compression and upload.
    seen = page.evaluate("window.__medpressStates")
    states = [s["state"] for s in seen]
    assert states.index("ready") < states.index("compressing") < states.index("uploading") < states.index("done")
    midway = [s["percent"] for s in seen if s["state"] == "compressing" and s["percent"]]
    assert any(0 < p < 100 for p in midway), seen

    assert url and url.startswith(page.url.split("?")[0].rstrip("/") + "/files/")
    meta = upload_metadata(page, url)
    assert (meta["engine"], meta["compressed"], meta["preset"]) == (engine, "1", "medical-standard")
    response = page.request.get(url)  # same cookies as the page: the owner
    assert response.status == 200
    out = tmp_path / "downloaded.mp4"
    out.write_bytes(response.body())

    info, source = probe(out), probe(clip720)
    assert "mp4" in info["format"]["format_name"]
    video = video_stream(info)
    assert video["codec_name"] == "h264" and video.get("color_range", "tv") == "tv"
    assert max(video["width"], video["height"]) <= 1280
    assert any(s["codec_type"] == "audio" and s["codec_name"] == "aac" for s in info["streams"])
    assert abs(float(info["format"]["duration"]) - float(source["format"]["duration"])) <= 0.2
    assert out.stat().st_size < clip720.stat().st_size
    score = ssim(out, clip720)
    assert score >= 0.95
    if engine == "webcodecs":  # the browser measured its own output, close to what ffmpeg says
        assert abs(float(meta["ssim"]) - score) <= 0.02, (meta["ssim"], score)

    figures = {"engine": engine, "seconds_start_to_done": round(seconds, 1),
               "input_bytes": clip720.stat().st_size, "output_bytes": out.stat().st_size,
               "ssim": round(score, 4)}
    (ROOT / "test-results").mkdir(exist_ok=True)
    (ROOT / "test-results" / f"compress-upload-{engine}.json").write_text(json.dumps(figures, indent=2))


def test_another_session_cannot_download_it(app_page, clip720: Path, browser, server):
    page = app_page
    status = page.get_by_test_id("status")
    page.get_by_test_id("priority").select_option("emergency")  # quick: no compression
    url, _ = compress_and_send(page, clip720)
    expect(status).to_contain_text("Emergency")
    assert page.request.get(url).body() == clip720.read_bytes()
    assert upload_metadata(page, url)["reason"] == "emergency"

    stranger = browser.new_context()
    try:
        stranger.request.get(server.url + "/")  # gets a session of its own
        assert stranger.request.get(url).status == 404
    finally:
        stranger.close()
