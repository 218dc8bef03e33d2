"""Keeping the queue across reloads: Python's side of ``wasm/src/keep.js`` (IndexedDB for
the queue, originals and tus URLs; OPFS for compressed outputs). Every call is best effort:
storage that fails never stops a clip from being sent, it only means less can be resumed."""

from __future__ import annotations

from typing import Any

from client.browser.bridge import JsFailure, glue, js_object, settled


async def _call(name: str, *args: Any) -> Any:
    try:
        return await settled(getattr(glue.keep, name)(*args))
    except JsFailure:
        return None


def save_state(text: str) -> None:
    """Write the queue's state now (writes land in the order they are made)."""
    glue.keep.saveState(text)


async def load_state() -> str:
    return str(await _call("loadState") or "")


async def keep_original(item_id: str, file: Any) -> bool:
    return bool(await _call("keepOriginal", item_id, file))


async def read_original(item_id: str) -> Any | None:
    return await _call("readOriginal", item_id)


async def keep_output(item_id: str, blob: Any) -> bool:
    return bool(await _call("keepOutput", item_id, blob))


async def read_output(item_id: str) -> Any | None:
    return await _call("readOutput", item_id)


def remember_upload(fingerprint: str, url: str) -> None:
    glue.keep.rememberUpload(fingerprint, url)


async def upload_for(fingerprint: str) -> str | None:
    url = await _call("uploadFor", fingerprint)
    return str(url) if url else None


def forget(item_id: str) -> None:
    glue.keep.forget(item_id)


async def forget_all_but(item_ids: list[str]) -> None:
    await _call("forgetAllBut", js_object(item_ids))


async def usage() -> tuple[int, int]:
    found = await _call("usage")
    return (int(found.usage), int(found.quota)) if found is not None else (0, 0)
