"""The queue of clips, as a pure state machine: ``step(queue, event) -> (queue, effects)``.

Each item moves waiting → compressing → uploading → done, with paused, failed, bypassed
and needs-file beside them. By default one item compresses and one uploads at a time, in
the order they were added, so the next item compresses while the previous one uploads.
The browser adapter performs the effects (start or stop work, send the original) and feeds
back what happened as events. Nothing here touches the browser, so every rule is tested on
CPython, and a queue restored after a reload (`restored`) continues on its own.

Two rules protect the clinician: an item that is done or bypassed never changes again (its
clip is never sent twice), and a bypass wins over whatever the item was doing.
"""

from __future__ import annotations

from typing import Literal

import msgspec

ItemState = Literal[
    "waiting", "compressing", "paused", "uploading", "done", "bypassed", "failed", "needs-file"
]
FINAL: frozenset[str] = frozenset({"done", "bypassed"})
WORKING: frozenset[str] = frozenset({"compressing", "uploading"})


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """One clip. No file name: ``fingerprint`` is size, type, lastModified and a hash of its
    first MiB, which is enough to recognise the same file when it is chosen again."""

    id: str
    fingerprint: str
    state: ItemState = "waiting"
    output_ready: bool = False  # its compressed output is kept: only the upload is left
    upload_url: str | None = None
    problem: str | None = None  # plain language, for a failed item
    # A recording from the page's camera: its upload is finished by the capture, not by the
    # queue's steps, so Cancel (the page's), Pause, Resume, Retry and Bypass leave it be; a
    # failed one can only be removed.
    recorded: bool = False


class Queue(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Item, ...] = ()
    max_compressing: int = 1
    max_uploading: int = 1
    running: bool = False  # Start pressed; ends by itself once nothing is left to do


    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def count(self, state: str) -> int:
        return sum(item.state == state for item in self.items)

    def all_arrived(self) -> bool:
        """Every clip is on the server (done, or its original sent by the bypass)."""
        return bool(self.items) and all(
            item.state in FINAL and item.upload_url for item in self.items
        )


# Events: what the person did, or what the work reported.


class Start(msgspec.Struct, frozen=True, tag=True):
    """Start pressed: the waiting clips go, and clips added while they do follow them."""


class Halt(msgspec.Struct, frozen=True, tag=True):
    """The page's Cancel: stop what is running; the clips wait for Start again."""


class Added(msgspec.Struct, frozen=True, tag=True):
    item_id: str
    fingerprint: str


class Compressed(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class Uploaded(msgspec.Struct, frozen=True, tag=True):
    item_id: str
    upload_url: str


class Failed(msgspec.Struct, frozen=True, tag=True):
    item_id: str
    problem: str


class Pause(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class Resume(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class Retry(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class Cancel(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class Bypass(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class FileMissing(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class FileFound(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class Recorded(msgspec.Struct, frozen=True, tag=True):
    """A recording from the page's camera, sent while it was made: it joins the queue (or
    takes up its row kept from before a reload, by its key as fingerprint) uploading, whatever
    the queue is doing, since its upload only has to be finished. Nothing is started for it:
    the adapter finishes it and reports Uploaded or Failed."""

    item_id: str
    fingerprint: str


Event = (
    Start
    | Halt
    | Added
    | Compressed
    | Uploaded
    | Failed
    | Pause
    | Resume
    | Retry
    | Cancel
    | Bypass
    | FileMissing
    | FileFound
    | Recorded
)


# Effects: what the adapter must do.


class StartCompression(msgspec.Struct, frozen=True, tag=True):
    item_id: str


class StartUpload(msgspec.Struct, frozen=True, tag=True):
    item_id: str  # the kept output, resumed by its tus URL if one was made


class StopWork(msgspec.Struct, frozen=True, tag=True):
    item_id: str
    keep: bool = False  # pause: keep what the server holds, to resume; else let it go


class SendOriginal(msgspec.Struct, frozen=True, tag=True):
    item_id: str


Effect = StartCompression | StartUpload | StopWork | SendOriginal


def step(queue: Queue, event: Event) -> tuple[Queue, list[Effect]]:
    """Apply ``event``, then start whatever the free slots allow, in order."""
    queue, effects = _apply(queue, event)
    queue, started = _schedule(queue)
    return queue, effects + started


def restored(
    queue: Queue, *, lost_outputs: frozenset[str] = frozenset(), missing_files: frozenset[str] = frozenset()
) -> tuple[Queue, list[Effect]]:
    """A queue read back after a reload: work that was running starts again (an upload
    resumes from the server's offset; a compression without kept output starts over).
    ``lost_outputs``: clips whose compressed output could not be read back (compressed
    again); ``missing_files``: clips whose original the browser could not keep, which wait
    for the person to choose the same file again unless their output was kept."""

    def back(item: Item) -> Item:
        if item.state in FINAL:
            return item
        output_ready = item.output_ready and item.id not in lost_outputs
        state = "waiting" if item.state in WORKING else item.state
        if not output_ready and item.id in missing_files:
            state = "needs-file"
        return msgspec.structs.replace(item, state=state, output_ready=output_ready)

    return _schedule(msgspec.structs.replace(queue, items=tuple(back(i) for i in queue.items)))


def _apply(queue: Queue, event: Event) -> tuple[Queue, list[Effect]]:
    if isinstance(event, Start):
        return msgspec.structs.replace(queue, running=True), []
    if isinstance(event, Halt):
        halted = [item for item in queue.items if item.state in WORKING and not item.recorded]
        stops: list[Effect] = [StopWork(item.id, keep=True) for item in halted]
        items = tuple(msgspec.structs.replace(item, state="waiting") if item in halted else item for item in queue.items)
        return msgspec.structs.replace(queue, items=items, running=False), stops
    if isinstance(event, Added):
        if queue.item(event.item_id) is not None:
            return queue, []
        added = Item(id=event.item_id, fingerprint=event.fingerprint)
        return msgspec.structs.replace(queue, items=(*queue.items, added)), []
    if isinstance(event, Recorded):
        return _recorded(queue, event), []
    item = queue.item(event.item_id)
    if item is None:
        return queue, []
    if item.state == "bypassed" and item.upload_url is None:  # its original is on the way
        if isinstance(event, Uploaded):
            return _set(queue, item, upload_url=event.upload_url, problem=None), []
        if isinstance(event, Failed):
            return _set(queue, item, problem=event.problem), []  # offered again (rows.py)
        if isinstance(event, Bypass) and item.problem:
            return _set(queue, item, problem=None), [SendOriginal(item.id)]
    if item.state in FINAL:
        return queue, []  # done and bypassed items never change again
    if item.recorded and not (isinstance(event, (Uploaded, Failed)) or (
        isinstance(event, Cancel) and item.state == "failed"
    )):
        return queue, []
    if isinstance(event, Bypass):
        stop = [StopWork(item.id)] if item.state in WORKING else []
        return _set(queue, item, state="bypassed"), [*stop, SendOriginal(item.id)]
    if isinstance(event, Cancel):
        stop = [StopWork(item.id)] if item.state in WORKING else []
        items = tuple(other for other in queue.items if other.id != item.id)
        return msgspec.structs.replace(queue, items=items), stop
    if isinstance(event, Compressed) and item.state == "compressing":
        return _set(queue, item, state="waiting", output_ready=True), []
    if isinstance(event, Uploaded) and item.state == "uploading":
        return _set(queue, item, state="done", upload_url=event.upload_url), []
    if isinstance(event, Failed) and item.state in WORKING:
        return _set(queue, item, state="failed", problem=event.problem), []
    if isinstance(event, Pause) and item.state in ("waiting", *WORKING):
        stop = [StopWork(item.id, keep=True)] if item.state in WORKING else []
        return _set(queue, item, state="paused"), stop
    if (isinstance(event, Resume) and item.state == "paused") or (
        isinstance(event, Retry) and item.state == "failed"
    ):
        return _running(_set(queue, item, state="waiting", problem=None)), []
    if isinstance(event, FileMissing) and not item.output_ready:
        stop = [StopWork(item.id)] if item.state in WORKING else []
        return _set(queue, item, state="needs-file"), stop
    if isinstance(event, FileFound) and item.state == "needs-file":
        return _running(_set(queue, item, state="waiting")), []
    return queue, []  # an event that does not apply to the item's state changes nothing


def _recorded(queue: Queue, event: Recorded) -> Queue:
    item = queue.item(event.item_id)
    if item is None:
        added = Item(id=event.item_id, fingerprint=event.fingerprint, state="uploading", output_ready=True,
                     recorded=True)
        return msgspec.structs.replace(queue, items=(*queue.items, added))
    if item.state in FINAL:
        return queue
    return _set(queue, item, state="uploading", output_ready=True, problem=None, recorded=True)


def _schedule(queue: Queue) -> tuple[Queue, list[Effect]]:
    effects: list[Effect] = []
    if not queue.running:
        return queue, effects
    for item in queue.items:
        if item.state != "waiting":
            continue
        if item.output_ready and queue.count("uploading") < queue.max_uploading:
            queue = _set(queue, item, state="uploading")
            effects.append(StartUpload(item.id))
        elif not item.output_ready and queue.count("compressing") < queue.max_compressing:
            queue = _set(queue, item, state="compressing")
            effects.append(StartCompression(item.id))
    if queue.items and not any(item.state in ("waiting", *WORKING) for item in queue.items):
        queue = msgspec.structs.replace(queue, running=False)  # drained: new clips wait for Start
    return queue, effects


def _running(queue: Queue) -> Queue:
    """Resume, Retry and a file found again set the queue going (no second Start needed)."""
    return msgspec.structs.replace(queue, running=True)


def _set(queue: Queue, item: Item, **changes: object) -> Queue:
    changed = msgspec.structs.replace(item, **changes)
    items = tuple(changed if other.id == item.id else other for other in queue.items)
    return msgspec.structs.replace(queue, items=items)


encode_queue = msgspec.json.Encoder().encode
decode_queue = msgspec.json.Decoder(Queue).decode  # persisted by us: unknown fields tolerated
