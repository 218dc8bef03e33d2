"""Feature flags with Unleash's semantics, evaluated locally: the same code in the browser
(Pyodide) and on the server, proven against the Unleash client specification.

``state`` is Unleash client-features JSON (``{"version": 1, "features": [...],
"segments": [...]}``); ``context`` is an Unleash context (``userId``, ``sessionId``,
``remoteAddress``, ``appName``, ``environment``, ``currentTime``, ``properties``).
Pure Python and the standard library only: nothing here touches the browser or a server.

Modules: ``murmur`` (hashing), ``context`` (reading a context), ``constraints`` (operators),
``regex`` and ``semver`` (their dialects), ``strategies``, ``variants``, ``features``.
"""

from __future__ import annotations

from client.flags.features import Flags
from client.flags.murmur import normalized_value

__all__ = ["Flags", "get_variant", "is_enabled", "normalized_value"]


def is_enabled(state: dict, name: str, context: dict) -> bool:
    """Whether feature ``name`` of ``state`` is on for ``context`` (an unknown one is off)."""
    return Flags(state).is_enabled(name, context or {})


def get_variant(state: dict, name: str, context: dict) -> dict:
    """The variant of feature ``name`` for ``context``: ``{"name", "enabled",
    "feature_enabled", "payload"?}``, ``{"name": "disabled", "enabled": False, …}`` if none."""
    return Flags(state).get_variant(name, context or {})
