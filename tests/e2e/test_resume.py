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
from tests.e2e.conftest import LOAD_TIMEOUT_MS, STREAMED
from tests.e2e.kit import MedpressPage, stored_uploads, throttle_uploads, upload_metadata
from tests.support.media_probe import frame_count, probe, ssim

RESUMED = re.compile(r"medpress stream resumed: (\d+) pieces \((\d+) frames\) kept, from ([\d.]+) s")
FRAME_PATH = re.compile(r"medpress frame path: \S+ \((\{.*?\})")  # WebCodecs: the frames it encoded
SEGMENTS = re.compile(r"medpress segments: \d+ runs, (\d+) frames encoded")  # x264's
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


class Watched:
    """The page's tus requests (method, URL, headers) and medpress's console lines."""

    def __init__(self, page) -> None:
        self.page = page
        self.tus: list[tuple[str, str, dict[str, str]]] = []
        self.said: list[str] = []
        page.on("request", lambda r: self.tus.append((r.method, r.url, r.headers)) if "/files/" in r.url else None)
        page.on("console", lambda m: self.said.append(m.text) if m.text.startswith("medpress ") else None)

    def wait_for_patches(self, count: int, timeout_s: float = 120) -> str:
        """Once `count` PATCHes have gone (the first pieces: 2 s fragments): the streamed upload's URL."""
        deadline = time.monotonic() + timeout_s
        while sum(method == "PATCH" for method, _, _ in self.tus) < count:
            assert time.monotonic() < deadline, [(method, url) for method, url, _ in self.tus]
            self.page.wait_for_timeout(50)
        assert sum(method == "POST" and "upload-defer-length" in headers for method, _, headers in self.tus) == 1
        return next(url for method, url, _ in self.tus if method == "PATCH")

    def lines(self, pattern: re.Pattern) -> list[re.Match]:
        return [found for line in self.said if (found := pattern.match(line))]


def encoded_frames(watched: Watched) -> int:
    """The frames the engine encoded after the interruption (its one line saying so)."""
    webcodecs = [sum(json.loads(found[1]).values()) for found in watched.lines(FRAME_PATH)]
    x264 = [int(found[1]) for found in watched.lines(SEGMENTS)]
    [frames] = webcodecs + x264
    return frames


def assert_resumed(watched: Watched, url: str, since: int, clip: Path, tmp_path: Path, engine: str) -> None:
    """After request `since`, the clip went on where it stopped: the same upload, from the
    server's offset; the frames stored before were not encoded again; and what arrived is what
    the engine made, one whole clip: every frame, its duration and audio, the preset's floor."""
    after = watched.tus[since:]
    assert not [u for method, u, headers in after if method == "POST" and "upload-defer-length" in headers]
    patches = [headers for method, u, headers in after if method == "PATCH" and u == url]
    assert patches and int(patches[0]["upload-offset"]) > 0, patches[:1]

    [resumed] = watched.lines(RESUMED)
    kept_pieces, kept_frames, kept_until = int(resumed[1]), int(resumed[2]), float(resumed[3])
    assert kept_pieces >= 3 and kept_frames >= 60 and kept_until > 2, resumed[0]
    source_frames = frame_count(clip)
    encoded = encoded_frames(watched)
    assert kept_frames + encoded == source_frames, (kept_frames, encoded, source_frames)

    [streamed] = watched.lines(STREAMED)
    body = watched.page.request.get(url).body()
    assert len(body) == int(streamed[2]) and hashlib.sha256(body).hexdigest() == streamed[3]
    out = tmp_path / "resumed.mp4"
    out.write_bytes(body)
    assert abs(frame_count(out) - source_frames) <= 1
    duration, source_duration = (float(probe(path)["format"]["duration"]) for path in (out, clip))
    assert abs(duration - source_duration) <= 1 / 30 + 0.03, (duration, source_duration)
    assert any(s["codec_type"] == "audio" for s in probe(out)["streams"])
    score = ssim(out, clip)
    print(f"{engine}: {resumed[0]}; {encoded} frames encoded after; stored {frame_count(out)} frames, "
          f"{duration:.3f} s (source {source_duration:.3f} s), SSIM {score:.4f}")  # with -s
    assert score >= PRESETS[PRESET].min_ssim
    meta = upload_metadata(watched.page, url)
    assert (meta["engine"], meta["compressed"]) == (engine, "1"), meta


def reload(watched: Watched, medpress: MedpressPage) -> None:
    watched.page.reload()
    watched.page.wait_for_function("document.documentElement.dataset.python === 'attached'",
                                   timeout=LOAD_TIMEOUT_MS)


def pause_and_resume(watched: Watched, medpress: MedpressPage) -> None:
    medpress.item(0).press("pause")
    medpress.item(0).wait_for("paused")
    medpress.item(0).press("resume")


@pytest.mark.parametrize(("engine", "interrupt"), [("webcodecs", reload), ("webcodecs", pause_and_resume),
                                                   ("ffmpeg-mt", reload)],
                         ids=["webcodecs-reload", "webcodecs-pause", "ffmpeg-reload"])
def test_a_clip_interrupted_mid_way_goes_on_from_the_last_fragment(engine, interrupt, open_app, clip60: Path,
                                                                  tmp_path: Path):
    """x264 (ffmpeg.wasm) encodes in runs of a few seconds, each joined to the output as it ends:
    after a reload it goes on from the first frame not stored, as WebCodecs does."""
    page = open_app(f"?engine={engine}")
    watched = Watched(page)
    medpress = MedpressPage(page)
    medpress.set_preset(PRESET).choose(clip60).press_start()
    begun = watched.wait_for_patches(6, timeout_s=240)
    since = len(watched.tus)
    assert not watched.lines(FRAME_PATH) and not watched.lines(SEGMENTS)  # the encode is not over
    interrupt(watched, medpress)
    url = medpress.item(0).wait_for("done", timeout_ms=360_000).wait_for_upload_url()
    assert url == begun
    assert_resumed(watched, url, since, clip60, tmp_path, engine)


@pytest.mark.parametrize("interrupt", [reload, pause_and_resume], ids=["reload", "pause"])
def test_a_clip_interrupted_after_its_encode_goes_on_with_its_streamed_upload(interrupt, open_app, server,
                                                                              clip720: Path):
    """On a slow link most of a streamed output leaves after its encode: a reload, or a pause
    and resume, then sends the kept output's remainder on the same upload, from the server's
    offset."""
    page = open_app("?engine=webcodecs")
    watched = Watched(page)
    throttle_uploads(page, 120_000)
    before = stored_uploads(server)
    medpress = MedpressPage(page)
    medpress.choose(clip720).press_start()
    medpress.item(0).wait_for("uploading", 60_000)  # the encode is over; its stream goes on
    [streamed] = watched.lines(STREAMED)
    begun = watched.wait_for_patches(3)
    since = len(watched.tus)
    interrupt(watched, medpress)
    throttle_uploads(page, None)
    url = medpress.item(0).wait_for("done", timeout_ms=120_000).wait_for_upload_url()
    assert url == begun
    after = watched.tus[since:]
    assert ("HEAD", url) in [(method, u) for method, u, _ in after]  # asked for its offset
    patches = [headers for method, u, headers in after if method == "PATCH" and u == url]
    assert patches and int(patches[0]["upload-offset"]) > 0
    body = page.request.get(url).body()
    assert len(body) == int(streamed[2]) and hashlib.sha256(body).hexdigest() == streamed[3]
    videos = [upload_id for upload_id in stored_uploads(server) - before
              if "poster_for" not in upload_metadata(page, f"{server.url}/files/{upload_id}")]
    assert videos == [url.rpartition("/")[2]]  # stored once
