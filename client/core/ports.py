"""The small interfaces the pipeline talks to. The browser adapters implement them;
the unit tests use the fakes in ``tests/unit/client/fakes.py``.

File and blob handles are opaque here: in the browser they are JS ``File``/``Blob``
proxies, and their bytes never enter Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from client.core.images import ImageRequest
from client.core.media import MediaInfo
from client.core.planner import Plan
from client.core.progress import Status

Handle = Any  # a JS File or Blob, opaque to Python


class Encoded(msgspec.Struct, frozen=True):
    blob: Handle
    size: int
    ssim: float | None = None  # measured against the source (sampled), when it was measured
    crf: float | None = None  # x264: the CRF it was encoded at (chosen by the rate probe)
    probe_s: float | None = None  # seconds the rate probe took (None: there was no probe)
    bitrate: int | None = None  # WebCodecs: the bitrate it was encoded at (chosen by the probe)
    # True when ``ssim`` is an estimate through RGB canvases (the browser's fallback measure,
    # which read up to 0.0045 high), not ffmpeg's SSIM arithmetic on the frames themselves
    estimated: bool = False


class TranscodeFailed(Exception):
    """The engine could not produce an output; ``code`` is stable and safe to log."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class UploadFailed(Exception):
    """The upload stopped; ``detail`` is plain language without patient data."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Prober(Protocol):
    async def probe(self, file: Handle) -> MediaInfo | None:
        """What the planner needs, or None if the file cannot be read as video."""


class Transcoder(Protocol):
    async def supports(self, plan: Plan, engine: str) -> bool:
        """Whether ``engine`` can run ``plan`` in this browser (e.g. the encoder config)."""

    def streams(self, engine: str, media: MediaInfo | None = None) -> bool:
        """Whether ``engine`` hands its output of ``media`` (None: of any video it may take)
        over fragment by fragment as it encodes."""

    async def run(
        self, file: Handle, plan: Plan, engine: str, on_progress: Callable[[float], None],
        stream: Stream | None = None,
    ) -> Encoded:
        """Compress per ``plan`` on ``engine``; ``on_progress`` gets seconds of output
        encoded so far. With ``stream`` (an engine that ``streams``), every fragment is
        appended to it as soon as it is made. Raises TranscodeFailed (including a stall
        caught by the watchdog)."""

    async def strip(self, file: Handle) -> Encoded:
        """The same streams in a new container without identifying metadata (no re-encode).
        Raises TranscodeFailed when the container or its tracks do not allow it."""

    def prepare(self, engine: str | None) -> None:
        """Start loading ``engine`` now, ahead of Start (best effort, returns at once);
        None frees whatever was loaded ahead."""

    def cancel(self) -> None:
        """Stop every running job at once and free its memory."""


class Imager(Protocol):
    async def photo(self, file: Handle, request: ImageRequest) -> Encoded:
        """Re-encode a photo (orientation applied, EXIF gone). Raises TranscodeFailed."""

    async def poster(self, file: Handle, request: ImageRequest, at_second: float) -> Encoded:
        """A still of a video at ``at_second``. Raises TranscodeFailed."""


class Stream(Protocol):
    """An upload fed while its file is being made (tus, deferred length). The engine appends
    to ``handle``; nothing is complete on the server until ``finish``."""

    handle: Handle

    @property
    def stopped(self) -> bool:
        """Aborted or suspended: it sends nothing more (a later stream under its key may go on)."""

    async def finish(self, metadata: dict[str, str], on_progress: Callable[[int, int], None]) -> str:
        """Send what is left, declare the length with ``metadata`` known only now (the measured
        quality); returns the upload URL. ``on_progress(sent, total)`` follows what is left.
        Raises UploadFailed."""

    def abort(self) -> None:
        """Stop at once and ask the server to delete what it received."""

    def suspend(self) -> None:
        """Stop at once, keeping what the server received and what was made so far: a later
        stream under the same key goes on from them (a pause)."""

    async def continue_with(self, blob: Handle) -> str | bool:
        """After a reload, ``blob`` (the whole output, made before it) goes on the upload kept
        under this stream's key: its URL if that upload is complete already, True once the
        rest is queued (``finish`` completes it), False if there is no such upload."""

    async def kept(self) -> dict[str, Any] | None:
        """The encoder options of an output kept under this stream's key from an earlier run
        that a new one can go on from (after a pause or a reload), or None."""


class Uploader(Protocol):
    def stream(self, metadata: dict[str, str], key: str | None = None) -> Stream:
        """A new upload to feed while its file is made (created with the first bytes). With
        ``key`` (a random id, never a name), what is made is kept under it until the upload
        is finished or aborted, and a stream under the same key later goes on from it."""

    async def upload(
        self,
        blob: Handle,
        metadata: dict[str, str],
        on_progress: Callable[[int, int], None],
        source: Handle | None = None,
        *,
        resume_url: str | None = None,
        on_url: Callable[[str], None] | None = None,
    ) -> str:
        """Send ``blob`` with tus; returns the upload URL. Raises UploadFailed. ``source``:
        the file ``blob`` stands for (an original, stripped or not), so that the bypass
        joins this upload instead of sending the file a second time. ``resume_url``: an
        upload begun earlier, continued from the server's offset; ``on_url`` is told a new
        upload's URL as soon as the server has created it."""


class StatusView(Protocol):
    def show(self, status: Status) -> None: ...
