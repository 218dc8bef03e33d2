"""The one module that creates and destroys JS proxies and converts values.

Everything else in ``client.browser`` goes through these helpers, so proxy
lifetimes are visible in one place and JS failures become Python exceptions here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import js
from pyodide.ffi import create_proxy, jsnull, to_js

glue = js.medpressGlue  # set by wasm/src/glue.js before Python starts


class JsFailure(Exception):
    """A glue call that failed; ``code`` is stable and safe to log."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def absent(value: Any) -> bool:
    """Whether a value read from JS is missing: ``undefined`` (None) or ``null`` (which Pyodide
    reads as ``jsnull``, not None)."""
    return value is None or value is jsnull


def js_object(value: Any) -> Any:
    """Python dicts/lists → plain JS objects/arrays (not Maps)."""
    return to_js(value, dict_converter=js.Object.fromEntries)


async def settled(promise: Any) -> Any:
    """Await a glue promise that resolves to {ok, value} or {ok: false, code, detail}."""
    result = await promise
    if not result.ok:
        raise JsFailure(str(result.code), str(result.detail))
    return result.value


@contextmanager
def callbacks(*functions: Callable[..., Any]) -> Iterator[list[Any]]:
    """JS-callable proxies for ``functions``, destroyed when the block ends."""
    proxies = [create_proxy(f) for f in functions]
    try:
        yield proxies
    finally:
        for proxy in proxies:
            proxy.destroy()


def persistent(function: Callable[..., Any]) -> Any:
    """A proxy that lives as long as the page (event listeners)."""
    return create_proxy(function)
