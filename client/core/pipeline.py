"""One file's journey: check → probe → plan → compress → upload, against ports.

Every path ends in a ``Status`` the page shows. Compression is an optimisation, never
a gate: if it fails or does not help, the original is sent and the page says why.
Files that cannot be read at all are not sent automatically; the page keeps
"Send original now" available for them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from client.core import messages
from client.core.capabilities import Capabilities
from client.core.media import FileFacts, classify
from client.core.planner import Plan, Priority, plan
from client.core.ports import (
    Encoded,
    Prober,
    StatusView,
    TranscodeFailed,
    Transcoder,
    Uploader,
    UploadFailed,
)
from client.core.progress import Status, percent_of


class Ports(msgspec.Struct, frozen=True):
    prober: Prober
    transcoder: Transcoder
    uploader: Uploader
    view: StatusView
    caps: Capabilities


def output_name(name: str) -> str:
    stem, dot, _ = name.rpartition(".")
    return f"{stem if dot and stem else name}.mp4"


def upload_metadata(
    facts: FileFacts, priority: Priority, plan_: Plan, compressed: bool, reason: str
) -> dict[str, str]:
    """tus ``Upload-Metadata``: only allow-listed, non-identifying fields."""
    meta = {
        "filename": output_name(facts.name) if compressed else facts.name,
        "filetype": "video/mp4" if compressed else (facts.mime or "application/octet-stream"),
        "priority": priority,
        "compressed": "1" if compressed else "0",
        "original_size": str(facts.size),
        "reason": reason,
    }
    if compressed and plan_.preset:
        meta["preset"] = plan_.preset
        meta["engine"] = plan_.engine or ""
    return meta


async def send(file: Any, facts: FileFacts, priority: Priority, ports: Ports) -> Status:
    view = ports.view
    if facts.size == 0:
        return _finish(view, Status(state="error", message=messages.EMPTY))
    kind = classify(facts)
    if kind != "video":
        described = f"it looks like {facts.mime or kind}"
        return _finish(view, Status(state="error", message=messages.NOT_VIDEO.format(kind=described)))

    view.show(Status(state="compressing", message="Reading the video…", percent=0.0))
    media = await ports.prober.probe(file)
    if media is None:
        return _finish(view, Status(state="error", message=messages.UNREADABLE))

    the_plan = plan(media, ports.caps, priority)
    if the_plan.action == "original":
        return await _upload(file, facts.size, facts, priority, the_plan, the_plan.reason,
                             messages.EMERGENCY, ports)

    def on_encoded(seconds: float) -> None:
        pct = percent_of(seconds, media.duration)
        view.show(Status(state="compressing", message=f"Compressing… {pct:.0f}%", percent=pct))

    view.show(Status(state="compressing", message="Compressing…", percent=0.0))
    try:
        encoded: Encoded = await ports.transcoder.run(file, the_plan, on_encoded)
    except TranscodeFailed:
        return await _upload(file, facts.size, facts, priority, the_plan, "compression-failed",
                             messages.COMPRESS_FAILED, ports)
    if encoded.size >= facts.size:
        return await _upload(file, facts.size, facts, priority, the_plan, "not-smaller",
                             messages.NOT_SMALLER, ports)
    return await _upload(encoded.blob, encoded.size, facts, priority, the_plan, "compressed", "",
                         ports, compressed=True)


async def _upload(
    blob: Any,
    size: int,
    facts: FileFacts,
    priority: Priority,
    the_plan: Plan,
    reason: str,
    note: str,
    ports: Ports,
    compressed: bool = False,
) -> Status:
    view = ports.view
    prefix = f"{note} " if note else ""

    def on_sent(done: int, total: int) -> None:
        pct = percent_of(done, total)
        view.show(Status(state="uploading", message=f"{prefix}Uploading… {pct:.0f}%", percent=pct))

    on_sent(0, size)
    meta = upload_metadata(facts, priority, the_plan, compressed, reason)
    try:
        url = await ports.uploader.upload(blob, meta, on_sent)
    except UploadFailed as exc:
        return _finish(view, Status(state="error", message=messages.UPLOAD_FAILED.format(detail=exc.detail)))
    done = f"{prefix}{messages.sent(size, facts.size, compressed)}"
    return _finish(view, Status(state="done", message=done, percent=100.0, upload_url=url))


def _finish(view: StatusView, status: Status) -> Status:
    view.show(status)
    return status
