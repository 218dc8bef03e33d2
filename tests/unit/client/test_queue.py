"""The queue's state machine: order, one compression and one upload at a time, pause,
resume, retry, cancel, the bypass that always wins, and a restore after a reload."""

import pytest

from client.core.queue import (
    Added,
    Bypass,
    Cancel,
    Compressed,
    Failed,
    FileFound,
    FileMissing,
    Pause,
    Queue,
    Resume,
    Retry,
    SendOriginal,
    StartCompression,
    StartUpload,
    StopWork,
    Uploaded,
    decode_queue,
    encode_queue,
    restored,
    step,
)


def run(*events, queue: Queue | None = None):  # type: ignore[no-untyped-def]
    queue = queue or Queue()
    effects = []
    for event in events:
        queue, done = step(queue, event)
        effects.extend(done)
    return queue, effects


def states(queue: Queue) -> dict[str, str]:
    return {item.id: item.state for item in queue.items}


THREE = [Added("a", "fa"), Added("b", "fb"), Added("c", "fc")]


def test_three_clips_one_compression_and_one_upload_at_a_time_in_order() -> None:
    queue, effects = run(*THREE)
    assert states(queue) == {"a": "compressing", "b": "waiting", "c": "waiting"}
    assert effects == [StartCompression("a")]
    queue, effects = run(Compressed("a"), queue=queue)
    # a uploads while b compresses: the next item compresses while the previous one uploads
    assert states(queue) == {"a": "uploading", "b": "compressing", "c": "waiting"}
    assert effects == [StartUpload("a"), StartCompression("b")]
    queue, effects = run(Compressed("b"), queue=queue)
    assert states(queue)["b"] == "waiting" and effects == [StartCompression("c")]  # a still sends
    queue, effects = run(Uploaded("a", "/files/1"), queue=queue)
    assert effects == [StartUpload("b")]
    queue, _ = run(
        Compressed("c"), Uploaded("b", "/files/2"), Uploaded("c", "/files/3"), queue=queue
    )
    assert states(queue) == {"a": "done", "b": "done", "c": "done"}
    assert [item.upload_url for item in queue.items] == ["/files/1", "/files/2", "/files/3"]


def test_a_done_item_is_never_sent_again() -> None:
    queue, _ = run(Added("a", "fa"), Compressed("a"), Uploaded("a", "/files/1"))
    for event in (
        Retry("a"),
        Resume("a"),
        Bypass("a"),
        Uploaded("a", "/files/9"),
        Failed("a", "x"),
    ):
        again, effects = step(queue, event)
        assert again == queue and effects == []


@pytest.mark.parametrize("when", ["waiting", "compressing", "uploading", "paused", "failed"])
def test_the_bypass_wins_whatever_the_item_was_doing(when: str) -> None:
    events = {
        "waiting": [Added("x", "fx"), Added("a", "fa")],
        "compressing": [Added("a", "fa")],
        "uploading": [Added("a", "fa"), Compressed("a")],
        "paused": [Added("a", "fa"), Pause("a")],
        "failed": [Added("a", "fa"), Failed("a", "no network")],
    }[when]
    queue, _ = run(*events)
    assert states(queue)["a"] == when
    queue, effects = step(queue, Bypass("a"))
    assert states(queue)["a"] == "bypassed"
    working = when in ("compressing", "uploading")
    assert effects[: 2 if working else 1] == ([StopWork("a")] if working else []) + [
        SendOriginal("a")
    ]
    for later in (Compressed("a"), Uploaded("a", "/files/late"), Retry("a"), Resume("a")):
        queue, effects = step(queue, later)
        assert states(queue)["a"] == "bypassed"
    assert queue.item("a").upload_url == "/files/late"  # where the original went, recorded once
    assert step(queue, Uploaded("a", "/files/other"))[0].item("a").upload_url == "/files/late"


def test_pause_stops_work_and_resume_takes_it_up_again() -> None:
    queue, _ = run(*THREE)
    queue, effects = step(queue, Pause("a"))
    assert effects == [StopWork("a"), StartCompression("b")]  # the slot goes to the next
    assert states(queue) == {"a": "paused", "b": "compressing", "c": "waiting"}
    queue, effects = step(queue, Resume("a"))
    assert states(queue)["a"] == "waiting" and effects == []  # b holds the only slot
    queue, effects = step(queue, Compressed("b"))
    assert effects == [StartCompression("a"), StartUpload("b")]  # a before c, in order again


def test_a_failed_item_waits_for_retry_and_keeps_its_output() -> None:
    queue, _ = run(Added("a", "fa"), Compressed("a"), Failed("a", "The server refused it."))
    assert states(queue) == {"a": "failed"} and queue.item("a").problem == "The server refused it."
    queue, effects = step(queue, Retry("a"))
    assert effects == [StartUpload("a")] and queue.item("a").problem is None


def test_cancel_removes_the_item_and_frees_its_slot() -> None:
    queue, _ = run(*THREE)
    queue, effects = step(queue, Cancel("a"))
    assert effects == [StopWork("a"), StartCompression("b")]
    assert [item.id for item in queue.items] == ["b", "c"]


def test_a_file_the_browser_could_not_keep_is_asked_for_again() -> None:
    queue, _ = run(*THREE)
    queue, effects = step(queue, FileMissing("a"))
    assert states(queue)["a"] == "needs-file" and effects == [StopWork("a"), StartCompression("b")]
    queue, _ = step(queue, FileFound("a"))
    assert states(queue)["a"] == "waiting"
    ready, _ = run(Added("z", "fz"), Compressed("z"))
    assert step(ready, FileMissing("z"))[0] == ready  # its output is kept: no file needed


def test_adding_the_same_item_twice_adds_it_once() -> None:
    queue, effects = run(Added("a", "fa"), Added("a", "fa"))
    assert len(queue.items) == 1 and effects == [StartCompression("a")]


def test_after_a_reload_work_that_was_running_starts_again() -> None:
    queue, _ = run(*THREE, Compressed("a"), Uploaded("a", "/files/1"), Compressed("b"))
    assert states(queue) == {"a": "done", "b": "uploading", "c": "compressing"}
    back = decode_queue(encode_queue(queue))
    assert back == queue
    again, effects = restored(back)
    assert states(again) == {"a": "done", "b": "uploading", "c": "compressing"}
    assert effects == [StartUpload("b"), StartCompression("c")]  # a is never sent again


def test_the_persisted_form_holds_no_file_name() -> None:
    queue, _ = run(Added("a", "5449510:video/mp4:1732960000000:9f2c"))
    assert b"name" not in encode_queue(queue)
