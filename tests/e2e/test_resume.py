"""Resume mid-file: a streamed clip's fragments are kept in the Origin Private File System as
they are made, so a reload in the middle of a long clip loses only the fragment under way. The
encode goes on from the first GOP not stored (the decoder seeks to its keyframe), the new
fragments continue the old ones' numbering and decode times, and the upload goes on from the
server's offset: the stored file is one whole clip, every source frame in it once."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest

from client.core.presets import PRESETS
from tests.conftest import run_ffmpeg
from tests.e2e.conftest import LOAD_TIMEOUT_MS
from tests.e2e.kit import MedpressPage, upload_metadata
from tests.e2e.test_streaming import STREAMED, streaming  # noqa: F401 (a fixture)
from tests.support.media_probe import frame_count, probe, ssim

RESUMED = re.compile(r"medpress stream resumed: (\d+) pieces \((\d+) frames\) kept, from ([\d.]+) s")
FRAME_PATH = re.compile(r"medpress frame path: \S+ \((\{.*?\})")
PRESET = "medical-standard"


@pytest.fixture(scope="session")
def clip60(media_dir: Path) -> Path:
    """60 s of 1280x720 30 fps test pattern under light noise (about 60 MB, as a phone would
    write it: worth compressing), with a tone, a keyframe every second."""
    path = media_dir / "clip60.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30,noise=alls=6:allf=t",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "60", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-g", "30",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(path),
    )
    return path


def test_a_reload_mid_clip_encodes_and_sends_only_what_was_not_stored(streaming, open_app, server,  # noqa: F811
                                                                        clip60: Path, tmp_path: Path):
    page = open_app("?engine=webcodecs")
    tus: list[tuple[str, str, dict[str, str]]] = []
    said: list[str] = []
    page.on("request", lambda r: tus.append((r.method, r.url, r.headers)) if "/files/" in r.url else None)
    page.on("console", lambda m: said.append(m.text) if m.text.startswith("medpress ") else None)
    medpress = MedpressPage(page)
    medpress.set_preset(PRESET).choose(clip60).press_start()

    # Reload once a few fragments (2 s each) have been stored and sent.
    deadline = time.monotonic() + 120
    while sum(method == "PATCH" for method, _, _ in tus) < 6:
        assert time.monotonic() < deadline, [(method, url) for method, url, _ in tus]
        page.wait_for_timeout(50)
    assert sum(method == "POST" and "upload-defer-length" in headers for method, _, headers in tus) == 1
    begun = next(url for method, url, _ in tus if method == "PATCH")
    before = len(tus)
    page.reload()
    page.wait_for_function("document.documentElement.dataset.python === 'attached'", timeout=LOAD_TIMEOUT_MS)
    url = medpress.item(0).wait_for("done", timeout_ms=240_000).wait_for_upload_url()

    # One upload from first to last: after the reload it went on from the server's offset.
    after = tus[before:]
    assert url == begun
    assert not [u for method, u, headers in after if method == "POST" and "upload-defer-length" in headers]
    patches = [headers for method, u, headers in after if method == "PATCH" and u == url]
    assert patches and int(patches[0]["upload-offset"]) > 0, patches[:1]

    # The fragments stored before the reload were not encoded again.
    [resumed] = [RESUMED.match(line) for line in said if RESUMED.match(line)]
    kept_pieces, kept_frames, kept_until = int(resumed[1]), int(resumed[2]), float(resumed[3])
    assert kept_pieces >= 3 and kept_frames >= 60 and kept_until > 2, resumed[0]
    [counts] = [json.loads(FRAME_PATH.match(line)[1]) for line in said if FRAME_PATH.match(line)]
    encoded_after = sum(counts.values())
    source_frames = frame_count(clip60)
    assert kept_frames + encoded_after == source_frames, (kept_frames, encoded_after, source_frames)

    # What arrived is what the engine made, and one whole clip: every frame, the duration, the floor.
    [line] = [STREAMED.match(line) for line in said if STREAMED.match(line)]
    body = page.request.get(url).body()
    assert len(body) == int(line[2]) and hashlib.sha256(body).hexdigest() == line[3]
    out = tmp_path / "resumed.mp4"
    out.write_bytes(body)
    assert abs(frame_count(out) - source_frames) <= 1
    duration, source_duration = (float(probe(path)["format"]["duration"]) for path in (out, clip60))
    assert abs(duration - source_duration) <= 1 / 30 + 0.03, (duration, source_duration)
    assert any(s["codec_type"] == "audio" for s in probe(out)["streams"])
    assert ssim(out, clip60) >= PRESETS[PRESET].min_ssim
    meta = upload_metadata(page, url)
    assert (meta["engine"], meta["compressed"]) == ("webcodecs", "1"), meta
