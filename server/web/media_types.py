"""Which Content-Type a file is served with (pure: no framework imports).

Litestar appends ``; charset=utf-8`` to every ``text/*`` type itself.
"""

from pathlib import PurePath

BY_SUFFIX: dict[str, str] = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".py": "text/x-python",
    ".toml": "text/plain",
    ".txt": "text/plain",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
FALLBACK = "application/octet-stream"

DOWNLOADABLE = frozenset(
    {"video/mp4", "video/quicktime", "video/webm", "image/jpeg", "image/png", "image/webp"}
)


def static_media_type(path: PurePath) -> str:
    return BY_SUFFIX.get(path.suffix.lower(), FALLBACK)


def download_media_type(filetype: str | None) -> str:
    """The upload's declared ``filetype`` if it is an allowed media type, else octet-stream."""
    candidate = (filetype or "").strip().lower()
    return candidate if candidate in DOWNLOADABLE else FALLBACK
