"""The browser encoder's bitrate is steered while it encodes: each keyframe interval's output is
measured as it is made, and the next interval's bitrate moves towards what brings the clip's
mean SSIM just above the gate (``rate.steered_bitrate``). A clip that turns hard half way
gets more bits where it is hard, and still clears the floor as ffmpeg measures the stored file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from client.core.presets import PRESETS, gate_ssim
from tests.conftest import run_ffmpeg
from tests.e2e.conftest import upload_metadata
from tests.e2e.test_compress_upload import compress_and_send
from tests.support.media_probe import ssim

BITRATES = re.compile(r"medpress bitrates: ([\d ]+) kbit/s")
CALM_S, NOISY_S = 5, 5


@pytest.fixture(scope="module")
def turns_hard(media_dir: Path) -> Path:
    """10 s of 720p test pattern, calm for 5 s, then under temporal noise."""
    path = media_dir / "turns-hard.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-vf", f"noise=alls=3:allf=t:enable='gte(t,{CALM_S})'", "-t", str(CALM_S + NOISY_S),
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )
    return path


def test_a_clip_that_turns_hard_gets_more_bits_where_it_is_hard(open_app, turns_hard: Path, tmp_path: Path):
    page = open_app("?engine=webcodecs")
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    page.get_by_test_id("preset").select_option("medical-standard")
    url, _ = compress_and_send(page, turns_hard)
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta.get("engine")) == ("1", "webcodecs"), meta["reason"]

    [rates] = [[int(k) * 1000 for k in m[1].split()] for m in map(BITRATES.search, logged) if m]
    # keyframes at 0, 1, 3, 5, 7 and 9 s: three calm intervals, then three noisy ones. Each
    # interval's bitrate follows from the one before it (the first counts only in the mean).
    assert len(rates) == 6, rates
    calm, noisy = min(rates[2:4]), max(rates[4:])
    assert noisy > 1.3 * calm, rates  # steered down while calm, up once the noise began
    assert int(meta["bitrate"]) == pytest.approx(sum(rates) / len(rates), rel=0.001)  # what was asked, on average

    out = tmp_path / "steered.mp4"
    out.write_bytes(page.request.get(url).body())
    assert float(meta["ssim"]) >= gate_ssim("medical-standard")  # the page's measure, on its samples
    assert ssim(out, turns_hard) >= PRESETS["medical-standard"].min_ssim  # ffmpeg's, whole file
