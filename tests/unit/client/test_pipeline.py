import asyncio

import pytest

from client.core import messages
from client.core.capabilities import Capabilities
from client.core.media import FileFacts, MediaInfo
from client.core.pipeline import Ports, output_name, send

from .fakes import FakeBlob, FakeProber, FakeTranscoder, FakeUploader, RecordingView

VIDEO = FileFacts(name="wound left heel.mov", size=1000, mime="video/quicktime")
MEDIA = MediaInfo(width=1920, height=1080, duration=10.0)


def run(facts=VIDEO, priority="routine", media=MEDIA, transcoder=None, uploader=None):
    ports = Ports(
        prober=FakeProber(media),
        transcoder=transcoder or FakeTranscoder(out_size=250),
        uploader=uploader or FakeUploader(),
        view=RecordingView(),
        caps=Capabilities(cross_origin_isolated=True, cores=2),
    )
    status = asyncio.run(send(FakeBlob(facts.size, "original"), facts, priority, ports))
    return status, ports


def test_compresses_then_uploads_the_smaller_file():
    status, ports = run()
    assert status.state == "done" and status.upload_url
    assert status.message == "Sent 250 bytes (was 1.0 KB, 75% smaller)."
    blob, meta = ports.uploader.sent[0]
    assert blob.label == "encoded"
    assert meta["compressed"] == "1" and meta["filetype"] == "video/mp4"
    assert meta["filename"] == "wound left heel.mp4" and meta["preset"] == "medical-standard"
    assert ports.view.states[0] == "compressing" and "uploading" in ports.view.states
    percents = [s.percent for s in ports.view.shown if s.state == "compressing"]
    assert 50.0 in percents  # 5 s of 10 s encoded


@pytest.mark.parametrize(
    ("transcoder", "reason", "note"),
    [
        (FakeTranscoder(fail="exit-1"), "compression-failed", messages.COMPRESS_FAILED),
        (FakeTranscoder(out_size=1000), "not-smaller", messages.NOT_SMALLER),
    ],
)
def test_falls_back_to_the_original_and_says_so(transcoder, reason, note):
    status, ports = run(transcoder=transcoder)
    blob, meta = ports.uploader.sent[0]
    assert blob.label == "original"
    assert meta["reason"] == reason and meta["compressed"] == "0"
    assert meta["filename"] == VIDEO.name and meta["filetype"] == "video/quicktime"
    assert status.state == "done" and status.message.startswith(note)


def test_emergency_sends_the_original_without_compressing():
    transcoder = FakeTranscoder()
    status, ports = run(priority="emergency", transcoder=transcoder)
    assert transcoder.plans == []
    assert ports.uploader.sent[0][1]["reason"] == "emergency"
    assert status.state == "done"


@pytest.mark.parametrize(
    ("facts", "media", "expected"),
    [
        (FileFacts(name="empty.mp4", size=0, mime="video/mp4"), MEDIA, messages.EMPTY),
        (FileFacts(name="notes.txt", size=9, mime="text/plain"), MEDIA,
         messages.NOT_VIDEO.format(kind="it looks like text/plain")),
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


def test_output_name():
    assert output_name("clip.MOV") == "clip.mp4"
    assert output_name("noext") == "noext.mp4"
    assert output_name(".hidden") == ".hidden.mp4"
