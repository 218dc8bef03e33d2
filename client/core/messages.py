"""Every sentence a clinician may read, in one place: plain language, what to do next.

Messages may name the file's size or type but never its name or contents.
"""

from __future__ import annotations

SEND_ORIGINAL = "“Send original now”"

CHOOSE_FILE = "Choose a video first."
READY = "Ready. Choose a video and press Start."
EMPTY = (
    "This file is empty (0 bytes), so there is nothing to send. Record or export it again; "
    f"if you still want to send it as it is, use {SEND_ORIGINAL}."
)
NOT_VIDEO = (
    "This file is not a video ({kind}). Choose a video file, or send it as it is with "
    f"{SEND_ORIGINAL}."
)
UNREADABLE = (
    "This video could not be read: it may be damaged or only partly copied. Nothing was sent. "
    f"You can still send it exactly as it is with {SEND_ORIGINAL}."
)
COMPRESS_FAILED = "Compression did not work on this video, so the original is being sent instead."
NOT_SMALLER = "Compression would not make this video smaller, so the original is being sent."
EMERGENCY = "Emergency: sending the original now, without compression."
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
    saved = 100 - round(100 * size / original_size) if original_size else 0
    return f"Sent {human_size(size)} (was {human_size(original_size)}, {saved}% smaller)."
