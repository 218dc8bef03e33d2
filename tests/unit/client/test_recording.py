"""Recording in the page, the pure part: the encoder config follows the preset table, keys
and names are random, a recording joins the queue uploading whatever the queue is doing, and
every sentence exists in each language."""

from __future__ import annotations

import pytest

from client.core import i18n, recording, rows
from client.core.presets import PRESETS
from client.core.queue import (
    Added,
    Bypass,
    Cancel,
    Failed,
    Halt,
    Pause,
    Queue,
    Recorded,
    Start,
    StartUpload,
    Uploaded,
    restored,
    step,
)

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_the_bitrate_is_the_presets_bits_per_pixel_at_the_cameras_size_and_rate():
    config = recording.encoder_config("medical-standard", 1280, 720, 30.0)
    assert (config["width"], config["height"]) == (1280, 720)
    assert config["bitrate"] == round(PRESETS["medical-standard"].bits_per_pixel * 1280 * 720 * 30)
    assert config["keyIntervalS"] == 2.0 and config["framerate"] == 30.0
    assert config["codec"].startswith("avc1.6400")


def test_a_camera_larger_than_the_preset_is_encoded_at_the_presets_size():
    config = recording.encoder_config("mobile-fast", 1920, 1080, 20.0)
    assert max(config["width"], config["height"]) == 854
    assert config["width"] % 2 == 0 and config["height"] % 2 == 0
    assert config["bitrate"] == round(0.08 * config["width"] * config["height"] * 20.0)


def test_medical_high_keeps_the_cameras_size_and_a_portrait_camera_stays_portrait():
    assert recording.encoder_config("medical-high", 1920, 1080, 30)["width"] == 1920
    portrait = recording.encoder_config("medical-standard", 1080, 1920, 30)
    assert (portrait["width"], portrait["height"]) == (720, 1280)


def test_a_camera_that_reports_no_frame_rate_is_taken_as_30_fps():
    assert recording.encoder_config("medical-standard", 640, 480, 0)["framerate"] == 30.0


def test_the_camera_is_asked_for_the_presets_size():
    assert recording.camera_request("medical-standard") == (1280, 720)
    assert recording.camera_request("mobile-fast") == (854, 480)
    assert recording.camera_request("medical-high") == (1920, 1080)


def test_keys_and_names_are_random_never_made_of_anything_else():
    key = recording.stream_key(UUID)
    assert key == f"rec-{UUID}" and recording.is_recording_key(key)
    assert recording.recording_name(key) == "recording-0f8fad.mp4"
    with pytest.raises(ValueError):
        recording.stream_key("Maria Silva 2026-11-30")
    assert not recording.is_recording_key("rec-../../outputs")
    assert not recording.is_recording_key(UUID)


def test_the_upload_says_it_was_recorded_with_allow_listed_keys_only():
    from server.tus.metadata import ALLOWED_KEYS

    meta = recording.upload_metadata("recording-0f8fad.mp4", "urgent", "medical-standard", 2_764_800)
    assert meta["reason"] == "recorded" and meta["filetype"] == "video/mp4" and meta["compressed"] == "1"
    assert set(meta) <= ALLOWED_KEYS


def test_elapsed_time_reads_as_minutes_and_seconds():
    assert [recording.clock(s) for s in (0, 7.9, 65, 600)] == ["0:00", "0:07", "1:05", "10:00"]


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_sentence_exists_in_each_language(language):
    i18n.set_language(language)
    try:
        said = [recording.live(5), recording.finishing(40), recording.stored(1_200_000, 6.2),
                recording.stored(1_200_000, 6.2, recovered=True), recording.upload_failed("x"),
                *(recording.problem(code) for code in ("camera-denied", "camera-unavailable", "nothing-stored",
                                                        "storage-failed", "anything"))]
    finally:
        i18n.set_language("en")
    assert all(said) and not any("{" in text for text in said)
    assert recording.problem("anything") == recording.problem("recording-failed")


# The queue: a recording joins it uploading (its upload only has to be finished).

def test_a_recording_joins_uploading_without_start_and_without_starting_anything_else():
    queue, _ = step(Queue(), Added("a", "fp-a"))  # a clip chosen, Start not pressed
    queue, effects = step(queue, Recorded("r", "rec-1"))
    assert effects == []
    assert [(i.id, i.state) for i in queue.items] == [("a", "waiting"), ("r", "uploading")]
    queue, _ = step(queue, Uploaded("r", "http://x/files/1"))
    assert queue.item("r").state == "done" and queue.item("a").state == "waiting"


def test_a_recording_does_not_hold_up_a_clip_already_uploading_nor_wait_for_it():
    queue, _ = step(Queue(), Added("a", "fp-a"))
    queue, _ = step(queue, Start())
    queue, _ = step(queue, Failed("a", "x"))  # (any state: the recording goes its own way)
    queue, effects = step(queue, Recorded("r", "rec-1"))
    assert queue.item("r").state == "uploading" and effects == []


def test_a_row_kept_from_before_a_reload_is_taken_up_not_listed_twice():
    queue, _ = step(Queue(), Recorded("r", "rec-1"))
    queue, _ = restored(queue, lost_outputs=frozenset({"r"}), missing_files=frozenset({"r"}))
    assert queue.item("r").state == "needs-file"  # what a restore makes of it
    queue, _ = step(queue, Recorded("r", "rec-1"))
    assert [(i.id, i.state) for i in queue.items] == [("r", "uploading")]


def test_a_halt_meanwhile_does_not_keep_it_from_arriving():
    queue, _ = step(Queue(), Recorded("r", "rec-1"))
    queue, effects = step(queue, Halt())
    assert not any(isinstance(e, StartUpload) for e in effects)
    queue, _ = step(queue, Recorded("r", "rec-1"))  # as the adapter does once it is stored
    queue, _ = step(queue, Uploaded("r", "http://x/files/1"))
    assert queue.item("r").state == "done"


def test_an_arrived_recording_never_changes_again():
    queue, _ = step(Queue(), Recorded("r", "rec-1"))
    queue, _ = step(queue, Uploaded("r", "http://x/files/1"))
    queue, _ = step(queue, Recorded("r", "rec-1"))
    assert queue.item("r").state == "done" and queue.item("r").upload_url == "http://x/files/1"


def test_cancel_start_pause_and_bypass_leave_a_finishing_recording_be():
    """Its upload is finished by the capture: the page's Cancel then Start neither stop it nor
    start a second upload of it, and its row offers no control while it finishes."""
    queue, _ = step(Queue(), Added("a", "fp-a"))
    queue, _ = step(queue, Recorded("r", "rec-1"))
    for event in (Halt(), Start(), Pause("r"), Bypass("r"), Cancel("r")):
        queue, effects = step(queue, event)
        assert queue.item("r").state == "uploading" and all(e.item_id != "r" for e in effects), event
    assert rows.controls_for(queue.item("r")) == ()


def test_a_recording_whose_upload_failed_can_only_be_removed():
    queue, _ = step(Queue(), Recorded("r", "rec-1"))
    queue, _ = step(queue, Failed("r", "The server could not be reached."))
    assert rows.controls_for(queue.item("r")) == ("cancel",)
    queue, _ = step(queue, Cancel("r"))
    assert queue.items == ()
