"""How the queue is shown: which controls each clip offers, which clip the page's own
status line follows, and the counts indicator. Pure, so every rule is tested on CPython."""

from __future__ import annotations

from client.core.queue import FINAL, WORKING, Item, Queue

# The controls each state offers, in the order they appear.
CONTROLS: dict[str, tuple[str, ...]] = {
    "waiting": ("pause", "cancel", "bypass"),
    "compressing": ("pause", "cancel", "bypass"),
    "uploading": ("pause", "cancel", "bypass"),
    "paused": ("resume", "cancel", "bypass"),
    "failed": ("retry", "cancel", "bypass"),
    "needs-file": ("cancel",),
    "done": (),
    "bypassed": (),
}


def controls_for(item: Item) -> tuple[str, ...]:
    """A bypassed clip whose original could not be sent offers to send it again; a recording
    (finished by the capture) offers nothing while it finishes, and only removal if that failed."""
    if item.state == "bypassed" and item.problem and not item.upload_url:
        return ("bypass",)
    if item.recorded:
        return ("cancel",) if item.state == "failed" else ()
    return CONTROLS[item.state]


def arrived(item: Item) -> bool:
    return item.state in FINAL and bool(item.upload_url)


def current_item(queue: Queue) -> Item | None:
    """The clip the page's status line, progress bar and "Send original now" stand for:
    the first one in order still being worked on or waiting for something, else the last."""
    working = next((i for i in queue.items if i.state in WORKING), None)
    if working is not None:
        return working
    pending = next((i for i in queue.items if not arrived(i)), None)
    return pending or (queue.items[-1] if queue.items else None)


def counts(queue: Queue) -> dict[str, int]:
    """The indicator's four numbers: waiting (anything not yet uploading), uploading,
    done (on the server) and failed (needs the person)."""
    result = {"waiting": 0, "uploading": 0, "done": 0, "failed": 0}
    for item in queue.items:
        if arrived(item):
            result["done"] += 1
        elif item.state in ("failed", "needs-file") or item.problem:
            result["failed"] += 1
        elif item.state == "uploading" or item.state == "bypassed":
            result["uploading"] += 1
        else:
            result["waiting"] += 1
    return result
