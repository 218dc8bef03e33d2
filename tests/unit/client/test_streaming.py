"""Outputs streamed while they are encoded: the upload is fed by the engine, completed with
the output's measures only once it ships, and deleted whenever it does not."""

import asyncio

import msgspec
import pytest

from client.core.pipeline import PAUSE, Job, Outcome, Prepared, deliver, prepare, send
from client.core.ports import Encoded
from client.core.segments import streams_in_segments
from client.core.steering import Steering

from .fakes import FakeBlob, FakeTranscoder, FakeUploader
from .test_pipeline import MEDIA, VIDEO, ports_for


def streamed(behaviour, uploader=None, steering=None, priority="routine"):
    ports = ports_for(transcoder=FakeTranscoder(behaviour, streaming={"webcodecs"}),
                      uploader=uploader or FakeUploader())
    ports = msgspec.structs.replace(ports, steering=steering or Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority=priority)
    return asyncio.run(send(job, ports)), ports


def test_a_streamed_output_is_stored_as_it_is_made_and_not_sent_again():
    status, ports = streamed({"webcodecs": 5_000_000})
    [stream] = ports.uploader.streams
    assert stream.handle and stream.handle[0].label == "init"  # the engine fed it
    assert status.state == "done" and status.upload_url == stream.url
    assert [blob.label for blob, _ in ports.uploader.sent] == ["poster"]  # the video is not sent again
    # Described at creation; what is measured arrives with the length.
    assert stream.metadata["filename"] == "wound left heel.mp4" and stream.metadata["compressed"] == "1"
    assert stream.metadata["engine"] == "webcodecs" and "ssim" not in stream.metadata
    assert stream.finished == {"ssim": "0.9900", "bitrate": "2764800", "probe_s": "0.75"}
    assert status.message == "Sent 5.0 MB (was 20.0 MB, 75% smaller)."


@pytest.mark.parametrize("behaviour", [
    {"webcodecs": (5_000_000, 0.90), "ffmpeg-mt": 4_000_000},  # the gate refuses it
    {"webcodecs": "fail:below-floor", "ffmpeg-mt": 4_000_000},  # the early verdict
    {"webcodecs": "fail:encoder-error", "ffmpeg-mt": 4_000_000},
])
def test_an_output_that_does_not_ship_leaves_no_upload_behind(behaviour):
    status, ports = streamed(behaviour)
    [stream] = ports.uploader.streams
    assert stream.aborted and stream.finished is None
    assert status.state == "done" and ports.transcoder.engines == ["webcodecs", "ffmpeg-mt"]
    assert ports.uploader.sent[0][0].label == "encoded-by-ffmpeg-mt"  # x264 does not stream here


@pytest.mark.parametrize(("audio", "streamed"), [("aac", True), ("opus", False)])
def test_x264_streams_the_clips_it_can_cut_in_segments_and_sends_the_others_whole(audio, streamed):
    media = msgspec.structs.replace(MEDIA, audio_codec=audio, browser_reads=True, browser_decodes=False)  # x264 only
    transcoder = FakeTranscoder({"ffmpeg-mt": 4_000_000}, streaming={"ffmpeg-mt"}, streams_media=streams_in_segments)
    ports = msgspec.structs.replace(ports_for(media=media, transcoder=transcoder), steering=Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine")
    status = asyncio.run(send(job, ports))
    assert status.state == "done" and transcoder.engines == ["ffmpeg-mt"]
    assert len(ports.uploader.streams) == int(streamed)
    sent = [blob.label for blob, _ in ports.uploader.sent]
    assert sent == (["poster"] if streamed else ["encoded-by-ffmpeg-mt", "poster"])


def test_an_output_larger_than_the_original_is_deleted_and_the_original_sent():
    _, ports = streamed({"webcodecs": 30_000_000})
    assert ports.uploader.streams[0].aborted
    assert ports.uploader.sent[0][1]["reason"] == "not-smaller"


def test_a_stream_that_cannot_complete_falls_back_to_sending_the_output_whole():
    status, ports = streamed({"webcodecs": 5_000_000}, uploader=FakeUploader(stream_fail="unreachable"))
    assert ports.uploader.streams[0].aborted
    blob, meta = ports.uploader.sent[0]
    assert blob.label == "encoded-by-webcodecs" and meta["ssim"] == "0.9900" and status.state == "done"


def test_cancelling_deletes_the_partial_upload():
    ports = ports_for(transcoder=FakeTranscoder({"webcodecs": "hang"}, streaming={"webcodecs"}))
    ports = msgspec.structs.replace(ports, steering=Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine")

    async def cancel_midway():
        task = asyncio.ensure_future(send(job, ports))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert ports.uploader.streams[0].aborted


def test_without_the_streaming_flag_the_output_is_sent_whole_once_made():
    _, ports = streamed({"webcodecs": 5_000_000}, steering=Steering())
    assert ports.uploader.streams == [] and ports.uploader.sent[0][0].label == "encoded-by-webcodecs"


def test_a_stream_is_kept_under_the_jobs_key():
    ports = ports_for(transcoder=FakeTranscoder({"webcodecs": 5_000_000}, streaming={"webcodecs"}))
    ports = msgspec.structs.replace(ports, steering=Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine", key="item-1")
    asyncio.run(send(job, ports))
    assert ports.uploader.stream_keys == ["item-1"]


def test_pausing_keeps_the_partial_upload_and_what_was_made_to_go_on_from():
    ports = ports_for(transcoder=FakeTranscoder({"webcodecs": "hang"}, streaming={"webcodecs"}))
    ports = msgspec.structs.replace(ports, steering=Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine", key="item-1")

    async def pause_midway():
        task = asyncio.ensure_future(send(job, ports))
        await asyncio.sleep(0.05)
        task.cancel(PAUSE)
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(pause_midway())
    [stream] = ports.uploader.streams
    assert stream.suspended and not stream.aborted


def test_a_kept_output_that_cannot_be_continued_is_started_over_once():
    """The engine found the kept fragments' encoder settings changed: its stream is deleted and
    the same engine runs again from the start (not the next engine)."""
    status, ports = streamed({"webcodecs": ["fail:resume-mismatch", 5_000_000]})
    first, second = ports.uploader.streams
    assert first.aborted and second.finished is not None and status.upload_url == second.url
    assert ports.transcoder.engines == ["webcodecs", "webcodecs"]


def _after_a_reload(continues):
    """A streamed output read back after a reload (its stream is gone with the page)."""
    uploader = FakeUploader()
    ports = ports_for(transcoder=FakeTranscoder({}, streaming={"webcodecs"}), uploader=uploader)
    ports = msgspec.structs.replace(ports, steering=Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine", key="item-1")
    output = FakeBlob(5_000_000, "kept output")
    outcome = Outcome(encoded=Encoded(blob=output, size=output.size, ssim=0.99), reason="compressed",
                      engine="webcodecs", preset="medical-standard")
    real_stream = uploader.stream

    def stream(metadata, key=None):
        made = real_stream(metadata, key)
        made.continues = continues
        return made

    uploader.stream = stream
    return asyncio.run(deliver(job, Prepared(outcome=outcome, media=MEDIA), ports)), uploader


def test_after_a_reload_a_streamed_output_goes_on_with_its_upload():
    status, uploader = _after_a_reload(True)
    [stream] = uploader.streams
    assert uploader.stream_keys == ["item-1"] and stream.handle[0].label == "kept output"
    assert stream.finished is not None and status.upload_url == stream.url
    assert [blob.label for blob, _ in uploader.sent] == ["poster"]  # not sent anew


def test_after_a_reload_an_upload_found_complete_is_not_sent_again():
    status, uploader = _after_a_reload("http://127.0.0.1/files/done")
    assert status.upload_url == "http://127.0.0.1/files/done"
    assert [blob.label for blob, _ in uploader.sent] == ["poster"]


def test_after_a_reload_without_a_kept_upload_the_output_is_sent_whole():
    status, uploader = _after_a_reload(False)
    assert [blob.label for blob, _ in uploader.sent] == ["kept output", "poster"]
    assert status.state == "done"


def test_pausing_while_the_rest_of_a_streamed_output_leaves_goes_on_with_the_same_upload():
    """Paused after its encode (the stream still sending), the clip's upload is kept, and the
    resumed clip continues it rather than sending the output anew."""
    uploader = FakeUploader()
    ports = ports_for(transcoder=FakeTranscoder({"webcodecs": 5_000_000}, streaming={"webcodecs"}), uploader=uploader)
    ports = msgspec.structs.replace(ports, steering=Steering(stream=True))
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine", key="item-1")

    async def pause_then_resume():
        prepared = await prepare(job, ports)
        [streamed] = uploader.streams
        streamed.hang = True  # a slow link: the rest is still on its way
        task = asyncio.ensure_future(deliver(job, prepared, ports))
        await asyncio.sleep(0.05)
        task.cancel(PAUSE)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert streamed.suspended and not streamed.aborted
        real_stream = uploader.stream
        uploader.stream = lambda metadata, key=None: _continuing(real_stream(metadata, key))
        return await deliver(job, prepared, ports)

    status = asyncio.run(pause_then_resume())
    _, second = uploader.streams
    assert uploader.stream_keys == ["item-1", "item-1"] and second.finished is not None
    assert status.upload_url == second.url and [blob.label for blob, _ in uploader.sent] == ["poster"]


def _continuing(stream):
    stream.continues = True
    return stream


def test_a_clip_whose_segments_cannot_be_joined_is_encoded_whole_by_the_same_engine():
    media = msgspec.structs.replace(MEDIA, browser_reads=True, browser_decodes=False)  # x264 only
    transcoder = FakeTranscoder({"ffmpeg-mt": ["fail:segment-frames", 4_000_000]}, streaming={"ffmpeg-mt"})
    ports = msgspec.structs.replace(ports_for(media=media, transcoder=transcoder), steering=Steering(stream=True))
    status = asyncio.run(send(Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine"), ports))
    assert status.state == "done" and transcoder.engines == ["ffmpeg-mt", "ffmpeg-mt"]
    [stream] = ports.uploader.streams  # the first run's, deleted; the second streamed nothing
    assert stream.aborted
    assert [blob.label for blob, _ in ports.uploader.sent] == ["encoded-by-ffmpeg-mt", "poster"]
