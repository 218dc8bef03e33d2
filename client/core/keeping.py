"""What the page keeps so that a reload, a crash or a closed tab loses nothing: the queue and,
per clip, what is needed to finish it. Pure msgspec types and conversions; the browser
adapter (``client/browser/keeper.py``) writes them to IndexedDB, the bytes to the Origin
Private File System, and each clip's tus URL under its name-free fingerprint.

Storage *keys* are random item ids and fingerprints, never file names. The values hold what
the upload itself will carry (its metadata), as the kept File object does anyway.
"""

from __future__ import annotations

import msgspec

from client.core.media import FileFacts, MediaInfo
from client.core.pipeline import Outcome, Prepared
from client.core.ports import Encoded
from client.core.queue import Queue


class KeptOutput(msgspec.Struct, frozen=True, kw_only=True):
    """A prepared clip without its bytes (those are in OPFS, or are the original)."""

    reason: str
    compressed: bool
    engine: str | None = None
    preset: str | None = None
    mime: str = "video/mp4"
    stripped: bool | None = None
    ssim: float | None = None
    crf: float | None = None
    probe_s: float | None = None
    bitrate: int | None = None
    uplink_kbps: int | None = None
    arrival_s: float | None = None
    upload_url: str | None = None  # streamed: stored already, only its poster is left to send
    media: MediaInfo | None = None
    in_storage: bool = False  # its bytes were written to OPFS; else they are the original's


class KeptClip(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    name: str  # what the upload's metadata carries; never used as a storage key
    size: int
    mime: str
    priority: str
    preset: str
    original_kept: bool = False
    output: KeptOutput | None = None


class Kept(msgspec.Struct, frozen=True, kw_only=True):
    queue: Queue
    clips: dict[str, KeptClip] = {}
    numbered: int = 0


encode_kept = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Kept).decode


def decode_kept(data: bytes | str) -> Kept | None:
    """The kept state, or None when there is none or it cannot be read (a newer or damaged
    record must never stop the page from working)."""
    if not data:
        return None
    try:
        return _decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def kept_output(prepared: Prepared, in_storage: bool) -> KeptOutput:
    outcome = prepared.outcome
    encoded = outcome.encoded
    return KeptOutput(
        reason=outcome.reason,
        compressed=encoded is not None,
        engine=outcome.engine,
        preset=outcome.preset,
        mime=outcome.mime,
        stripped=outcome.stripped,
        ssim=encoded.ssim if encoded is not None else None,
        crf=encoded.crf if encoded is not None else None,
        probe_s=encoded.probe_s if encoded is not None else None,
        bitrate=encoded.bitrate if encoded is not None else None,
        uplink_kbps=outcome.uplink_kbps,
        arrival_s=outcome.arrival_s,
        upload_url=outcome.upload_url,
        media=prepared.media,
        in_storage=in_storage,
    )


def prepared_from(kept: KeptOutput, blob: object | None) -> Prepared:
    """The Prepared a kept output stands for; ``blob``: its bytes read back (None: the
    original is sent as it is)."""
    encoded = original = None
    if blob is not None:
        size = int(getattr(blob, "size", 0))
        if kept.compressed:
            encoded = Encoded(blob=blob, size=size, ssim=kept.ssim, crf=kept.crf, bitrate=kept.bitrate,
                              probe_s=kept.probe_s)
        else:
            original = Encoded(blob=blob, size=size)
    outcome = Outcome(encoded=encoded, reason=kept.reason, engine=kept.engine, preset=kept.preset,
                      mime=kept.mime, original=original, stripped=kept.stripped,
                      uplink_kbps=kept.uplink_kbps, arrival_s=kept.arrival_s, upload_url=kept.upload_url)
    return Prepared(outcome=outcome, media=kept.media)


def facts(clip: KeptClip) -> FileFacts:
    return FileFacts(name=clip.name, size=clip.size, mime=clip.mime)
