"""Cross-origin isolation and security headers on every response, however it was produced.

The page needs ``crossOriginIsolated`` (SharedArrayBuffer for ffmpeg.wasm), so
COOP/COEP/CORP go on everything: pages, static files, tus, errors, 404s. A
``before_send`` hook sees every ``http.response.start``, which handlers do not.

The Content-Security-Policy allows only what the page needs: its own origin,
WebAssembly compilation (``'wasm-unsafe-eval'``: Pyodide, ffmpeg.wasm), workers
from its own origin or ``blob:``, and no framing; no referrer ever leaves it.
``'unsafe-eval'`` is there because PyScript builds its hooks with ``Function()``
and Pyodide evaluates the EM_JS code of C extensions it loads (msgspec): without
it Python never starts. Inline scripts and handlers stay forbidden.
"""

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; "
        "worker-src 'self' blob:; "
        "connect-src 'self' blob: data:; img-src 'self' blob: data:; media-src 'self' blob:; "
        "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


async def add_isolation_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in ISOLATION_HEADERS.items():
            headers[name] = value
