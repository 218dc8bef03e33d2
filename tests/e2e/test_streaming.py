"""Upload while encoding: each engine hands over each fragment of its output as soon as it
is made, and the upload (tus, length declared with the last) carries it at once.
What arrives is what was encoded, byte for byte; an output that does not ship leaves no
upload behind."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import STREAMED
from tests.e2e.kit import MedpressPage, stored_uploads, throttle_uploads, upload_metadata
from tests.support.media_probe import probe, ssim, video_stream


def watch(page) -> list[tuple[float, str, str]]:
    """(time, kind, detail) of the page's tus requests (a streamed upload's creation is
    "POST deferred") and of the engine's end."""
    seen: list[tuple[float, str, str]] = []
    def request(r) -> None:
        if "/files/" in r.url:  # a streamed upload is created with a deferred length
            deferred = r.method == "POST" and "upload-defer-length" in r.headers
            seen.append((time.monotonic(), "POST deferred" if deferred else r.method, r.url))

    page.on("request", request)
    page.on("console", lambda m: seen.append((time.monotonic(), "console", m.text))
            if m.text.startswith("medpress stream:") else None)
    return seen


@pytest.mark.parametrize("engine", ["webcodecs", "ffmpeg-mt"])
def test_fragments_leave_while_the_clip_is_encoded_and_arrive_byte_for_byte(engine, open_app, server,
                                                                             clip720: Path, tmp_path: Path):
    """WebCodecs hands over each fragment as it makes it; x264 (ffmpeg.wasm) encodes the clip in
    runs of a few seconds (the 10 s clip, with keyframes at 0 and 8.3 s: three), and each
    run's fragments leave while the next one encodes."""
    page = open_app(f"?engine={engine}")
    seen = watch(page)
    medpress = MedpressPage(page)
    medpress.choose(clip720).press_start()
    url = medpress.item(0).wait_for("done").wait_for_upload_url()

    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["engine"]) == ("1", engine), meta
    # measures, sent with the length: the engine's SSIM, and the bitrate or CRF it chose
    assert float(meta["ssim"]) >= 0.973 and (int(meta.get("bitrate", 0)) > 0 or float(meta["crf"]) > 0)

    [(ended, _, line)] = [event for event in seen if event[1] == "console"]
    pieces, size, digest = STREAMED.fullmatch(line).groups()
    patches = [at for at, method, target in seen if method == "PATCH" and target == url]
    assert int(pieces) >= 5  # the init segment, then a fragment per 2 s GOP of the 10 s clip
    assert len(patches) >= int(pieces)  # one PATCH per piece, and one that declares the length
    assert patches[0] < ended - 0.5, (patches[0], ended)  # the first left well before the encode ended

    body = page.request.get(url).body()
    assert len(body) == int(size) and hashlib.sha256(body).hexdigest() == digest
    out = tmp_path / "streamed.mp4"
    out.write_bytes(body)
    info, source = probe(out), probe(clip720)
    assert video_stream(info)["codec_name"] == "h264"
    assert any(s["codec_type"] == "audio" for s in info["streams"])
    assert abs(float(info["format"]["duration"]) - float(source["format"]["duration"])) <= 0.1
    assert ssim(out, clip720) >= 0.97
    assert url.rpartition("/")[2] in stored_uploads(server)


def test_a_clip_cancelled_while_it_streams_leaves_no_upload_behind(open_app, server, clip720: Path):
    page = open_app()
    seen = watch(page)
    before = stored_uploads(server)
    throttle_uploads(page, 100_000)  # the pieces queue up behind a slow link
    medpress = MedpressPage(page)
    medpress.choose(clip720).press_start()
    deadline = time.monotonic() + 60
    while not any(method == "PATCH" for _, method, _ in seen) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert medpress.item(0).state == "compressing"  # its fragments are leaving; it is not stored
    medpress.item(0).press("cancel")
    created = {target for _, method, target in seen if method == "PATCH"}
    assert len(created) == 1
    deadline = time.monotonic() + 10
    while not any(method == "DELETE" for _, method, _ in seen) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert {target for _, method, target in seen if method == "DELETE"} == created
    throttle_uploads(page, None)
    page.wait_for_timeout(500)
    assert stored_uploads(server) == before  # nothing stored, nothing half-stored


def test_an_engine_below_the_floor_leaves_no_upload_of_its_own(open_app, server, hard1080: Path):
    """WebCodecs forced on heavy noise at medical-high: it cannot reach the floor, is given up,
    and the original follows. The server holds that original and nothing else: no half file,
    and no complete one, of the engine's."""
    page = open_app("?engine=webcodecs")
    seen = watch(page)
    before = stored_uploads(server)
    medpress = MedpressPage(page)
    medpress.set_preset("medical-high").choose(hard1080).press_start()
    url = medpress.item(0).wait_for("done").wait_for_upload_url()
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["reason"]) == ("0", "below-floor"), meta
    assert page.request.get(url).body() == hard1080.read_bytes() or meta["stripped"] == "1"
    deferred = [at for at, method, _ in seen if method == "POST deferred"]
    deleted = {target for _, method, target in seen if method == "DELETE"}
    assert len(deleted) == len(deferred)  # whatever the engine had begun to send was deleted
    # What the server holds now: the original and its poster, both complete, nothing else.
    new = sorted(upload_metadata(page, f"{server.url}/files/{upload_id}")["reason"]
                 for upload_id in stored_uploads(server) - before)
    assert new == ["below-floor", "poster"]
