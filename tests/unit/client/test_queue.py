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
    Halt,
    Pause,
    Queue,
    Resume,
    Retry,
    SendOriginal,
    Start,
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


THREE = [Start(), Added("a", "fa"), Added("b", "fb"), Added("c", "fc")]


def test_chosen_clips_wait_for_start_and_clips_added_while_running_follow() -> None:
    queue, effects = run(Added("a", "fa"), Added("b", "fb"))
    assert states(queue) == {"a": "waiting", "b": "waiting"} and effects == []
    queue, effects = run(Start(), queue=queue)
    assert effects == [StartCompression("a")]
    queue, effects = run(Start(), Added("c", "fc"), queue=queue)
    assert states(queue)["c"] == "waiting" and queue.running


def test_the_queue_stops_running_once_drained_and_says_when_all_arrived() -> None:
    queue, _ = run(Start(), Added("a", "fa"), Compressed("a"))
    assert queue.running and not queue.all_arrived()
    queue, _ = run(Uploaded("a", "u1"), queue=queue)
    assert not queue.running and queue.all_arrived()
    queue, effects = run(Start(), Added("b", "fb"), queue=queue)
    assert effects == [] and not queue.all_arrived()  # a new clip waits for Start again


def test_resume_and_retry_set_a_drained_queue_going_again() -> None:
    queue, _ = run(Start(), Added("a", "fa"), Pause("a"))
    assert not queue.running
    queue, effects = run(Resume("a"), queue=queue)
    assert effects == [StartCompression("a")]


def test_a_bypassed_clip_has_arrived_only_once_its_original_is_stored() -> None:
    queue, _ = run(Added("a", "fa"), Bypass("a"))
    assert not queue.all_arrived()
    queue, _ = run(Uploaded("a", "u1"), queue=queue)
    assert queue.all_arrived() and states(queue) == {"a": "bypassed"}


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
    queue, _ = run(Start(), Added("a", "fa"), Compressed("a"), Uploaded("a", "/files/1"))
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
        "waiting": [Start(), Added("x", "fx"), Added("a", "fa")],
        "compressing": [Start(), Added("a", "fa")],
        "uploading": [Start(), Added("a", "fa"), Compressed("a")],
        "paused": [Start(), Added("a", "fa"), Pause("a")],
        "failed": [Start(), Added("a", "fa"), Failed("a", "no network")],
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
    assert effects == [StopWork("a", keep=True), StartCompression("b")]  # the slot goes to the next
    assert states(queue) == {"a": "paused", "b": "compressing", "c": "waiting"}
    queue, effects = step(queue, Resume("a"))
    assert states(queue)["a"] == "waiting" and effects == []  # b holds the only slot
    queue, effects = step(queue, Compressed("b"))
    assert effects == [StartCompression("a"), StartUpload("b")]  # a before c, in order again


def test_a_failed_item_waits_for_retry_and_keeps_its_output() -> None:
    queue, _ = run(Start(), Added("a", "fa"), Compressed("a"), Failed("a", "The server refused it."))
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
    ready, _ = run(Start(), Added("z", "fz"), Compressed("z"))
    assert step(ready, FileMissing("z"))[0] == ready  # its output is kept: no file needed


def test_adding_the_same_item_twice_adds_it_once() -> None:
    queue, effects = run(Start(), Added("a", "fa"), Added("a", "fa"))
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
    queue, _ = run(Start(), Added("a", "5449510:video/mp4:1732960000000:9f2c"))
    assert b"name" not in encode_queue(queue)


def test_an_original_that_could_not_be_sent_is_offered_again_and_sent_once_more() -> None:
    queue, _ = run(Added("a", "fa"), Bypass("a"), Failed("a", "no network"))
    assert states(queue) == {"a": "bypassed"} and queue.item("a").problem == "no network"
    queue, effects = step(queue, Bypass("a"))
    assert effects == [SendOriginal("a")] and queue.item("a").problem is None
    queue, _ = step(queue, Uploaded("a", "u1"))
    assert step(queue, Bypass("a")) == (queue, [])  # once it is stored, never again


def test_the_pages_cancel_stops_everything_running_until_start() -> None:
    queue, _ = run(*THREE, Compressed("a"))
    assert states(queue) == {"a": "uploading", "b": "compressing", "c": "waiting"}
    queue, effects = step(queue, Halt())
    assert effects == [StopWork("a", keep=True), StopWork("b", keep=True)] and not queue.running
    assert states(queue) == {"a": "waiting", "b": "waiting", "c": "waiting"}
    assert queue.item("a").output_ready  # what was compressed stays compressed
    queue, effects = step(queue, Start())
    assert effects == [StartUpload("a"), StartCompression("b")]


def test_after_a_reload_lost_outputs_are_compressed_again_and_missing_files_asked_for() -> None:
    queue, _ = run(*THREE, Compressed("a"), Compressed("b"))
    assert states(queue) == {"a": "uploading", "b": "waiting", "c": "compressing"}
    back, effects = restored(queue, lost_outputs=frozenset({"b"}), missing_files=frozenset({"a", "c"}))
    # a's output was kept: it resumes its upload; b compresses again from its kept original;
    # c had neither output nor original: the person is asked for the file.
    assert states(back) == {"a": "uploading", "b": "compressing", "c": "needs-file"}
    assert effects == [StartUpload("a"), StartCompression("b")]
