"""Uploader port over the page's tus client (``public/js/upload.js``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js

from client.browser.bridge import JsFailure, callbacks, glue, js_object, settled
from client.core.ports import UploadFailed


class TusUploader:
    async def upload(
        self,
        blob: Any,
        metadata: dict[str, str],
        on_progress: Callable[[int, int], None],
        source: Any | None = None,
    ) -> str:
        def progress(sent: float, total: float) -> None:
            on_progress(int(sent), int(total))

        controller = js.AbortController.new()
        with callbacks(progress) as (progress_proxy,):
            try:
                call = glue.uploadBlob(
                    blob, js_object(metadata), progress_proxy, controller.signal, source
                )
                return str(await settled(call))
            except JsFailure as failure:
                raise UploadFailed(failure.detail) from None
            except asyncio.CancelledError:
                controller.abort()  # Cancel: stop sending and drop the partial upload
                raise
