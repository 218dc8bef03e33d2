"""The flags API.

- ``GET /api/flags``: the state in force (Unleash client-features JSON) with a strong ETag;
  ``If-None-Match`` answers 304, so a page polling every few seconds costs a few bytes.
- ``PUT /api/flags`` (admin): a new state, validated (400 naming the field at fault; the last
  good state stays); ``POST /api/flags/kill-switch`` (admin) turns the kill switch on or off.
- ``POST /api/flags/evaluate``: ``{"context": {...}, "names": [...]}`` evaluated here, by the
  same evaluator the page runs (``client.flags``), for host systems and debugging.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from litestar import Request, Response, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.params import JSONBody

from client import flags as evaluator
from server.auth.admin import require_admin
from server.auth.principal import Principals
from server.flags.definitions import InvalidFlags
from server.flags.store import FlagStore

KILL_SWITCH = "kill_switch"
MAX_BODY = 1024 * 1024
MAX_CONTEXT_TEXT = 256


class Evaluation(msgspec.Struct):
    context: dict[str, Any] = {}
    names: list[str] | None = None


class KillSwitch(msgspec.Struct):
    enabled: bool


def _refused(error: InvalidFlags) -> ClientException:
    return ClientException(str(error))


@get("/", sync_to_thread=False)
def current(request: Request, store: NamedDependency[FlagStore]) -> Response[Any]:
    headers = {"ETag": store.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == store.etag:
        return Response(content=None, status_code=304, headers=headers)
    return Response(content=store.state, headers=headers)


@put("/")
async def replace(request: Request, principals: NamedDependency[Principals],
                  store: NamedDependency[FlagStore]) -> dict[str, str]:
    require_admin(request, principals, "Changing flags")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ClientException("The flag definitions are larger than 1 MiB.", status_code=413)
    try:
        state = msgspec.json.decode(body)
        await store.put_from_admin(state)
    except msgspec.DecodeError:
        raise ClientException("The flag definitions are not valid JSON.") from None
    except InvalidFlags as refused:
        raise _refused(refused) from None
    return {"etag": store.etag}


@post("/kill-switch", status_code=200)
async def kill_switch(request: Request, data: JSONBody[KillSwitch], principals: NamedDependency[Principals],
                      store: NamedDependency[FlagStore]) -> dict[str, Any]:
    """One click from the dashboard: every open page sends originals within seconds."""
    require_admin(request, principals, "The kill switch")
    state = copy.deepcopy(store.state)
    features = state.setdefault("features", [])
    feature = next((f for f in features if f.get("name") == KILL_SWITCH), None)
    if feature is None:
        feature = {"name": KILL_SWITCH, "type": "kill-switch", "strategies": [{"name": "default"}]}
        features.append(feature)
    feature["enabled"] = data.enabled
    try:
        await store.put_from_admin(state)
    except InvalidFlags as refused:
        raise _refused(refused) from None
    return {"kill_switch": data.enabled, "etag": store.etag}


@post("/evaluate", status_code=200, sync_to_thread=False)
def evaluate(data: JSONBody[Evaluation], store: NamedDependency[FlagStore]) -> dict[str, Any]:
    if _longest_text(data.context) > MAX_CONTEXT_TEXT:  # bounds the work a REGEX constraint does
        raise ClientException(f"A context value is longer than {MAX_CONTEXT_TEXT} characters.")
    names = data.names if data.names is not None else [f["name"] for f in store.state["features"]]
    return {"flags": {
        name: {
            "enabled": evaluator.is_enabled(store.state, name, data.context),
            "variant": evaluator.get_variant(store.state, name, data.context),
        }
        for name in names
    }}


def _longest_text(value: object) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((max(len(str(k)), _longest_text(v)) for k, v in value.items()), default=0)
    if isinstance(value, list):
        return max((_longest_text(v) for v in value), default=0)
    return 0


def create_flags_router(store: FlagStore) -> Router:
    def provide_store() -> FlagStore:
        return store

    return Router(
        path="/api/flags",
        route_handlers=[current, replace, kill_switch, evaluate],
        dependencies={"store": Provide(provide_store, sync_to_thread=False)},
        tags=["flags"],
    )
