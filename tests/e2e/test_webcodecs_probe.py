"""The WebCodecs engine's quality measures, in the real page: the rate probe
(``medpressGlue.probeWebCodecs``), ffmpeg's SSIM in our WebAssembly kernel (wasm/kernels/ssim.c),
the engine's own measure of its output, and the early verdict (``abandonBelow``) that gives
up on an output that cannot reach the floor. Most tests call the glue as Python does, to
look at what it measured; the last one goes through the page as a clinician would."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from client.core.webcodecs import codec_string
from tests.conftest import run_ffmpeg
from tests.e2e.conftest import upload_metadata
from tests.e2e.test_compress_upload import compress_and_send
from tests.support.media_probe import ssim_planes

WIDTH, HEIGHT, FPS = 1280, 720, 30
RATES = [400_000, 1_000_000, 2_500_000]
WINDOWS = [[0.2, 0.5], [1.9, 0.5], [3.1, 0.5]]  # near the keyframes at 0, 2 and 3 s


def encoder(bitrate: int, **extra: object) -> dict:
    """The encoder options Python plans (client.core.webcodecs.webcodecs_config)."""
    return {"codec": codec_string(WIDTH, HEIGHT, FPS, bitrate), "width": WIDTH, "height": HEIGHT,
            "bitrate": bitrate, "framerate": FPS, "keyIntervalS": 2.0, **extra}


PROBE = """
async ({ encoder, windows, bitrates }) => {
  const file = document.querySelector('[data-testid="file-input"]').files[0];
  const times = [];
  const answer = await window.medpressGlue.probeWebCodecs(file, {
    encoder, windows, bitrates, stallMs: 60000, onTime: (seconds) => times.push(seconds),
  });
  return { ...answer, times };
}
"""


def probe(page, clip: Path) -> dict:
    page.get_by_test_id("file-input").set_input_files(clip)
    answer = page.evaluate(PROBE, {"encoder": encoder(RATES[1]), "windows": WINDOWS, "bitrates": RATES})
    assert answer["ok"], answer
    return answer["value"]


def keyframes(clip: Path) -> list[float]:
    listing = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0",
         str(clip)], check=True, capture_output=True, text=True,
    ).stdout.split()
    return [float(line.split(",")[0]) for line in listing if ",K" in line]


def test_the_probe_ranks_bitrates_and_clips(app_page, easy1080: Path, hard1080: Path):
    easy, hard = probe(app_page, easy1080), probe(app_page, hard1080)
    for clip, found in ((easy1080, easy), (hard1080, hard)):
        # Each window moved to the keyframe nearest its start (about one a second here).
        keys = keyframes(clip)
        nearest = [min(keys, key=lambda k, start=start: abs(k - start)) for start, _ in WINDOWS]
        assert [length for _, length in found["windows"]] == [0.5] * 3
        assert [start for start, _ in found["windows"]] == pytest.approx(nearest, abs=1e-3), found["windows"]
        assert found["frames"] == 3 * 15 and found["seconds"] > 0
        samples = found["samples"]
        assert [s["bitrate"] for s in samples] == RATES
        assert all(s["frames"] == 45 and len(s["windowSsim"]) == 3 for s in samples), samples
        ssims = [s["ssim"] for s in samples]
        assert all(0 < v <= 1 for v in ssims) and ssims == sorted(ssims) and len(set(ssims)) == 3, ssims
    for easy_sample, hard_sample in zip(easy["samples"], hard["samples"], strict=True):
        assert easy_sample["ssim"] > hard_sample["ssim"] + 0.01, (easy_sample, hard_sample)


SSIM_OF_PLANES = """
async ({ a, b, width, height }) => {
  const { PlaneSsim } = await import(`${document.documentElement.dataset.vendor}/app/ssim.js`);
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const ssim = await PlaneSsim.create(width, height);
  return ssim.compare(bytes(a), bytes(b));
}
"""


def ffmpeg_ssim_y(distorted: Path, reference: Path, size: str) -> float:
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size]
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", *raw, "-i", str(distorted), *raw, "-i", str(reference),
         "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
        check=True, capture_output=True, text=True,
    )
    match = re.search(r"SSIM Y:([0-9.]+)", result.stderr)
    assert match, result.stderr[-2000:]
    return float(match.group(1))


@pytest.mark.parametrize(("size", "noise", "crf"), [("1280x720", 8, 30), ("854x480", 20, 40)])
def test_the_kernel_reads_what_ffmpegs_ssim_filter_reads(app_page, tmp_path: Path, size: str, noise: int,
                                                         crf: int):
    """Same two frames, same Y figure: ffmpeg prints six decimals and the kernel does its
    arithmetic (854 is not a multiple of 16: the kernel's scalar tail is exercised)."""
    reference, encoded, distorted = tmp_path / "ref.yuv", tmp_path / "enc.mp4", tmp_path / "dist.yuv"
    run_ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30,noise=alls={noise}:allf=t", "-frames:v", "1",
               "-pix_fmt", "yuv420p", "-f", "rawvideo", str(reference))
    run_ffmpeg("-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-i", str(reference), "-c:v", "libx264",
               "-crf", str(crf), str(encoded))
    run_ffmpeg("-i", str(encoded), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(distorted))
    width, height = map(int, size.split("x"))
    luma = width * height
    planes = {name: base64.b64encode(path.read_bytes()[:luma]).decode()
              for name, path in (("a", reference), ("b", distorted))}
    ours = app_page.evaluate(SSIM_OF_PLANES, {**planes, "width": width, "height": height})
    theirs = ffmpeg_ssim_y(distorted, reference, size)
    assert 0.2 < theirs < 0.995
    assert abs(ours - theirs) <= 1.5e-6, (ours, theirs)


TRANSCODE = """
async ({ encoder }) => {
  const file = document.querySelector('[data-testid="file-input"]').files[0];
  const times = [];
  const answer = await window.medpressGlue.transcodeWebCodecs(file, {
    encoder, stallMs: 60000, onTime: (seconds) => times.push(seconds),
  });
  if (!answer.ok) return { ...answer, times };
  const bytes = new Uint8Array(await answer.value.blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { ok: true, ssim: answer.value.ssim, mp4: btoa(text), times };
}
"""


def test_the_engine_measures_its_output_as_ffmpeg_would(app_page, easy1080: Path, tmp_path: Path):
    """The engine's `ssim` (every third frame, against the frames it pre-scaled, decoded as
    they were encoded) against ffmpeg's Y over every frame against its own bicubic scale;
    abandonBelow far under what it reaches changes nothing."""
    app_page.get_by_test_id("file-input").set_input_files(easy1080)
    made = app_page.evaluate(TRANSCODE, {"encoder": encoder(1_500_000, abandonBelow=0.5)})
    assert made["ok"], made
    out = tmp_path / "out.mp4"
    out.write_bytes(base64.b64decode(made["mp4"]))
    assert abs(made["ssim"] - ssim_planes(out, easy1080)["Y"]) < 0.001
    assert max(made["times"]) > 3.5  # to the end


def test_an_output_clearly_below_the_floor_is_abandoned_after_two_seconds(open_app, hard1080: Path):
    page = open_app("?engine=webcodecs")
    page.get_by_test_id("file-input").set_input_files(hard1080)
    floor = 0.97
    answer = page.evaluate(TRANSCODE, {"encoder": encoder(300_000, abandonBelow=floor)})
    assert (answer["ok"], answer["code"]) == (False, "below-floor"), answer
    verdict = json.loads(answer["detail"])
    assert verdict["ssim"] < floor - 0.004 and verdict["frames"] >= 2 * FPS - 1
    assert 1.9 <= verdict["seconds"] < 2.0  # the last frame judged: the first 2 s of media
    # The media time the engine had reached when it stopped: about 2 s, far from the clip's
    # 10 s (the output lags the input by the encoder's queue), and its progress said so.
    assert 2.0 <= verdict["reached"] <= 3.0, verdict
    assert 1.5 <= max(answer["times"]) <= verdict["reached"], answer["times"]


def analytics_events(server, kind: str) -> list[dict]:
    rows = sqlite3.connect(server.data_dir / "medpress.db").execute(
        "SELECT event FROM analytics_events WHERE type = ?", (kind,)).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_an_engine_that_cannot_reach_the_floor_is_given_up_within_seconds(open_app, server, hard1080: Path):
    """Heavy sensor noise at full 1080p: no bitrate the browser's encoder may use reaches
    medical-high's floor. The probe or the first two seconds of output say so, and the
    engine is given up within seconds of starting instead of after the whole encode."""
    page = open_app("?engine=webcodecs")  # the only engine: the original follows
    page.get_by_test_id("preset").select_option("medical-high")
    before = len(analytics_events(server, "compression_failed"))
    url, _ = compress_and_send(page, hard1080)
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["reason"]) == ("0", "below-floor"), meta
    page.goto("about:blank")  # leaving sends what analytics still hold (sendBeacon on pagehide)
    deadline = time.monotonic() + 15
    while len(failed := analytics_events(server, "compression_failed")) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [(e["engine"], e["code"]) for e in failed[before:]] == [("webcodecs", "below-floor")], failed
    # Here the probe rules it out after 2.9 s (its three 1080p windows at three bitrates, on 2
    # busy cores); the whole encode would take longer than the clip's 10 s at this size.
    assert failed[-1]["seconds"] <= 4.5, failed[-1]
