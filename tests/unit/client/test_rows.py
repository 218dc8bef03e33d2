"""How the queue is shown: controls per state, the clip the status line follows, counts."""

from client.core.queue import Added, Bypass, Compressed, Failed, Queue, Start, Uploaded, step
from client.core.rows import controls_for, counts, current_item


def run(*events):  # type: ignore[no-untyped-def]
    queue = Queue()
    for event in events:
        queue, _ = step(queue, event)
    return queue


def test_each_state_offers_what_can_be_done_with_it() -> None:
    queue = run(Start(), Added("a", "fa"), Added("b", "fb"), Failed("a", "refused"))
    assert controls_for(queue.item("a")) == ("retry", "cancel", "bypass")
    assert controls_for(queue.item("b")) == ("pause", "cancel", "bypass")  # now compressing
    done = run(Start(), Added("a", "fa"), Compressed("a"), Uploaded("a", "u"))
    assert controls_for(done.item("a")) == ()  # never sent twice


def test_an_original_that_failed_to_send_offers_the_bypass_again() -> None:
    queue = run(Added("a", "fa"), Bypass("a"))
    assert controls_for(queue.item("a")) == ()
    queue = run(Added("a", "fa"), Bypass("a"), Failed("a", "no network"))
    assert controls_for(queue.item("a")) == ("bypass",)


def test_the_status_line_follows_the_first_clip_at_work_else_the_first_unfinished() -> None:
    queue = run(Start(), Added("a", "fa"), Added("b", "fb"), Compressed("a"))
    assert current_item(queue).id == "a"  # uploading, while b compresses
    queue, _ = step(queue, Uploaded("a", "u"))
    assert current_item(queue).id == "b"
    finished = run(Start(), Added("a", "fa"), Compressed("a"), Uploaded("a", "u"))
    assert current_item(finished).id == "a"  # everything arrived: the last one
    assert current_item(Queue()) is None


def test_counts_say_what_waits_uploads_arrived_or_needs_attention() -> None:
    queue = run(Start(), Added("a", "fa"), Added("b", "fb"), Added("c", "fc"), Added("d", "fd"),
                Compressed("a"), Failed("b", "x"), Bypass("d"))
    assert counts(queue) == {"waiting": 1, "uploading": 2, "done": 0, "failed": 1}
    queue, _ = step(queue, Uploaded("d", "u"))
    assert counts(queue)["done"] == 1
