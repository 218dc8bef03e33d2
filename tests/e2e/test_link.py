"""The link decides which engine goes first: on a slow uplink x264's smaller output arrives
sooner despite its slower encode (client.core.link, planner.by_arrival). The uplink is
measured from the page's own PATCHes, here slowed by CDP network emulation."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import run_ffmpeg
from tests.e2e.kit import MedpressPage, throttle_uploads, upload_metadata

SLOW = 50_000  # bytes/s: 0.4 Mbit/s, a congested ward access point


def test_a_slow_uplink_measured_from_uploads_puts_the_smaller_output_first(open_app, series: list[Path],
                                                                           tmp_path: Path):
    small = tmp_path / "small.mp4"  # under 1 MB: sent as it is, and measures the link on its way
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "2", "-c:v", "libx264",
               "-preset", "veryfast", "-crf", "8", "-pix_fmt", "yuv420p", str(small))
    assert 300_000 < small.stat().st_size < 1_000_000

    medpress = MedpressPage(open_app())
    expect(medpress.status).to_contain_text("Ready")
    throttle_uploads(medpress.page, SLOW)
    medpress.choose(small).press_start()
    assert upload_metadata(medpress.page, medpress.item(0).wait_for("done").wait_for_upload_url())["reason"] \
        == "small-file"

    medpress.choose(series[0])  # 3 s of 720p: x264 saves about half a megabyte, 10 s on this link
    expect(medpress.status).to_contain_text("thorough: a smaller file for this connection", timeout=30_000)
    expect(medpress.status).to_contain_text(" Mbit/s")
    medpress.press_start()
    medpress.item(1).wait_for("compressing", 60_000)
    throttle_uploads(medpress.page, None)  # the plan is made: no need to wait for the slow link
    meta = upload_metadata(medpress.page, medpress.item(1).wait_for("done").wait_for_upload_url())
    assert (meta["compressed"], meta["engine"]) == ("1", "ffmpeg-mt"), meta
    assert 250 <= int(meta["uplink_kbps"]) <= 420, meta  # 400 kbit/s, less each request's latency
    assert float(meta["arrival_s"]) > 0
