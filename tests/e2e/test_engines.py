"""The engine chain under stress: a broken engine falls back to the next, a stalled one
is stopped by the watchdog, Cancel stops everything, and no output carries identifying
container metadata."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import run_ffmpeg
from tests.e2e.conftest import stored_uploads, upload_metadata
from tests.e2e.test_compress_upload import compress_and_send

IDENTIFYING = {
    "title": "Jane Example, bed 12",
    "comment": "MRN 1234567",
    "artist": "Dr Someone",
    "location": "+51.5072-000.1276/",
    "com.apple.quicktime.location.ISO6709": "+51.5072-000.1276+011.000/",
}


def test_broken_webcodecs_falls_back_to_ffmpeg(open_app, clip720: Path):
    page = open_app()
    page.context.route("**/webcodecs-worker.js", lambda route: route.abort())
    url, _ = compress_and_send(page, clip720)
    meta = upload_metadata(page, url)
    assert (meta["engine"], meta["compressed"]) == ("ffmpeg-mt", "1")


def test_every_engine_broken_sends_the_original_and_says_so(open_app, clip720: Path):
    page = open_app()
    page.context.route("**/webcodecs-worker.js", lambda route: route.abort())
    page.context.route("**/ffmpeg-core.wasm", lambda route: route.abort())
    url, _ = compress_and_send(page, clip720)
    expect(page.get_by_test_id("status")).to_contain_text("Compression did not work")
    meta = upload_metadata(page, url)
    assert (meta["reason"], meta["stripped"]) == ("compression-failed", "1")
    assert same_streams(page.request.get(url).body(), clip720)  # remuxed, never re-encoded


def test_watchdog_stops_an_engine_that_makes_no_progress(open_app, clip720: Path):
    page = open_app("?engine=ffmpeg-mt&stall=2")
    held = []
    page.context.route("**/ffmpeg-core.wasm", lambda route: held.append(route))  # never answered
    started = time.monotonic()
    url, _ = compress_and_send(page, clip720)
    assert time.monotonic() - started < 30  # far inside the 120 s routine budget
    assert held, "the engine did not even try to load"
    assert upload_metadata(page, url)["reason"] == "compression-failed"


def test_cancel_stops_compression_and_sends_nothing(open_app, server, clip720: Path):
    page = open_app("?engine=ffmpeg")
    before = stored_uploads(server)
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("start").click()
    expect(status).to_contain_text("% ·", timeout=60_000)  # encoding is under way
    page.get_by_test_id("cancel").click()
    expect(status).to_have_attribute("data-state", "ready")
    expect(status).to_contain_text("Cancelled")
    expect(page.get_by_test_id("start")).to_be_enabled()
    page.wait_for_timeout(1500)
    expect(status).to_contain_text("Cancelled")  # nothing still running overwrote it
    assert stored_uploads(server) == before


@pytest.fixture(scope="session")
def tagged_clip(media_dir: Path) -> Path:
    """A phone-like clip whose container and streams carry identifying tags."""
    return make_tagged(media_dir / "tagged.mov", "1280x720", seconds=4, crf=12)


@pytest.fixture(scope="session")
def tagged_small(media_dir: Path) -> Path:
    """A tagged clip under 1 MB: sent as it is (small-file), but without its tags."""
    return make_tagged(media_dir / "tagged-small.mov", "320x240", seconds=2, crf=28)


def make_tagged(path: Path, size: str, *, seconds: int, crf: int) -> Path:
    tags = [arg for key, value in IDENTIFYING.items() for arg in ("-metadata", f"{key}={value}")]
    run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
        "-pix_fmt", "yuv420p", "-c:a", "aac", *tags, "-metadata:s:v",
        "handler_name=Serial SN-998877", "-movflags", "+use_metadata_tags", str(path),
    )
    return path


@pytest.mark.parametrize("query", ["", "?engine=ffmpeg-mt"])
def test_output_carries_no_identifying_metadata(open_app, query, tagged_clip: Path, tmp_path: Path):
    source_tags = ffprobe_text(tagged_clip)
    assert "MRN 1234567" in source_tags and "+51.5072" in source_tags  # the test input is tagged

    page = open_app(query)
    url, _ = compress_and_send(page, tagged_clip)
    assert upload_metadata(page, url)["compressed"] == "1"
    out = tmp_path / "out.mp4"
    out.write_bytes(page.request.get(url).body())
    tags = ffprobe_text(out)
    for value in [*IDENTIFYING.values(), "SN-998877"]:
        assert value not in tags, value


def ffprobe_text(path: Path) -> str:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout


@pytest.mark.parametrize("reason", ["small-file", "compression-failed"])
def test_originals_sent_by_fallback_leave_without_location(
    open_app, reason, tagged_clip: Path, tagged_small: Path, tmp_path: Path
):
    source = tagged_small if reason == "small-file" else tagged_clip
    assert "+51.5072" in ffprobe_text(source)  # the test input is tagged
    page = open_app()
    if reason == "compression-failed":
        page.context.route("**/webcodecs-worker.js", lambda route: route.abort())
        page.context.route("**/ffmpeg-core.wasm", lambda route: route.abort())
    url, _ = compress_and_send(page, source)
    meta = upload_metadata(page, url)
    assert (meta["reason"], meta["compressed"], meta["stripped"]) == (reason, "0", "1")
    body = page.request.get(url).body()
    out = tmp_path / "sent.mov"
    out.write_bytes(body)
    tags = ffprobe_text(out)
    for value in [*IDENTIFYING.values(), "SN-998877"]:
        assert value not in tags, value
    assert same_streams(body, source)  # the pictures and sound are bit for bit the source's


def same_streams(sent: bytes, source: Path) -> bool:
    """Whether ``sent`` holds the very packets of ``source`` (a remux, not a re-encode)."""
    with tempfile.NamedTemporaryFile(suffix=source.suffix) as copy:
        copy.write(sent)
        copy.flush()
        return _packet_md5(Path(copy.name)) == _packet_md5(source)


def _packet_md5(path: Path) -> str:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-map", "0:a:0",
         "-c", "copy", "-f", "md5", "-"],
        check=True, capture_output=True, text=True,
    ).stdout
