"""Imager port over the image worker (photos and poster frames)."""

from __future__ import annotations

from typing import Any

from client.browser.bridge import JsFailure, glue, js_object, settled
from client.core.images import ImageRequest
from client.core.ports import Encoded, TranscodeFailed


def _options(request: ImageRequest, **extra: float) -> Any:
    return js_object({"maxSide": request.max_side, "type": request.mime, "quality": request.quality, **extra})


async def _encoded(call: Any) -> Encoded:
    try:
        blob = await settled(call)
    except JsFailure as failure:
        raise TranscodeFailed(f"image:{failure.code}") from None
    return Encoded(blob=blob, size=int(blob.size))


class BrowserImager:
    async def photo(self, file: Any, request: ImageRequest) -> Encoded:
        return await _encoded(glue.encodePhoto(file, _options(request)))

    async def poster(self, file: Any, request: ImageRequest, at_second: float) -> Encoded:
        return await _encoded(glue.posterFrame(file, _options(request, atSecond=at_second)))
