"""Analytics events: typed, shared by the page and the server, and free of patient data.

Each event is a msgspec Struct in one tagged union (``type`` names it). Fields hold only
enumerations, numbers, durations, sizes and anonymous ids: no free text, no file names, no
metadata values. The server decodes a batch strictly (an unknown field or a wrong type is a
400 naming it), so nothing else can slip in.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9-]{8,40}$")]  # a random installation id
Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,40}$")]  # flag and variant names
Count = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=7 * 24 * 3600)]

DeviceClass = Literal["phone", "tablet", "desktop"]
Specialty = Literal[
    "unspecified", "wound-care", "emergency", "surgery", "obstetrics", "cardiology",
    "radiology", "dermatology", "orthopaedics", "other",
]
SPECIALTIES: tuple[str, ...] = Specialty.__args__  # type: ignore[attr-defined]
Engine = Literal["webcodecs", "ffmpeg-mt", "ffmpeg", "canvas", "none"]
Preset = Literal["medical-high", "medical-standard", "mobile-fast", "photo", "none"]
Priority = Literal["routine", "urgent", "emergency"]
FallbackReason = Literal[
    "emergency", "small-file", "little-gain", "no-engine", "compression-failed", "below-floor",
    "over-budget", "not-smaller", "kill-switch", "compression-off",
]
FailureCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9:-]{1,40}$")]  # an engine's stable code
PauseCause = Literal["hidden", "frozen", "offline"]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True):
    at: Annotated[float, msgspec.Meta(ge=0)]  # Unix seconds, the page's clock
    installation: Id
    device_class: DeviceClass
    specialty: Specialty = "unspecified"
    variant: Name | None = None  # the UI variant this page shows (A/B), if any


class CompressionStarted(Event, tag="compression_started"):
    engine: Engine
    preset: Preset
    priority: Priority
    input_bytes: Count


class CompressionCompleted(Event, tag="compression_completed"):
    engine: Engine
    preset: Preset
    priority: Priority
    input_bytes: Count
    output_bytes: Count
    seconds: Seconds
    ssim: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None  # measured on the output
    crf: Annotated[float, msgspec.Meta(ge=0, le=51)] | None = None  # x264's, chosen by the probe
    bitrate: Count | None = None  # WebCodecs' bits/s, chosen by the probe
    probe_s: Seconds | None = None  # what the rate probe cost (None: no probe)


class CompressionFailed(Event, tag="compression_failed"):
    engine: Engine
    preset: Preset
    priority: Priority
    code: FailureCode
    seconds: Seconds


class FallbackUsed(Event, tag="fallback_used"):
    reason: FallbackReason
    priority: Priority
    input_bytes: Count


class BypassActivated(Event, tag="bypass_activated"):
    reason: Literal["bypass", "emergency"]
    priority: Priority
    input_bytes: Count


class UploadCompleted(Event, tag="upload_completed"):
    compressed: bool
    bytes: Count
    seconds: Seconds  # streamed: from the engine's start, as the upload ran alongside it
    streamed: bool = False  # its fragments were sent while it was encoded


class UploadFailed(Event, tag="upload_failed"):
    status: Annotated[int, msgspec.Meta(ge=0, le=599)]  # 0: the network
    bytes: Count


class LifecyclePaused(Event, tag="lifecycle_paused"):
    cause: PauseCause


class FlagExposure(Event, tag="flag_exposure"):
    flag: Name
    variant_name: Name  # "disabled" when the flag gave no variant
    enabled: bool


AnyEvent = (
    CompressionStarted | CompressionCompleted | CompressionFailed | FallbackUsed
    | BypassActivated | UploadCompleted | UploadFailed | LifecyclePaused | FlagExposure
)
MAX_BATCH = 500


class Batch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    events: Annotated[list[AnyEvent], msgspec.Meta(max_length=MAX_BATCH)]


encode = msgspec.json.Encoder().encode
decode_batch = msgspec.json.Decoder(Batch).decode
