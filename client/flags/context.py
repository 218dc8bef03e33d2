"""Reading an Unleash context: its standard fields, its custom properties, stickiness.

A context is a plain dict: ``userId``, ``sessionId``, ``remoteAddress``, ``environment``,
``appName``, ``currentTime`` at the top, anything else under ``properties``. Values are
strings in Unleash; numbers and booleans are accepted too (medpress's device conditions,
such as ``cores`` or ``webcodecs``) and read as Unleash would see them sent as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

STANDARD_FIELDS = frozenset(
    {"userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime"})


def as_text(value: Any) -> str | None:
    """A context value as Unleash compares it: text, ``true``/``false`` for booleans, or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def context_value(context: dict, name: str) -> str | None:
    """The value of field ``name`` (standard field or custom property), or None if absent."""
    if name in STANDARD_FIELDS:
        value = as_text(context.get(name))
        if value is None and name == "currentTime":
            return datetime.now(UTC).isoformat()  # Unleash: "now" unless the caller says when
        return value
    return as_text((context.get("properties") or {}).get(name))


def stickiness_value(context: dict, stickiness: str | None) -> str | None:
    """The value a rollout or variant hashes on; None means "no value: fall back to random"
    for ``default`` and ``random`` stickiness, and "not this context" for a named field."""
    if stickiness in (None, "", "default"):
        for field in ("userId", "sessionId"):
            value = as_text(context.get(field))
            if value is not None:
                return value
        return None
    if stickiness == "random":
        return None
    return context_value(context, stickiness)
