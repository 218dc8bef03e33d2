"""What the feature flags decide for this device, as one immutable ``Steering``.

Pure: the flag state (Unleash client-features JSON, from the server or the last one cached)
and an Unleash context go in, a ``Steering`` comes out, evaluated by ``client.flags``.
Without any state at all the page falls back to the safe side: no compression (sending the
original is never less safe than compressing it).

The flags medpress reads (an absent flag is off):

- ``compression``: compress in the browser (off: originals, stripped of their metadata);
- ``kill_switch`` (type kill-switch): originals, untouched, for everyone, at once;
- ``engine.webcodecs`` / ``engine.ffmpeg``: which engines may run;
- ``preset``: its variant names the default preset;
- ``webcodecs.quality``: its variant's JSON payload ``{"bitrate_scale": 1.2}`` scales the
  WebCodecs bitrates (the preset's, and so those its rate probe tries and may choose);
- ``ui``: its variant names the UI variant (``data-ui-variant`` on the page);
- ``upload.streaming``: upload a clip's fragments while it is encoded, and after a pause or a
  reload go on from the last fragment kept (off: the clip is uploaded once compressed whole;
  on by default, kept for the benchmark's comparison and as a switch for operators).
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec

from client import flags
from client.core.capabilities import Capabilities
from client.core.presets import PRESETS

APP_NAME = "medpress"
ENGINE_FLAGS = {"webcodecs": "engine.webcodecs", "ffmpeg": "engine.ffmpeg", "ffmpeg-mt": "engine.ffmpeg"}
MIN_SCALE, MAX_SCALE = 0.25, 4.0
EXPERIMENTS = ("ui", "preset", "webcodecs.quality")  # flags whose variants are A/B arms


class Steering(msgspec.Struct, frozen=True, kw_only=True):
    """Defaults: what medpress does with no flags layer at all (unit tests, tools)."""

    compress: bool = True
    kill_switch: bool = False
    engines: frozenset[str] = frozenset({"webcodecs", "ffmpeg", "ffmpeg-mt"})
    default_preset: str | None = None
    bitrate_scale: float = 1.0
    ui_variant: str | None = None
    stream: bool = False  # upload fragments while encoding (off: the whole file, once made)
    from_flags: bool = False  # decided by a flag state (else: no state, the safe side)

    @property
    def reason(self) -> str | None:
        """Why the flags send originals, or None when they let compression run."""
        if self.kill_switch:
            return "kill-switch"
        return None if self.compress else "compression-off"


SAFE = Steering(compress=False, engines=frozenset())  # no state at all: originals


def context_for(installation: str, caps: Capabilities, device: dict[str, Any]) -> dict[str, Any]:
    """Unleash's context for this device: the anonymous installation id as the stickiness
    (``sessionId``), and the device's conditions as properties for constraint operators.
    Never a user's or a patient's name."""
    properties = {
        "cores": str(caps.cores),
        "memoryGb": f"{caps.device_memory_gb:g}",
        "webcodecs": str(caps.webcodecs).lower(),
        "crossOriginIsolated": str(caps.cross_origin_isolated).lower(),
    }
    properties.update({key: str(value) for key, value in device.items() if value is not None})
    return {"appName": APP_NAME, "sessionId": installation, "properties": properties}


def steering(state: dict[str, Any] | None, context: dict[str, Any]) -> Steering:
    if state is None:
        return SAFE

    def on(name: str) -> bool:
        return flags.is_enabled(state, name, context)

    def variant(name: str) -> dict[str, Any] | None:
        found = flags.get_variant(state, name, context)
        return found if found.get("enabled") else None

    preset = variant("preset")
    ui = variant("ui")
    return Steering(
        compress=on("compression"),
        kill_switch=on("kill_switch"),
        engines=frozenset(engine for engine, flag in ENGINE_FLAGS.items() if on(flag)),
        default_preset=preset["name"] if preset and preset["name"] in PRESETS else None,
        bitrate_scale=_scale(variant("webcodecs.quality")),
        ui_variant=ui["name"] if ui else None,
        stream=on("upload.streaming"),
        from_flags=True,
    )


def _scale(found: dict[str, Any] | None) -> float:
    """The payload's ``bitrate_scale``, kept within sane bounds; 1.0 when absent or unreadable."""
    payload = (found or {}).get("payload") or {}
    try:
        value = float(json.loads(payload.get("value", "{}")).get("bitrate_scale", 1.0))
    except (ValueError, TypeError, AttributeError):
        return 1.0
    return min(MAX_SCALE, max(MIN_SCALE, value)) if math.isfinite(value) else 1.0
