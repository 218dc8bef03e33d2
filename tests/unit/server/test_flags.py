"""Feature flags on the server: the state in Unleash's shape with an ETag, admin-only edits
that are validated (the last good state stays), a one-click kill switch, server-side
evaluation, a hand-edited file taken up within seconds, and an Unleash server's client API
polled with ETag. Every instance of a deployment serves the same state (the database's)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings

ROLLOUT = {
    "version": 1,
    "features": [
        {"name": "compression", "enabled": True, "strategies": [
            {"name": "flexibleRollout", "parameters": {"rollout": "0", "stickiness": "default", "groupId": "c"}}]},
        {"name": "kill_switch", "type": "kill-switch", "enabled": False, "strategies": [{"name": "default"}]},
        {"name": "ui", "enabled": True, "strategies": [{"name": "default"}], "variants": [
            {"name": "compact", "weight": 1000, "stickiness": "default"}]},
    ],
}


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def test_the_state_is_served_with_an_etag_and_revalidates_cheaply(anonymous: httpx.Client) -> None:
    first = anonymous.get("/api/flags")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    names = {feature["name"] for feature in first.json()["features"]}
    assert {"compression", "kill_switch"} <= names  # medpress's defaults
    again = anonymous.get("/api/flags", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_only_admins_change_flags_and_a_bad_definition_names_its_field(
    bearer: Callable[..., httpx.Client], anonymous: httpx.Client, make_settings: Callable[..., Settings]
) -> None:
    assert anonymous.put("/api/flags", json=ROLLOUT).status_code == 401
    assert bearer("nurse").put("/api/flags", json=ROLLOUT).status_code == 403
    admin = bearer("ops", admin=True)
    before = anonymous.get("/api/flags").json()

    bad = json.loads(json.dumps(ROLLOUT))
    bad["features"][0]["strategies"][0]["constraints"] = [{"contextName": "cores", "operator": "ABOUT"}]
    refused = admin.put("/api/flags", json=bad)
    assert refused.status_code == 400
    assert "$.features[0].strategies[0].constraints[0].operator" in refused.json()["detail"]
    assert "ABOUT" not in refused.text  # the field, never the value
    assert admin.put("/api/flags", content=b"{nope").status_code == 400
    assert anonymous.get("/api/flags").json() == before  # the last good state stays

    accepted = admin.put("/api/flags", json=ROLLOUT)
    assert accepted.status_code == 200
    served = anonymous.get("/api/flags")
    assert served.json() == ROLLOUT and served.headers["etag"] == accepted.json()["etag"]
    kept = make_settings().data_dir / "flags.json"
    assert json.loads(kept.read_text()) == ROLLOUT  # hand editing goes on from here


def test_the_kill_switch_is_one_call_and_admin_only(
    bearer: Callable[..., httpx.Client], anonymous: httpx.Client
) -> None:
    assert bearer("nurse").post("/api/flags/kill-switch", json={"enabled": True}).status_code == 403
    admin = bearer("ops", admin=True)
    assert admin.post("/api/flags/kill-switch", json={"enabled": True}).json()["kill_switch"] is True
    evaluated = anonymous.post("/api/flags/evaluate", json={"context": {}, "names": ["kill_switch"]})
    assert evaluated.json()["flags"]["kill_switch"]["enabled"] is True
    admin.post("/api/flags/kill-switch", json={"enabled": False})
    evaluated = anonymous.post("/api/flags/evaluate", json={"context": {}, "names": ["kill_switch"]})
    assert evaluated.json()["flags"]["kill_switch"]["enabled"] is False


def test_evaluation_on_the_server_matches_unleash_semantics(
    bearer: Callable[..., httpx.Client], anonymous: httpx.Client
) -> None:
    bearer("ops", admin=True).put("/api/flags", json=ROLLOUT)
    answer = anonymous.post("/api/flags/evaluate", json={"context": {"sessionId": "install-1"}}).json()
    assert answer["flags"]["compression"]["enabled"] is False  # rolled out to 0 %
    assert answer["flags"]["ui"]["variant"]["name"] == "compact"
    assert answer["flags"]["ui"]["variant"]["feature_enabled"] is True
    assert anonymous.post("/api/flags/evaluate", json={"context": "x"}).status_code == 400


@pytest.fixture
def file_app(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient[Litestar], Path]]:
    settings = make_settings()
    with TestClient(create_app(settings)) as client:
        yield client, settings.data_dir


def test_a_hand_edited_toml_file_is_taken_up_and_a_bad_one_refused(file_app) -> None:
    client, data_dir = file_app
    (data_dir / "flags.toml").write_text(
        'version = 1\n[[features]]\nname = "compression"\nenabled = false\n'
        '[[features.strategies]]\nname = "default"\n')
    wait_until(lambda: client.get("/api/flags").json()["features"][0]["enabled"] is False)
    good = client.get("/api/flags").json()
    time.sleep(0.01)
    (data_dir / "flags.toml").write_text('version = 1\n[[features]]\nname = "compression"\nenabled = "no"\n')
    store = client.app.state.flags
    wait_until(lambda: store.problem is not None)
    assert "$.features[0].enabled" in store.problem
    assert client.get("/api/flags").json() == good  # the last good state stays


def test_every_instance_serves_the_state_an_admin_put_on_one(make_settings, tmp_path: Path) -> None:
    from server.auth.tokens import mint_token

    from .conftest import SECRET

    one = create_app(make_settings(data_dir=tmp_path / "one", database_url=f"sqlite:///{tmp_path}/shared.db"))
    two = create_app(make_settings(data_dir=tmp_path / "two", database_url=f"sqlite:///{tmp_path}/shared.db"))
    token = mint_token(SECRET, "ops", None, admin=True)
    with TestClient(one) as first, TestClient(two) as second:
        assert first.put("/api/flags", json=ROLLOUT, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        wait_until(lambda: second.get("/api/flags").json() == ROLLOUT)


class UnleashClientApi(http.server.BaseHTTPRequestHandler):
    """Answers as an Unleash server's client API does: features with an ETag, 304 when unchanged."""

    state: ClassVar[dict] = ROLLOUT
    seen: ClassVar[list[tuple[str | None, str | None]]] = []

    def do_GET(self) -> None:
        tag = f'"{abs(hash(json.dumps(self.state, sort_keys=True)))}"'
        self.seen.append((self.headers.get("Authorization"), self.headers.get("If-None-Match")))
        if self.path != "/api/client/features":
            self.send_response(404)
            self.end_headers()
        elif self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.end_headers()
        else:
            body = json.dumps(self.state).encode()
            self.send_response(200)
            self.send_header("ETag", tag)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_unleash_servers_client_api_is_polled_with_etag(make_settings) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), UnleashClientApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        app = create_app(make_settings(flags_url=url, flags_token="client-token"))
        with TestClient(app) as client:
            wait_until(lambda: client.get("/api/flags").json() == ROLLOUT, 10)
            wait_until(lambda: any(tag for _, tag in UnleashClientApi.seen), 15)  # revalidated
            assert {auth for auth, _ in UnleashClientApi.seen} == {"client-token"}
            token_refused = client.put("/api/flags", json=ROLLOUT)
            assert token_refused.status_code in (401, 403)
    finally:
        server.shutdown()
        server.server_close()


def test_evaluation_refuses_overlong_context_values(anonymous: httpx.Client) -> None:
    long = {"context": {"properties": {"device": "x" * 10_000}}}
    answer = anonymous.post("/api/flags/evaluate", json=long)
    assert answer.status_code == 400 and "longer than 256" in answer.json()["detail"]
