"""Cross-origin isolation headers on every response, however it was produced.

The page needs ``crossOriginIsolated`` (SharedArrayBuffer for ffmpeg.wasm), so
COOP/COEP/CORP go on everything: pages, static files, tus, errors, 404s. A
``before_send`` hook sees every ``http.response.start``, which handlers do not.
"""

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


async def add_isolation_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in ISOLATION_HEADERS.items():
            headers[name] = value
