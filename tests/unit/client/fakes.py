"""Test doubles for the client's ports: in-memory, recording what they were asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from client.core.media import MediaInfo
from client.core.planner import Plan
from client.core.ports import Encoded, TranscodeFailed, UploadFailed
from client.core.progress import Status

PROBE_S = 0.75  # what the fake x264 engine says its rate probe took


class FakeBlob:
    def __init__(self, size: int, label: str = "blob") -> None:
        self.size = size
        self.label = label


class FakeProber:
    def __init__(self, media: MediaInfo | None) -> None:
        self.media = media

    async def probe(self, file: object) -> MediaInfo | None:
        return self.media


class FakeTranscoder:
    """Per-engine behaviour: an int (output size), (size, measured ssim or None), (size, ssim,
    "estimated") for an SSIM measured through canvases, "fail:<code>", or "hang"."""

    def __init__(self, behaviour: dict[str, int | str] | None = None, unsupported=(), streaming=(),
                 streams_media: Callable[[MediaInfo], bool] | None = None) -> None:
        self.behaviour = behaviour or {}
        self.unsupported = set(unsupported)
        self.streaming = set(streaming)  # engines that send fragments while they encode
        self.streams_media = streams_media  # which videos they stream (None: every one)
        self.runs: list[tuple[str, Plan]] = []
        self.cancelled = 0
        self.prepared: list[str | None] = []
        self.stripped: list[object] = []

    async def supports(self, plan: Plan, engine: str) -> bool:
        return engine not in self.unsupported

    async def strip(self, file: object) -> Encoded:
        self.stripped.append(file)
        what = self.behaviour.get("remux", "ok")
        if isinstance(what, str) and what.startswith("fail:"):
            raise TranscodeFailed(f"remux:{what.removeprefix('fail:')}")
        size = getattr(file, "size", 10) - 1
        return Encoded(blob=FakeBlob(size, "stripped"), size=size)

    def streams(self, engine: str, media: MediaInfo | None = None) -> bool:
        return engine in self.streaming and (media is None or self.streams_media is None or self.streams_media(media))

    async def run(self, file: object, plan: Plan, engine: str, on_progress: Callable[[float], None],
                  stream: FakeStream | None = None) -> Encoded:
        self.runs.append((engine, plan))
        assert (stream is not None) == (engine in self.streaming and stream is not None)
        if stream is not None:
            stream.handle.append(FakeBlob(1, "init"))  # the first fragments leave before the end
        on_progress(5.0)
        what = self.behaviour.get(engine, 100)
        if isinstance(what, list):  # one behaviour per run, the last one from then on
            what = what.pop(0) if len(what) > 1 else what[0]
        if what == "hang":
            await asyncio.sleep(3600)
        if isinstance(what, str):
            raise TranscodeFailed(f"{engine}:{what.removeprefix('fail:')}")
        # Like the real engines, each measures its output (well above the floor unless told
        # otherwise); x264 also reports its CRF and, for a clip long enough, its probe's cost.
        size, ssim, *how = what if isinstance(what, tuple) else (what, 0.99)
        if engine == "webcodecs":
            return Encoded(blob=FakeBlob(size, f"encoded-by-{engine}"), size=size, ssim=ssim,
                           bitrate=plan.video_bitrate, probe_s=PROBE_S if plan.windows else None,
                           estimated=how == ["estimated"])
        probe_s = PROBE_S if plan.windows else None
        return Encoded(blob=FakeBlob(size, f"encoded-by-{engine}"), size=size, ssim=ssim, crf=plan.crf,
                       probe_s=probe_s)

    def prepare(self, engine: str | None) -> None:
        self.prepared.append(engine)

    def cancel(self) -> None:
        self.cancelled += 1

    @property
    def engines(self) -> list[str]:
        return [engine for engine, _ in self.runs]


class FakeStream:
    """A streamed upload: the engine appends to ``handle`` (a list here)."""

    def __init__(self, metadata: dict[str, str], url: str, fail: str | None = None) -> None:
        self.metadata = metadata
        self.url = url
        self.fail = fail
        self.handle: list[FakeBlob] = []
        self.finished: dict[str, str] | None = None
        self.aborted = False
        self.suspended = False
        self.continues: str | bool = False  # what continue_with finds: nothing kept, by default
        self.hang = False  # finish waits (a slow link)

    async def finish(self, metadata: dict[str, str], on_progress: Callable[[int, int], None]) -> str:
        assert self.finished is None and not self.stopped
        on_progress(1, 2)
        if self.hang:
            await asyncio.sleep(3600)
        if self.fail:
            raise UploadFailed(self.fail)
        self.finished = metadata
        return self.url

    def abort(self) -> None:
        assert self.finished is None  # a completed upload is never deleted
        self.aborted = True

    def suspend(self) -> None:
        assert self.finished is None and not self.aborted
        self.suspended = True

    @property
    def stopped(self) -> bool:
        return self.aborted or self.suspended

    async def kept(self) -> dict[str, object] | None:
        return None

    async def continue_with(self, blob: object) -> str | bool:
        self.handle.append(blob)
        return self.continues


class FakeUploader:
    def __init__(self, fail: str | None = None, stream_fail: str | None = None) -> None:
        self.fail = fail
        self.stream_fail = stream_fail
        self.streams: list[FakeStream] = []
        self.stream_keys: list[str | None] = []
        self.sent: list[tuple[object, dict[str, str]]] = []
        self.sources: list[object | None] = []
        self.resumed: list[str | None] = []

    def stream(self, metadata: dict[str, str], key: str | None = None) -> FakeStream:
        self.stream_keys.append(key)
        stream = FakeStream(metadata, f"http://127.0.0.1/files/{len(self.streams):032x}s", self.stream_fail)
        self.streams.append(stream)
        return stream

    async def upload(
        self,
        blob: object,
        metadata: dict[str, str],
        on_progress: Callable[[int, int], None],
        source: object | None = None,
        *,
        resume_url: str | None = None,
        on_url: Callable[[str], None] | None = None,
    ) -> str:
        if self.fail:
            raise UploadFailed(self.fail)
        self.sent.append((blob, metadata))
        self.sources.append(source)
        self.resumed.append(resume_url)
        url = resume_url or f"http://127.0.0.1/files/{len(self.sent):032x}"
        if on_url and not resume_url:
            on_url(url)
        on_progress(1, 2)
        return url


class RecordingView:
    def __init__(self) -> None:
        self.shown: list[Status] = []

    def show(self, status: Status) -> None:
        self.shown.append(status)

    @property
    def states(self) -> list[str]:
        return [s.state for s in self.shown]


class FakeImager:
    def __init__(self, fail: bool = False, size: int = 300_000) -> None:
        self.fail = fail
        self.size = size
        self.calls: list[tuple[str, object]] = []

    async def photo(self, file: object, request: object) -> Encoded:
        self.calls.append(("photo", request))
        if self.fail:
            raise TranscodeFailed("image:undecodable")
        return Encoded(blob=FakeBlob(self.size, "photo"), size=self.size)

    async def poster(self, file: object, request: object, at_second: float) -> Encoded:
        self.calls.append(("poster", at_second))
        if self.fail:
            raise TranscodeFailed("image:undecodable")
        return Encoded(blob=FakeBlob(20_000, "poster"), size=20_000)
