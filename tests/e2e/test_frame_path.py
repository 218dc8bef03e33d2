"""The WebCodecs frame path: decoded 1080p frames are pre-scaled by our bicubic WebAssembly
kernel (wasm/src/scaler.js) before the encoder, and the stored file keeps the source's colour
tags. The worker says which path its frames took on its console ("medpress frame path: …"),
where QA reads it (DevTools, or Playwright's console events as here)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from client.core.presets import PRESETS
from tests.conftest import run_ffmpeg
from tests.e2e.conftest import upload_metadata
from tests.e2e.kit import MedpressPage
from tests.support.media_probe import frame_count, probe, ssim, video_stream

PRESET = "medical-standard"
FRAME_PATH = "medpress frame path: "


@pytest.fixture(scope="session")
def noisy1080(media_dir: Path) -> Path:
    """4 s of 1920x1080 30 fps test pattern with mild temporal noise, tagged BT.709 TV range
    as phones tag theirs (about 6 MB): WebCodecs meets medical-standard's floor on it."""
    path = media_dir / "noisy1080.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30,noise=alls=4:allf=t",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "4", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M", "-maxrate", "14M",
        "-bufsize", "28M", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709",
        "-color_trc", "bt709", "-color_range", "tv", "-c:a", "aac", "-b:a", "96k", str(path),
    )
    return path


SCALE_IN_PAGE = """
async ({ i420, width, height }) => {
  const { FrameScaler } = await import(`${document.documentElement.dataset.vendor}/app/scaler.js`);
  const data = Uint8Array.from(atob(i420), (c) => c.charCodeAt(0));
  const frame = new VideoFrame(data, { format: "I420", codedWidth: 1920, codedHeight: 1080, timestamp: 0 });
  const scaler = await FrameScaler.create(width, height);
  const scaled = await scaler.scale(frame);
  const out = new Uint8Array(scaled.allocationSize());
  await scaled.copyTo(out);
  frame.close();
  scaled.close();
  let text = "";
  for (let i = 0; i < out.length; i += 0x8000) text += String.fromCharCode(...out.subarray(i, i + 0x8000));
  return btoa(text);
}
"""


def test_the_kernel_scales_as_ffmpeg_does(app_page, tmp_path: Path):
    """Bit for bit ffmpeg's default bicubic (its C path), chroma sited as H.264's default
    (left: ffmpeg 5.1 assumes centred chroma unless told, hence the chroma positions)."""
    source, expected = tmp_path / "frame.yuv", tmp_path / "expected.yuv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=1,noise=alls=20", "-frames:v", "1",
               "-pix_fmt", "yuv420p", "-f", "rawvideo", str(source))
    run_ffmpeg("-cpuflags", "0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1920x1080", "-i", str(source),
               "-vf", "scale=1280:720:in_h_chr_pos=0:out_h_chr_pos=0", "-f", "rawvideo", str(expected))
    i420 = base64.b64encode(source.read_bytes()).decode()
    scaled = app_page.evaluate(SCALE_IN_PAGE, {"i420": i420, "width": 1280, "height": 720})
    assert base64.b64decode(scaled) == expected.read_bytes()


def compress_on_webcodecs(page, clip: Path, tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """Compress `clip` at medical-standard; the stored file, its metadata and the frame path
    lines the engine's worker logged."""
    said = []
    page.on("console", lambda message: said.append(message.text) if message.text.startswith(FRAME_PATH) else None)
    medpress = MedpressPage(page).set_preset(PRESET).choose(clip).press_start()
    url = medpress.item(0).wait_for("done").wait_for_upload_url()
    out = tmp_path / "stored.mp4"
    out.write_bytes(page.request.get(url).body())
    return out, upload_metadata(page, url), said


def test_1080p_frames_are_prescaled_and_keep_their_colour_tags(open_app, noisy1080: Path, tmp_path: Path):
    page = open_app("?engine=webcodecs")
    out, meta, said = compress_on_webcodecs(page, noisy1080, tmp_path)
    assert (meta["engine"], meta["compressed"], meta["preset"]) == ("webcodecs", "1", PRESET)
    assert len(said) == 1 and said[0].startswith(FRAME_PATH + "wasm ("), said  # every frame pre-scaled

    video, source = video_stream(probe(out)), video_stream(probe(noisy1080))
    assert (video["width"], video["height"]) == (1280, 720)
    assert video["color_range"] == "tv"
    tags = ("color_space", "color_primaries", "color_transfer")
    assert [video.get(tag) for tag in tags] == [source[tag] for tag in tags] == ["bt709"] * 3
    assert frame_count(out) == frame_count(noisy1080)  # a streamed (fragmented) output declares no count
    assert ssim(out, noisy1080) >= PRESETS[PRESET].min_ssim


def test_without_the_kernel_the_encoder_scales_as_before(open_app, noisy1080: Path, tmp_path: Path):
    page = open_app("?engine=webcodecs")
    page.context.route("**/scale.wasm", lambda route: route.abort())  # the worker fetches it
    out, meta, said = compress_on_webcodecs(page, noisy1080, tmp_path)
    assert (meta["engine"], meta["compressed"]) == ("webcodecs", "1")
    assert len(said) == 1 and said[0].startswith(FRAME_PATH + "encoder ("), said
    video = video_stream(probe(out))
    assert (video["width"], video["height"], video["color_range"]) == (1280, 720, "tv")
