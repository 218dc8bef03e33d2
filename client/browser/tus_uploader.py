"""Uploader port over the page's tus client (``public/js/upload.js``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from client.browser.bridge import JsFailure, callbacks, glue, js_object, settled
from client.core.ports import UploadFailed


class TusUploader:
    async def upload(
        self, blob: Any, metadata: dict[str, str], on_progress: Callable[[int, int], None]
    ) -> str:
        def progress(sent: float, total: float) -> None:
            on_progress(int(sent), int(total))

        with callbacks(progress) as (progress_proxy,):
            try:
                return str(await settled(glue.uploadBlob(blob, js_object(metadata), progress_proxy)))
            except JsFailure as failure:
                raise UploadFailed(failure.detail) from None
