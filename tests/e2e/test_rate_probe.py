"""Each engine's rate is chosen per clip: a probe encodes a few short windows of it at three
settings (x264's CRFs in ffmpeg.wasm; the browser encoder's bitrates with WebCodecs),
measures their SSIM against the source, and the encode runs at the cheapest setting
predicted to clear the preset's floor; the output is measured too before it ships.

Two clips of the same length and size, both at medical-standard: an easy one (the test
pattern) and a hard one (a detailed scene panning, with sensor-like noise). The easy one
must get fewer bits, both must clear the floor as ffmpeg measures the stored files. (Pure
noise, e.g. ``noise=alls=20``, cannot reach the floor with a smaller file than its source at
any CRF: it would only test the fallback to the original.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.core.presets import PRESETS
from tests.conftest import run_ffmpeg
from tests.e2e.conftest import ROOT, upload_metadata
from tests.e2e.test_compress_upload import compress_and_send
from tests.support.media_probe import ssim

SECONDS = 6
FLOOR = PRESETS["medical-standard"].min_ssim


@pytest.fixture(scope="module")
def easy_clip(media_dir: Path) -> Path:
    path = media_dir / "rate-easy.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(SECONDS), "-c:v", "libx264", "-preset", "veryfast", "-crf", "16",
        "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )
    return path


@pytest.fixture(scope="module")
def hard_clip(media_dir: Path) -> Path:
    path = media_dir / "rate-hard.mp4"
    frames = SECONDS * 30
    run_ffmpeg(
        "-f", "lavfi", "-i",
        f"mandelbrot=s=1600x900:maxiter=300:start_scale=1.2:rate=30,trim=end_frame=1,"
        f"loop=loop={frames - 1}:size=1,setpts=N/30/TB,format=yuv420p",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-filter_complex",
        "[0:v]crop=1280:720:x='160+150*sin(2*PI*t/4)':y='90+80*sin(2*PI*t/3)',"
        "noise=alls=4:allf=t,format=yuv420p[v]",
        "-map", "[v]", "-map", "1:a", "-t", str(SECONDS), "-c:v", "libx264", "-preset", "veryfast",
        "-crf", "16", "-c:a", "aac", str(path),
    )
    return path


SETTING = {"ffmpeg-mt": "crf", "webcodecs": "bitrate"}  # what each engine's probe chooses


def sent(open_app, query: str, clip: Path, out: Path) -> tuple[dict[str, str], float]:
    page = open_app(query)
    page.get_by_test_id("preset").select_option("medical-standard")
    url, _ = compress_and_send(page, clip)
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta.get("preset")) == ("1", "medical-standard"), meta["reason"]
    out.write_bytes(page.request.get(url).body())
    return meta, ssim(out, clip)


# WebCodecs comes first in the page's own order; on the hard clip (noise) the browser's encoder
# may not reach the floor at any bitrate it is allowed, and x264 then ships it.
@pytest.mark.parametrize(("query", "engine"), [("?engine=ffmpeg-mt", "ffmpeg-mt"), ("", "webcodecs")])
def test_the_easy_clip_gets_fewer_bits_and_both_clear_the_floor(open_app, query, engine, easy_clip, hard_clip,
                                                                 tmp_path):
    easy, easy_ssim = sent(open_app, query, easy_clip, tmp_path / "easy.mp4")
    hard, hard_ssim = sent(open_app, query, hard_clip, tmp_path / "hard.mp4")
    assert easy["engine"] == engine and hard["engine"] in (engine, "ffmpeg-mt"), (easy, hard)
    for meta, measured in ((easy, easy_ssim), (hard, hard_ssim)):
        assert {SETTING[meta["engine"]], "ssim", "probe_s"} <= meta.keys(), meta
        assert measured >= FLOOR, (meta, measured)  # ffmpeg on the stored file, whole clip
        assert float(meta["ssim"]) >= FLOOR  # what the page measured on its samples
        assert abs(float(meta["ssim"]) - measured) <= 0.005, (meta["ssim"], measured)
        assert 0 < float(meta["probe_s"]) < 60
    figures = {name: {**{k: meta[k] for k in ("engine", SETTING[meta["engine"]], "probe_s")},
                      "page_ssim": float(meta["ssim"]), "ssim": round(measured, 4),
                      "input_bytes": clip.stat().st_size, "output_bytes": (tmp_path / f"{name}.mp4").stat().st_size}
               for name, meta, measured, clip in (("easy", easy, easy_ssim, easy_clip),
                                                  ("hard", hard, hard_ssim, hard_clip))}
    (ROOT / "test-results").mkdir(exist_ok=True)
    (ROOT / "test-results" / f"rate-probe-{engine}.json").write_text(json.dumps(figures, indent=2))
    if hard["engine"] == engine:
        setting = SETTING[engine]
        cheaper = float(easy[setting]) > float(hard[setting]) if setting == "crf" else \
            float(easy[setting]) < float(hard[setting])
        assert cheaper, (easy, hard)
    assert (tmp_path / "easy.mp4").stat().st_size < (tmp_path / "hard.mp4").stat().st_size
