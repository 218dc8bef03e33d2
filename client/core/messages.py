"""Every sentence a clinician may read, in the page's language: plain language, what to do next.

The texts live in one catalogue, ``client/core/locales/<language>.json`` (see
``client.core.i18n``), shared with the page's plain JS. An upper-case name here is the
catalogue text whose key is that name in lower case, in the current language:
``messages.READY`` is ``"ready"``, and a new key ``"checking"`` added to every language
file is ``messages.CHECKING`` at once. Texts with ``{placeholders}`` come back unfilled
(``messages.NOT_MEDIA.format(kind=...)``); the functions below fill theirs.

Messages may name the file's size or type but never its name or contents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from client.core.i18n import decimal, has, language, set_language, text, with_prefix

if TYPE_CHECKING:
    from client.core.planner import Plan
    from client.core.progress import Rate

__all__ = [
    "compressing", "duration_text", "expectation", "human_size", "language", "not_media",
    "sent", "set_language", "uploading", "why_original",
]


def __getattr__(name: str) -> Any:
    """``READY``, ``WHY_ORIGINAL``… in the current language (looked up at each use)."""
    if name == "WHY_ORIGINAL":  # reason code → why the original is sent instead
        return with_prefix("why_original.")
    if name.isupper() and has(name.lower()):
        return text(name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kb", "mb", "gb"):
        if value < 1000 or unit == "gb":
            n = str(int(value)) if unit == "bytes" else decimal(value)
            return text(f"size.{unit}", n=n)
        value /= 1000
    raise AssertionError("unreachable")


def sent(size: int, original_size: int, compressed: bool) -> str:
    if not compressed:
        return text("sent.original", size=human_size(size))
    saved = 100 * (1 - size / original_size) if original_size else 0
    smaller = text("sent.over_99") if saved > 99 else f"{saved:.0f}%"
    return text("sent.compressed", size=human_size(size), original=human_size(original_size),
                saved=smaller)


def why_original(reason: str) -> str:
    key = f"why_original.{reason}"
    return text(key) if has(key) else ""


def not_media(mime: str) -> str:
    """The file is neither video nor photo; ``mime`` is its declared type (or a kind)."""
    return text("not_media", kind=text("looks_like", mime=mime))


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return text("duration.seconds", n=max(1, round(seconds)))
    return text("duration.minutes", n=round(seconds / 60))


def compressing(rate: Rate) -> str:
    parts = [text("compressing.percent", percent=f"{rate.percent:.0f}")]
    if rate.speed > 0:
        parts.append(text("compressing.speed", speed=decimal(rate.speed)))
    if rate.eta_s is not None:
        parts.append(text("compressing.eta", duration=duration_text(rate.eta_s)))
    return " · ".join(parts)


def uploading(percent: float, note: str = "") -> str:
    """Upload progress, after ``note`` (why the original is sent) if there is one."""
    progress = text("uploading", percent=f"{percent:.0f}")
    return f"{note} {progress}" if note else progress


def expectation(plan: Plan, size: int) -> str:
    """What pressing Start will do, before it is pressed."""
    if plan.action == "original":
        return text("expectation.original", why=why_original(plan.reason))
    return text(
        "expectation.compress",
        estimated=human_size(plan.estimated_bytes),
        size=human_size(size),
        duration=duration_text(plan.estimated_seconds),
        how=text("expectation.quick" if plan.engines[:1] == ("webcodecs",) else "expectation.thorough"),
        arrival=duration_text(plan.arrival_s),
        speed=text(f"link.{plan.uplink.source}", n=decimal(plan.uplink.bps / 1e6)),
    )


# The queue.

CONTROLS = ("pause", "resume", "retry", "cancel", "bypass")


def control_label(action: str) -> str:
    return text(f"control.{action}")


def item_title(number: int, name: str, size: int) -> str:
    """A clip's row title: the name shown to the person who chose it (never logged or kept
    as a storage key)."""
    return text("queue.title", number=number, name=name, size=human_size(size))


def item_message(state: str, problem: str | None) -> str:
    """The sentence a clip's state says by itself; "" when its own progress says more."""
    if problem:
        return problem
    return {"paused": queue_text("paused"), "needs-file": queue_text("needs_file")}.get(state, "")


def counts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if total and counts["done"] == total:
        return text("queue.all_arrived", count=total)
    return text("queue.counts", **counts)


def storage(used: int, quota: int, unkept: int) -> str:
    """Storage use, and how many clips' originals could not be kept for a reload."""
    said = (text("queue.storage_quota", used=human_size(used), quota=human_size(quota)) if quota
            else text("queue.storage", used=human_size(used)))
    return f"{said} {text('queue.unkept', count=unkept)}" if unkept else said


def sending_original(percent: float) -> str:
    return text("bypass.progress", percent=f"{percent:.0f}")


def notice(name: str) -> str:
    return text(f"notice.{name}")


def emergency_sent(size: int) -> str:
    return text("bypass.emergency", size=human_size(size))


def original_failed(detail: str) -> str:
    return text("bypass.failed", detail=detail)


def queue_text(name: str) -> str:
    """``queue.<name>``: "restored", "needs_file", "paused"…"""
    return text(f"queue.{name}")
