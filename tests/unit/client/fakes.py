"""Test doubles for the client's ports: in-memory, recording what they were asked."""

from __future__ import annotations

from collections.abc import Callable

from client.core.media import MediaInfo
from client.core.planner import Plan
from client.core.ports import Encoded, TranscodeFailed, UploadFailed
from client.core.progress import Status


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
    def __init__(self, out_size: int | None = 100, fail: str | None = None) -> None:
        self.out_size = out_size
        self.fail = fail
        self.plans: list[Plan] = []
        self.cancelled = False

    async def run(self, file: object, plan: Plan, on_progress: Callable[[float], None]) -> Encoded:
        self.plans.append(plan)
        on_progress(5.0)
        if self.fail:
            raise TranscodeFailed(self.fail)
        return Encoded(blob=FakeBlob(self.out_size or 0, "encoded"), size=self.out_size or 0)

    def cancel(self) -> None:
        self.cancelled = True


class FakeUploader:
    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.sent: list[tuple[object, dict[str, str]]] = []

    async def upload(
        self, blob: object, metadata: dict[str, str], on_progress: Callable[[int, int], None]
    ) -> str:
        if self.fail:
            raise UploadFailed(self.fail)
        self.sent.append((blob, metadata))
        on_progress(1, 2)
        return f"http://127.0.0.1/files/{len(self.sent):032x}"


class RecordingView:
    def __init__(self) -> None:
        self.shown: list[Status] = []

    def show(self, status: Status) -> None:
        self.shown.append(status)

    @property
    def states(self) -> list[str]:
        return [s.state for s in self.shown]
