import asyncio
import time

import msgspec
import pytest

from client.core import messages
from client.core.capabilities import Capabilities
from client.core.media import FileFacts, MediaInfo
from client.core.pipeline import Job, Ports, output_name, preview, send
from client.core.planner import Limits

from .fakes import (
    PROBE_S,
    FakeBlob,
    FakeImager,
    FakeProber,
    FakeTranscoder,
    FakeUploader,
    RecordingView,
)

VIDEO = FileFacts(name="wound left heel.mov", size=20_000_000, mime="video/quicktime")
MEDIA = MediaInfo(width=1920, height=1080, duration=10.0, audio_codec="aac", browser_decodes=True)
CAPS = Capabilities(cross_origin_isolated=True, cores=2, webcodecs=True)
QUICK = Limits(stall_s=1.0, urgent_budget=(0.05, 0.0), routine_budget=(0.05, 0.0))


def ports_for(media=MEDIA, transcoder=None, uploader=None, limits=None, caps=CAPS, imager=None):
    return Ports(
        imager=imager or FakeImager(),
        prober=FakeProber(media),
        transcoder=transcoder or FakeTranscoder(),
        uploader=uploader or FakeUploader(),
        view=RecordingView(),
        caps=caps,
        clock=time.monotonic,
        limits=limits or Limits(),
    )


def run(facts=VIDEO, priority="routine", **kw):
    ports = ports_for(**kw)
    job = Job(file=FakeBlob(facts.size, "original"), facts=facts, priority=priority)
    return asyncio.run(send(job, ports)), ports


def test_compresses_with_webcodecs_first_and_uploads_the_smaller_file():
    status, ports = run(transcoder=FakeTranscoder({"webcodecs": 5_000_000}))
    assert ports.transcoder.engines == ["webcodecs"]
    assert status.state == "done" and status.upload_url
    assert status.message == "Sent 5.0 MB (was 20.0 MB, 75% smaller)."
    blob, meta = ports.uploader.sent[0]
    poster, poster_meta = ports.uploader.sent[1]
    assert poster.label == "poster" and status.poster_url
    assert poster_meta["poster_for"] == status.upload_url.rpartition("/")[2]
    assert poster_meta["filename"] == "wound left heel-poster.jpg"
    assert blob.label == "encoded-by-webcodecs"
    assert meta == {
        "filename": "wound left heel.mp4", "filetype": "video/mp4", "priority": "routine",
        "compressed": "1", "original_size": "20000000", "reason": "compressed",
        "preset": "medical-standard", "engine": "webcodecs", "ssim": "0.9900", "bitrate": "2764800",
        "probe_s": "0.75", "uplink_kbps": "10000", "arrival_s": "7.9",  # the link assumed: none measured
    }
    compressing = [s for s in ports.view.shown if s.state == "compressing" and s.percent]
    assert compressing[0].percent == 50.0 and "real time" in compressing[0].message


def test_a_failed_engine_falls_back_to_the_next():
    transcoder = FakeTranscoder({"webcodecs": "fail:encoder-error", "ffmpeg-mt": 4_000_000})
    status, ports = run(transcoder=transcoder)
    assert transcoder.engines == ["webcodecs", "ffmpeg-mt"]
    assert ports.uploader.sent[0][1]["engine"] == "ffmpeg-mt" and status.state == "done"


def test_an_output_below_the_quality_floor_is_not_shipped():
    transcoder = FakeTranscoder({"webcodecs": (3_000_000, 0.95), "ffmpeg-mt": 4_000_000})
    _, ports = run(transcoder=transcoder)
    assert transcoder.engines == ["webcodecs", "ffmpeg-mt"]
    assert ports.uploader.sent[0][0].label == "encoded-by-ffmpeg-mt"


def test_urgent_work_retries_webcodecs_with_more_bits_below_the_floor():
    outputs = iter([(3_000_000, 0.95), (5_000_000, 0.976)])

    class TwoTries(FakeTranscoder):
        async def run(self, file, plan, engine, on_progress, stream=None):
            self.behaviour[engine] = next(outputs)
            return await super().run(file, plan, engine, on_progress, stream)

    transcoder = TwoTries()
    _, ports = run(priority="urgent", transcoder=transcoder)
    assert transcoder.engines == ["webcodecs", "webcodecs"]
    first, second = (p.video_bitrate for _, p in transcoder.runs)
    assert second == 2 * first
    assert ports.uploader.sent[0][1]["ssim"] == "0.9760"


def test_an_output_clearly_above_the_floor_is_shipped_with_its_measured_quality():
    transcoder = FakeTranscoder({"webcodecs": (3_000_000, 0.976)})
    _, ports = run(transcoder=transcoder)
    assert transcoder.engines == ["webcodecs"]
    assert ports.uploader.sent[0][1]["ssim"] == "0.9760"


def test_an_estimate_just_at_the_floor_is_not_trusted():
    # medical-standard's floor is 0.97; the browser's estimate must clear it by the margin.
    transcoder = FakeTranscoder({"webcodecs": (3_000_000, 0.972)})
    _, ports = run(transcoder=transcoder)
    assert transcoder.engines == ["webcodecs", "ffmpeg-mt"]
    assert ports.uploader.sent[0][0].label == "encoded-by-ffmpeg-mt"


def test_x264_output_carries_its_crf_measured_quality_and_probe_cost():
    transcoder = FakeTranscoder({"webcodecs": (3_000_000, 0.9), "ffmpeg-mt": (4_000_000, 0.9765)})
    _, ports = run(transcoder=transcoder)
    engine, plan = transcoder.runs[-1]
    assert engine == "ffmpeg-mt" and plan.windows  # a 10 s clip is probed
    meta = ports.uploader.sent[0][1]
    assert (meta["engine"], meta["ssim"], meta["crf"], meta["probe_s"]) == ("ffmpeg-mt", "0.9765", "23", "0.75")


def test_a_sampled_ssim_is_gated_with_a_smaller_margin_than_a_canvas_estimate():
    # 0.9735 clears medical-standard's floor (0.97) by the margin of a sampled ffmpeg SSIM
    # (0.003), not by the browser's canvas estimate (0.005).
    transcoder = FakeTranscoder({"webcodecs": (3_000_000, 0.9735, "estimated"), "ffmpeg-mt": (4_000_000, 0.9735)})
    _, ports = run(transcoder=transcoder)
    assert transcoder.engines == ["webcodecs", "ffmpeg-mt"]
    assert ports.uploader.sent[0][1]["engine"] == "ffmpeg-mt"

    transcoder = FakeTranscoder({"webcodecs": (3_000_000, 0.9735)})
    _, ports = run(transcoder=transcoder)
    assert transcoder.engines == ["webcodecs"]
    meta = ports.uploader.sent[0][1]
    assert (meta["engine"], meta["ssim"], meta["probe_s"]) == ("webcodecs", "0.9735", "0.75")
    assert int(meta["bitrate"]) == transcoder.runs[0][1].video_bitrate


def test_unsupported_engines_are_skipped_before_running():
    transcoder = FakeTranscoder(unsupported={"webcodecs"})
    run(transcoder=transcoder)
    assert transcoder.engines == ["ffmpeg-mt"]


@pytest.mark.parametrize(
    ("transcoder", "reason"),
    [
        (FakeTranscoder({"webcodecs": "fail:x", "ffmpeg-mt": "fail:exit-1"}), "compression-failed"),
        (FakeTranscoder({"webcodecs": 20_000_000}), "not-smaller"),
        (FakeTranscoder({"webcodecs": (3_000_000, 0.9), "ffmpeg-mt": (30_000_000, 0.99)}), "not-smaller"),
        # x264's output is measured too: below the floor, or not measured, it does not ship
        (FakeTranscoder({"webcodecs": (3_000_000, 0.9), "ffmpeg-mt": (3_000_000, 0.972)}), "below-floor"),
        (FakeTranscoder({"webcodecs": (3_000_000, 0.9), "ffmpeg-mt": (3_000_000, None)}), "below-floor"),
        (FakeTranscoder({"webcodecs": (3_000_000, 0.9)}, unsupported={"ffmpeg-mt"}), "below-floor"),
        (FakeTranscoder({"webcodecs": (3_000_000, None)}, unsupported={"ffmpeg-mt"}), "below-floor"),
        (FakeTranscoder({"webcodecs": (3_000_000, 0.9), "ffmpeg-mt": "fail:exit-1"}), "compression-failed"),
        (FakeTranscoder(unsupported={"webcodecs", "ffmpeg-mt"}), "no-engine"),
    ],
)
def test_falls_back_to_the_original_and_says_why(transcoder, reason):
    """The original, without its identifying container metadata, and the bypass may join it."""
    status, ports = run(transcoder=transcoder)
    blob, meta = ports.uploader.sent[0]
    assert blob.label == "stripped" and transcoder.stripped == [ports.uploader.sources[0]]
    assert ports.uploader.sources[0].label == "original"
    assert meta["reason"] == reason and meta["compressed"] == "0" and meta["stripped"] == "1"
    assert meta["filename"] == VIDEO.name and meta["filetype"] == "video/quicktime"
    assert "preset" not in meta
    assert status.state == "done" and status.message.startswith(messages.why_original(reason))


def test_an_engine_that_gives_up_early_below_the_floor_hands_over_to_the_next_at_once():
    from client.core import events as ev

    recorded = []
    ports = ports_for(transcoder=FakeTranscoder({"webcodecs": "fail:below-floor", "ffmpeg-mt": 4_000_000}))
    ports = msgspec.structs.replace(ports, record=lambda kind, **fields: recorded.append((kind, fields)))
    asyncio.run(send(Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine"), ports))
    assert ports.transcoder.engines == ["webcodecs", "ffmpeg-mt"]  # routine: x264's smaller output
    assert dict(recorded)[ev.CompressionFailed]["code"] == "below-floor"  # the gate's own code
    assert ports.uploader.sent[0][1]["engine"] == "ffmpeg-mt"


def test_urgent_work_below_the_floor_retries_webcodecs_once_with_twice_the_bits_unprobed():
    transcoder = FakeTranscoder({"webcodecs": "fail:below-floor", "ffmpeg-mt": 4_000_000})
    _, ports = run(priority="urgent", transcoder=transcoder)
    (first, probed), (again, boosted), (last, _) = transcoder.runs
    assert (first, again, last) == ("webcodecs", "webcodecs", "ffmpeg-mt")
    assert boosted.video_bitrate == 2 * probed.video_bitrate and probed.windows and not boosted.windows
    assert ports.uploader.sent[0][1]["engine"] == "ffmpeg-mt"


def test_urgent_over_budget_sends_the_original():
    transcoder = FakeTranscoder({"webcodecs": "hang"})
    _, ports = run(priority="urgent", transcoder=transcoder, limits=QUICK)
    assert ports.uploader.sent[0][1]["reason"] == "over-budget"
    assert transcoder.engines == ["webcodecs"] and transcoder.cancelled


def test_routine_over_budget_retries_with_lighter_presets_then_sends_the_original():
    transcoder = FakeTranscoder({"webcodecs": "hang"})
    _, ports = run(transcoder=transcoder, limits=QUICK)
    presets = [p.preset for _, p in transcoder.runs]
    assert presets == ["medical-standard", "mobile-fast"]
    assert ports.uploader.sent[0][1]["reason"] == "over-budget"


def test_an_original_whose_container_cannot_be_stripped_still_goes_and_says_so():
    transcoder = FakeTranscoder({"webcodecs": "fail:x", "ffmpeg-mt": "fail:y", "remux": "fail:z"})
    status, ports = run(transcoder=transcoder)
    blob, meta = ports.uploader.sent[0]
    assert blob.label == "original" and meta["stripped"] == "0"
    assert status.state == "done"


def test_emergency_sends_the_original_without_compressing():
    transcoder = FakeTranscoder()
    status, ports = run(priority="emergency", transcoder=transcoder)
    assert transcoder.runs == [] and transcoder.stripped == []  # the bytes go untouched
    assert ports.uploader.sent[0][0].label == "original"
    assert "stripped" not in ports.uploader.sent[0][1]
    assert ports.uploader.sent[0][1]["reason"] == "emergency"
    assert status.state == "done" and status.message.startswith("Emergency")


@pytest.mark.parametrize(
    ("facts", "media", "expected"),
    [
        (FileFacts(name="empty.mp4", size=0, mime="video/mp4"), MEDIA, messages.EMPTY),
        (FileFacts(name="notes.txt", size=9, mime="text/plain"), MEDIA,
         messages.NOT_MEDIA.format(kind="it looks like text/plain")),
        (VIDEO, None, messages.UNREADABLE),
    ],
)
def test_unusable_input_ends_in_a_clear_error_and_sends_nothing(facts, media, expected):
    status, ports = run(facts=facts, media=media)
    assert status.state == "error" and status.message == expected
    assert ports.uploader.sent == []


def test_upload_failure_is_an_error_that_names_no_file():
    status, _ = run(uploader=FakeUploader(fail="the server could not be reached"))
    assert status.state == "error"
    assert "the server could not be reached" in status.message
    assert VIDEO.name not in status.message


def test_preview_shows_expected_size_and_time():
    job = Job(file=FakeBlob(VIDEO.size), facts=VIDEO, priority="routine")
    status = asyncio.run(preview(job, ports_for()))
    assert status.state == "ready"
    assert status.message.startswith("Ready: about 3.6 MB instead of 20.0 MB, about ")


def test_preview_starts_loading_the_first_engine():
    ports = ports_for()
    asyncio.run(preview(Job(file=FakeBlob(VIDEO.size), facts=VIDEO, priority="routine"), ports))
    assert ports.transcoder.prepared == ["webcodecs"]
    asyncio.run(preview(Job(file=FakeBlob(VIDEO.size), facts=VIDEO, priority="emergency"), ports))
    assert ports.transcoder.prepared == ["webcodecs", None]  # the original: free what was loaded


def test_output_name():
    assert output_name("clip.MOV") == "clip.mp4"
    assert output_name("noext") == "noext.mp4"
    assert output_name(".hidden") == ".hidden.mp4"


def test_the_chosen_preset_is_used():
    ports = ports_for()
    job = Job(file=FakeBlob(VIDEO.size), facts=VIDEO, priority="routine", preset="mobile-fast")
    asyncio.run(send(job, ports))
    assert [p.preset for _, p in ports.transcoder.runs] == ["mobile-fast"]
    assert (ports.transcoder.runs[0][1].width, ports.transcoder.runs[0][1].height) == (854, 480)


PHOTO = FileFacts(name="IMG_2041.HEIC.jpg", size=4_000_000, mime="image/jpeg")


def test_photos_are_re_encoded_without_their_hidden_details():
    status, ports = run(facts=PHOTO)
    assert ports.transcoder.runs == []
    blob, meta = ports.uploader.sent[0]
    assert blob.label == "photo" and len(ports.uploader.sent) == 1  # no poster for a photo
    assert meta["filetype"] == "image/jpeg" and meta["filename"] == "IMG_2041.HEIC.jpg"
    assert (meta["compressed"], meta["preset"], meta["engine"]) == ("1", "photo", "canvas")
    assert status.state == "done"


def test_a_photo_the_browser_cannot_open_is_not_sent():
    status, ports = run(facts=PHOTO, imager=FakeImager(fail=True))
    assert status.state == "error" and status.message == messages.PHOTO_UNREADABLE
    assert ports.uploader.sent == []


def test_a_video_without_a_decodable_frame_has_no_poster():
    status, ports = run(imager=FakeImager(fail=True))
    assert status.state == "done" and status.poster_url is None
    assert len(ports.uploader.sent) == 1


def test_the_budget_counts_only_the_engines_clock_so_a_freeze_does_not_use_it_up():
    from client.core.pipeline import within

    async def slow() -> str:
        await asyncio.sleep(0.05)
        return "finished"

    frozen = [100.0]  # a frozen page: the engines' clock stands still while real time passes
    assert asyncio.run(within(slow(), deadline=100.01, clock=lambda: frozen[0])) == "finished"

    ticking = iter([100.0, 100.02, 100.04, 100.06])
    with pytest.raises(TimeoutError):
        asyncio.run(within(asyncio.sleep(3600), deadline=100.01, clock=lambda: next(ticking, 101.0)))


def test_every_step_is_recorded_as_a_typed_event_the_server_would_accept():
    from client.core import events as ev

    recorded = []
    ports = ports_for(transcoder=FakeTranscoder({"webcodecs": "fail", "ffmpeg-mt": 5_000_000}))
    ports = msgspec.structs.replace(ports, record=lambda kind, **fields: recorded.append((kind, fields)))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine")
    asyncio.run(send(job, ports))
    kinds = [kind.__name__ for kind, _ in recorded]
    assert kinds == ["CompressionStarted", "CompressionFailed", "CompressionStarted",
                     "CompressionCompleted", "UploadCompleted"]
    common = {"at": 1.0, "installation": "install-0001", "device_class": "desktop"}
    batch = ev.Batch(events=[kind(**common, **fields) for kind, fields in recorded])
    assert ev.decode_batch(ev.encode(batch)) == batch  # every field within its type
    completed = dict(recorded)[ev.CompressionCompleted]
    assert (completed["crf"], completed["probe_s"], completed["ssim"]) == (23, PROBE_S, 0.99)
    assert "wound" not in str(recorded)  # the file's name is nowhere
