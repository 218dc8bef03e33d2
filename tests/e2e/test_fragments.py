"""The WebCodecs worker's fragmented output (``fragments: true``, the first step of uploading
while encoding): a fragment per keyframe interval, each piece stored in the Origin Private
File System (``streams/<streamKey>/output.mp4`` and ``manifest.json``) and announced to the
page as soon as it is whole. The tests drive the worker directly, as webcodecs-engine.js
does, and read the stored bytes back from OPFS."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import subprocess
import uuid
from pathlib import Path

import pytest

from client.core.webcodecs import codec_string
from tests.support.media_probe import ssim_planes

WIDTH, HEIGHT, FPS, KEY_INTERVAL_S = 854, 480, 30, 2.0
TIME_TOLERANCE = 1e-5  # ffprobe prints times to the microsecond
ANNOUNCED = ("index", "offset", "size", "sha256", "mediaStart", "mediaEnd")  # a fragment message's facts

# Runs the worker on the chosen file; every message it posts, with the time it came (ms) and
# any ArrayBuffer in it as its size. As each piece is announced, the page reads it back from
# OPFS while the worker still writes there, and says whether its SHA-256 is the one announced
# (`readBack`).
RUN_WORKER = """
async ({ options }) => {
  const file = document.querySelector('[data-testid="file-input"]').files[0];
  const worker = new Worker(`${document.documentElement.dataset.vendor}/app/webcodecs-worker.js`, { type: "module" });
  const messages = [];
  const readings = [];
  const started = performance.now();
  const readBack = async (record) => {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle("streams")).getDirectoryHandle(options.streamKey);
    const stored = await (await dir.getFileHandle("output.mp4")).getFile();
    const piece = await stored.slice(record.offset, record.offset + record.size).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", piece));
    record.readBack = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("") === record.sha256;
  };
  await new Promise((resolve) => {
    worker.onmessage = ({ data }) => {
      const record = { ...data, at: performance.now() - started };
      for (const key in data) if (data[key] instanceof ArrayBuffer) record[key] = data[key].byteLength;
      messages.push(record);
      if (data.type === "fragment") readings.push(readBack(record));
      if (data.type === "done" || data.type === "error") resolve();
    };
    worker.onerror = (event) => {
      messages.push({ type: "worker-error", message: event.message });
      resolve();
    };
    worker.postMessage({ file, options });
  });
  await Promise.all(readings);
  worker.terminate();
  return messages;
}
"""

READ_STREAM = """
async ({ key }) => {
  const root = await navigator.storage.getDirectory();
  const dir = await (await root.getDirectoryHandle("streams")).getDirectoryHandle(key);
  const file = await (await dir.getFileHandle("output.mp4")).getFile();
  const manifest = JSON.parse(await (await (await dir.getFileHandle("manifest.json")).getFile()).text());
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { mp4: btoa(text), manifest };
}
"""

# Chromium plays the joined file: its metadata, and a frame after a seek near the end.
PLAY_STREAM = """
async ({ key, seekTo }) => {
  const root = await navigator.storage.getDirectory();
  const dir = await (await root.getDirectoryHandle("streams")).getDirectoryHandle(key);
  const video = document.createElement("video");
  video.muted = true;
  video.src = URL.createObjectURL(await (await dir.getFileHandle("output.mp4")).getFile());
  const event = (name) => new Promise((resolve, reject) => {
    video.addEventListener(name, resolve, { once: true });
    video.addEventListener("error", () => reject(new Error(`media error ${video.error?.code}`)), { once: true });
  });
  await event("loadedmetadata");
  const metadata = { duration: video.duration, width: video.videoWidth, height: video.videoHeight };
  video.currentTime = seekTo;
  await event("seeked");
  return { ...metadata, readyState: video.readyState };
}
"""

REMOVE_STREAM = """
async ({ key }) => {
  const root = await navigator.storage.getDirectory();
  await (await root.getDirectoryHandle("streams")).removeEntry(key, { recursive: true });
}
"""


def options(bitrate: int, **extra: object) -> dict:
    """Encoder options as Python plans them (client.core.webcodecs.webcodecs_config), fragmented."""
    return {"codec": codec_string(WIDTH, HEIGHT, FPS, bitrate), "width": WIDTH, "height": HEIGHT,
            "bitrate": bitrate, "framerate": FPS, "keyIntervalS": KEY_INTERVAL_S, "fragments": True,
            "streamKey": uuid.uuid4().hex, **extra}


def run_worker(page, clip: Path, opts: dict) -> list[dict]:
    page.get_by_test_id("file-input").set_input_files(clip)
    return page.evaluate(RUN_WORKER, {"options": opts})


def ffprobe(path: Path, *args: str) -> dict:
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                                     check=True, capture_output=True, text=True).stdout)


def video_frames(path: Path) -> list[tuple[float, bool]]:
    """(pts_time, keyframe) of each video packet, in presentation order."""
    packets = ffprobe(path, "-select_streams", "v", "-show_entries", "packet=pts_time,flags")["packets"]
    return sorted((float(p["pts_time"]), "K" in p["flags"]) for p in packets)


def boxes(data: bytes) -> list[str]:
    """The types of the top-level MP4 boxes that make up `data`, in order."""
    types, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
        types.append(kind.decode())
        at += size
    assert at == len(data), types
    return types


def forced_keyframes(times: list[float]) -> list[float]:
    """The frames the engine makes keyframes: the first, then the first one at least
    KEY_INTERVAL_S after the last keyframe (webcodecs-worker.js)."""
    keys = [times[0]]
    for time in times:
        if time >= keys[-1] + KEY_INTERVAL_S:
            keys.append(time)
    return keys


def test_fragments_are_stored_and_announced_while_encoding(app_page, clip720: Path, tmp_path: Path):
    opts = options(1_000_000)
    messages = run_worker(app_page, clip720, opts)
    done = messages[-1]
    assert done["type"] == "done", messages[-3:]
    fragments = [m for m in messages if m["type"] == "fragment"]

    # In order, contiguous, all before "done"; the done message says where and how much.
    source_frames = video_frames(clip720)
    keys = forced_keyframes([time for time, _ in source_frames])
    assert len(keys) == 5  # 10 s, a keyframe every 2 s
    assert [f["index"] for f in fragments] == list(range(len(keys) + 1))  # the init segment, then a GOP each
    offset = 0
    for fragment in fragments:
        assert fragment["offset"] == offset
        offset += fragment["size"]
    assert (done["streamKey"], done["pieces"], done["size"]) == (opts["streamKey"], len(fragments), offset)
    assert "buffer" not in done
    assert all(f["readBack"] for f in fragments)  # each piece readable as soon as announced
    assert done["ssimMethod"] == "yuv" and done["framePath"] == "wasm"

    # Announced while encoding: the first GOP's fragment before the encoder is given the third
    # GOP, more than 6 s of media before the end (progress messages say how far it had got).
    first = messages.index(fragments[1])
    reached = max(m["seconds"] for m in messages[:first] if m["type"] == "time")
    assert reached < 2 * KEY_INTERVAL_S, (reached, fragments[1])

    stored = app_page.evaluate(READ_STREAM, {"key": opts["streamKey"]})
    mp4 = base64.b64decode(stored["mp4"])
    assert len(mp4) == offset
    manifest = stored["manifest"]
    assert manifest["version"] == 1 and manifest["done"] is True and manifest["engine"] == "webcodecs"
    assert manifest["plan"] == opts
    assert manifest["encoder"]["codec"] == opts["codec"]
    assert (manifest["encoder"]["width"], manifest["encoder"]["height"]) == (WIDTH, HEIGHT)
    assert [{k: v for k, v in piece.items() if k != "frames"} for piece in manifest["pieces"]] == [
        {k: f[k] for k in ANNOUNCED} for f in fragments]
    assert manifest["frames"] == len(source_frames) == sum(p["frames"] for p in manifest["pieces"])

    # Each piece's hash is its stored bytes'; the init segment is ftyp + moov; each fragment
    # is a moof + mdat (the last with the trailer) starting at one of the keyframes the engine
    # forced, and holds that GOP.
    pieces = [mp4[p["offset"]:p["offset"] + p["size"]] for p in manifest["pieces"]]
    for piece, data in zip(manifest["pieces"], pieces, strict=True):
        assert hashlib.sha256(data).hexdigest() == piece["sha256"]
    assert [boxes(data) for data in pieces] == [
        ["ftyp", "moov"], *[["moof", "mdat"]] * (len(keys) - 1), ["moof", "mdat", "mfra"]]
    init, *gops = manifest["pieces"]
    assert (init["frames"], init["mediaStart"], init["mediaEnd"]) == (0, None, None)
    assert [p["mediaStart"] for p in gops] == pytest.approx(keys, abs=TIME_TOLERANCE)
    for gop, start, end in zip(gops, keys, [*keys[1:], float("inf")], strict=True):
        inside = [time for time, _ in source_frames if start <= time < end]
        assert (gop["frames"], gop["mediaEnd"]) == (len(inside), pytest.approx(inside[-1], abs=TIME_TOLERANCE))

    # The joined file is an ordinary MP4: both streams, the source's duration and frame count,
    # a keyframe where each fragment begins (and nowhere else), and the SSIM the engine measured.
    out = tmp_path / "output.mp4"
    out.write_bytes(mp4)
    info = ffprobe(out, "-count_frames", "-show_format", "-show_streams")
    source = ffprobe(clip720, "-count_frames", "-show_format", "-show_streams")
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert (streams["video"]["codec_name"], streams["audio"]["codec_name"]) == ("h264", "aac")
    assert (streams["video"]["width"], streams["video"]["height"]) == (WIDTH, HEIGHT)
    source_video = next(s for s in source["streams"] if s["codec_type"] == "video")
    assert streams["video"]["nb_read_frames"] == source_video["nb_read_frames"] == str(len(source_frames))
    assert abs(float(streams["video"]["duration"]) - float(source_video["duration"])) <= 1 / FPS
    assert abs(float(info["format"]["duration"]) - float(source["format"]["duration"])) <= 1 / FPS
    assert [time for time, key in video_frames(out) if key] == pytest.approx(keys, abs=TIME_TOLERANCE)
    assert abs(done["ssim"] - ssim_planes(out, clip720)["Y"]) < 0.001

    played = app_page.evaluate(PLAY_STREAM, {"key": opts["streamKey"], "seekTo": 9.5})
    assert abs(played["duration"] - float(source["format"]["duration"])) <= 1 / FPS, played
    assert (played["width"], played["height"], played["readyState"] >= 2) == (WIDTH, HEIGHT, True), played


def test_an_abandoned_fragmented_encode_leaves_what_it_stored(app_page, clip720: Path):
    """The early verdict stops a fragmented encode as it stops an in-memory one; the pieces
    stored so far stay listed in a manifest that is not done, and the files are let go of (the
    page can remove them)."""
    opts = options(100_000, abandonBelow=0.999)
    messages = run_worker(app_page, clip720, opts)
    assert [m["type"] for m in messages[-2:]] == ["verdict", "error"] and messages[-1]["code"] == "below-floor"
    verdict = messages[-2]
    assert verdict["abandon"] is True and verdict["ssim"] < 0.995 and verdict["reached"] < 4, verdict
    stored = app_page.evaluate(READ_STREAM, {"key": opts["streamKey"]})
    manifest, mp4 = stored["manifest"], base64.b64decode(stored["mp4"])
    assert manifest["done"] is False
    assert sum(p["size"] for p in manifest["pieces"]) == len(mp4)
    for piece in manifest["pieces"]:
        assert hashlib.sha256(mp4[piece["offset"]:piece["offset"] + piece["size"]]).hexdigest() == piece["sha256"]
    app_page.evaluate(REMOVE_STREAM, {"key": opts["streamKey"]})


def test_a_stream_key_is_never_a_path(app_page, clip720: Path):
    messages = run_worker(app_page, clip720, options(1_000_000, streamKey="../escape"))
    assert [(m["type"], m.get("code")) for m in messages] == [("error", "bad-stream-key")]

