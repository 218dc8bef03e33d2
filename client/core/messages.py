"""Every sentence a clinician may read, in one place: plain language, what to do next.

Messages may name the file's size or type but never its name or contents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client.core.planner import Plan
    from client.core.progress import Rate

SEND_ORIGINAL = "“Send original now”"

CHOOSE_FILE = "Choose a video first."
READY = "Ready. Choose a video and press Start."
EMPTY = (
    "This file is empty (0 bytes), so there is nothing to send. Record or export it again; "
    f"if you still want to send it as it is, use {SEND_ORIGINAL}."
)
NOT_MEDIA = (
    "This file is not a video or a photo ({kind}). Choose a video or photo, or send it as it "
    f"is with {SEND_ORIGINAL}."
)
PHOTO_UNREADABLE = (
    "This photo could not be opened in this browser (some formats, such as HEIC, cannot). "
    f"Nothing was sent. {SEND_ORIGINAL} sends it as it is, including any location it holds."
)
PHOTO_READY = (
    "Ready: the photo will be resized to at most {max_side} px and its hidden details "
    "(location, camera) removed. Press Start."
)
PREPARING_PHOTO = "Preparing the photo…"
STRIPPING = "Removing location and device details from the original…"
UNREADABLE = (
    "This video could not be read: it may be damaged or only partly copied. Nothing was sent. "
    f"You can still send it exactly as it is with {SEND_ORIGINAL}."
)
STARTING_ENGINE = "Compressing… starting the encoder"
CANCELLED = "Cancelled. Nothing was sent; press Start to try again."

# Why the original is sent instead of a compressed copy, by the pipeline's reason code.
WHY_ORIGINAL = {
    "emergency": "Emergency: the original is sent without compression.",
    "small-file": "This video is already small, so the original is sent as it is.",
    "little-gain": "This video is already well compressed, so the original is sent as it is.",
    "no-engine": "This browser cannot compress this video, so the original is sent.",
    "compression-failed": "Compression did not work on this video, so the original is sent instead.",
    "below-floor": "Compression could not keep this preset's picture quality, so the original is sent.",
    "over-budget": "Compression was taking too long for this priority, so the original is sent.",
    "not-smaller": "Compression would not make this video smaller, so the original is sent.",
}
UPLOAD_FAILED = (
    "The upload did not finish: {detail}. Check the network and press Start to try again; "
    "nothing has been lost."
)
UNEXPECTED = (
    "Something went wrong on this page. Nothing was lost: press Start to try again, or send "
    f"the file as it is with {SEND_ORIGINAL}."
)
NOT_LOADED = (
    "medpress could not finish loading in this browser. You can still send the original with "
    f"{SEND_ORIGINAL}."
)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def sent(size: int, original_size: int, compressed: bool) -> str:
    if not compressed:
        return f"Sent the original ({human_size(size)})."
    saved = 100 * (1 - size / original_size) if original_size else 0
    smaller = "over 99%" if saved > 99 else f"{saved:.0f}%"
    return f"Sent {human_size(size)} (was {human_size(original_size)}, {smaller} smaller)."


def why_original(reason: str) -> str:
    return WHY_ORIGINAL.get(reason, "")


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def compressing(rate: Rate) -> str:
    parts = [f"Compressing… {rate.percent:.0f}%"]
    if rate.speed > 0:
        parts.append(f"{rate.speed:.1f}× real time")
    if rate.eta_s is not None:
        parts.append(f"about {duration_text(rate.eta_s)} left")
    return " · ".join(parts)


def expectation(plan: Plan, size: int) -> str:
    """What pressing Start will do, before it is pressed."""
    if plan.action == "original":
        return f"Ready. {why_original(plan.reason)} Press Start."
    return (
        f"Ready: about {human_size(plan.estimated_bytes)} instead of {human_size(size)}, "
        f"about {duration_text(plan.estimated_seconds)} to compress. Press Start."
    )
