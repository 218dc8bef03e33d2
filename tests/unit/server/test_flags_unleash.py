"""medpress takes its flags from a REAL Unleash server's client API (``--flags-url`` and a
client token), polled with ETag: npm ``unleash-server`` (pinned in tests/interop) on the
tests' PostgreSQL, set up through its admin API as an operator would (a context field, a
client token, a gradual rollout with a device condition and variants, a segment, a REGEX
constraint, a dependency, a kill switch). One Unleash server for the module; a fresh
medpress app per test. Its log: ``unleash.log`` in the module's temporary directory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.flags.definitions import parse
from server.settings import Settings
from tests.support.postgres import new_database
from tests.support.unleash import UnleashServer

from .conftest import SECRET

FEATURE = "compression"
ROLLOUT = {  # everyone with at least 4 cores, in two arms of a preset experiment
    "name": "flexibleRollout",
    "parameters": {"rollout": "100", "stickiness": "default", "groupId": FEATURE},
    "constraints": [{"contextName": "cores", "operator": "NUM_GTE", "value": "4"}],
    "variants": [
        {"name": "fast", "weight": 500, "weightType": "variable", "stickiness": "default",
         "payload": {"type": "string", "value": "veryfast"}},
        {"name": "small", "weight": 500, "weightType": "variable", "stickiness": "default",
         "payload": {"type": "json", "value": '{"crf": 28}'}},
    ],
}
PROPAGATION = 10.0  # seconds: an operator's change is in force in medpress by then


@dataclass
class Seeded:
    server: UnleashServer
    token: str  # the client token medpress polls with
    rollout: str  # the id of FEATURE's strategy

    def features(self) -> dict[str, Any]:
        answer = self.server.client_features(self.token)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def unleash(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    log = tmp_path_factory.mktemp("unleash") / "unleash.log"
    with UnleashServer(new_database(postgres_dsn), log) as server:
        server.create_context_field("cores", "logical processor cores of the device")
        token = server.create_client_token("medpress")
        server.create_feature(FEATURE, description="compress before upload", impression_data=True)
        rollout = server.add_strategy(FEATURE, ROLLOUT)
        server.set_enabled(FEATURE, True)
        # What else a real operator's server holds, and medpress must take as it comes:
        capable = server.create_segment("capable", [{"contextName": "cores", "operator": "NUM_GTE", "value": "2"}])
        server.create_feature("ui", kind="experiment")
        server.add_strategy("ui", {"name": "default", "constraints": [
            {"contextName": "sessionId", "operator": "REGEX", "value": "^install-1"}]})
        server.add_strategy("ui", {"name": "flexibleRollout", "segments": [capable], "parameters": {
            "rollout": "50", "stickiness": "sessionId", "groupId": "ui"}})
        server.add_dependency("ui", FEATURE, variants=["fast"])
        server.set_enabled("ui", True)
        server.create_feature("kill_switch", kind="kill-switch")
        server.add_strategy("kill_switch", {"name": "default"})
        yield Seeded(server, token, rollout)


@pytest.fixture
def medpress(unleash: Seeded, make_settings: Callable[..., Settings]) -> Iterator[TestClient[Litestar]]:
    settings = make_settings(flags_url=unleash.server.base_url, flags_token=unleash.token)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.flags
        wait_until(lambda: store.origin == "unleash", PROPAGATION,
                   lambda: f"problem: {store.problem}; Unleash log: {unleash.server.log_path}")
        yield client


def wait_until(condition: Callable[[], bool], seconds: float,
               why: Callable[[], str] = lambda: "") -> float:
    """Seconds until ``condition`` held; fails after ``seconds``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"not within {seconds} s. {why()}"
        time.sleep(0.05)
    return time.monotonic() - start


def evaluate(client: TestClient[Litestar], context: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/flags/evaluate", json={"context": context})
    assert answer.status_code == 200, answer.text
    return answer.json()["flags"]


def device(cores: int, install: str = "install-7") -> dict[str, Any]:
    return {"appName": "medpress", "sessionId": install, "properties": {"cores": cores}}


def test_medpress_serves_what_unleash_serves_and_a_device_condition_decides(
    medpress: TestClient[Litestar], unleash: Seeded
) -> None:
    served = medpress.get("/api/flags").json()
    assert served["features"] == unleash.features()["features"]  # as Unleash gave it, unknown fields and all
    assert {FEATURE, "ui", "kill_switch"} == {feature["name"] for feature in served["features"]}

    two, eight = evaluate(medpress, device(cores=2)), evaluate(medpress, device(cores=8))
    assert two[FEATURE]["enabled"] is False and two[FEATURE]["variant"]["name"] == "disabled"
    assert eight[FEATURE]["enabled"] is True
    arm = eight[FEATURE]["variant"]
    assert arm["name"] in {"fast", "small"} and arm["payload"] in [v["payload"] for v in ROLLOUT["variants"]]
    assert eight["kill_switch"]["enabled"] is False  # created, never switched on


def test_medpress_evaluates_as_unleash_itself_does(medpress: TestClient[Litestar], unleash: Seeded) -> None:
    """The same contexts through medpress's evaluator and through Unleash's playground."""
    outcomes: set[tuple[str, bool, str]] = set()
    for install in (f"install-{i}" for i in range(12)):
        for cores in (2, 8):
            context = device(cores, install)
            ours, theirs = evaluate(medpress, context), unleash.server.playground(context)
            assert set(ours) == set(theirs)
            for name, unleash_says in theirs.items():
                expected, got = unleash_says["variant"], ours[name]
                assert got["enabled"] is unleash_says["isEnabled"], (name, context)
                assert (got["variant"]["name"], got["variant"]["enabled"], got["variant"].get("payload")) == (
                    expected["name"], expected["enabled"], expected.get("payload")), (name, context)
                outcomes.add((name, got["enabled"], got["variant"]["name"]))
    # Not vacuous: the condition, both arms, the REGEX/segment/dependency chain each decided something.
    assert {(FEATURE, False, "disabled"), (FEATURE, True, "fast"), (FEATURE, True, "small"),
            ("ui", True, "disabled"), ("ui", False, "disabled")} <= outcomes


def test_medpress_revalidates_with_its_etag_and_unleash_answers_304(
    medpress: TestClient[Litestar], unleash: Seeded
) -> None:
    def revalidated() -> int:
        return sum(1 for status, method, path in unleash.server.requests()
                   if (status, method) == (304, "GET") and path.startswith("/api/client/features"))

    before = revalidated()
    wait_until(lambda: revalidated() > before, 12, lambda: f"see {unleash.server.log_path}")
    current = unleash.server.client_features(unleash.token)
    assert medpress.app.state.flags._remote_etag == current.headers["etag"]
    assert unleash.server.client_features(unleash.token, current.headers["etag"]).status_code == 304
    assert medpress.get("/api/flags").json()["features"] == current.json()["features"]


def test_a_change_made_in_unleash_is_in_force_in_medpress_within_seconds(
    medpress: TestClient[Litestar], unleash: Seeded
) -> None:
    capable, modest = device(cores=8), device(cores=2)
    assert evaluate(medpress, capable)[FEATURE]["enabled"] is True
    try:
        unleash.server.set_enabled(FEATURE, False)  # an operator turns compression off for everyone
        off = wait_until(lambda: evaluate(medpress, capable)[FEATURE]["enabled"] is False, PROPAGATION)
        assert medpress.get("/api/flags").json()["features"] == unleash.features()["features"]

        wider = {**ROLLOUT, "constraints": [{"contextName": "cores", "operator": "NUM_GTE", "value": "2"}]}
        unleash.server.update_strategy(FEATURE, unleash.rollout, wider)  # then back on, for 2 cores too
        unleash.server.set_enabled(FEATURE, True)
        on = wait_until(lambda: evaluate(medpress, modest)[FEATURE]["enabled"] is True, PROPAGATION)
        assert evaluate(medpress, capable)[FEATURE]["enabled"] is True
    finally:  # as the other tests expect it
        unleash.server.update_strategy(FEATURE, unleash.rollout, ROLLOUT)
        unleash.server.set_enabled(FEATURE, True)
    print(f"Unleash -> medpress: off in {off:.1f} s, on for 2 cores in {on:.1f} s")


def test_admins_cannot_edit_flags_in_medpress_while_unleash_is_the_source(
    medpress: TestClient[Litestar], unleash: Seeded
) -> None:
    from server.auth.tokens import mint_token

    admin = {"Authorization": f"Bearer {mint_token(SECRET, 'ops', None, admin=True)}"}
    before = medpress.get("/api/flags").json()
    refused = medpress.put("/api/flags", json={"version": 1, "features": []}, headers=admin)
    assert refused.status_code == 400 and "Unleash" in refused.json()["detail"]
    switch = medpress.post("/api/flags/kill-switch", json={"enabled": True}, headers=admin)
    assert switch.status_code == 400 and "Unleash" in switch.json()["detail"]
    assert medpress.get("/api/flags").json() == before
    assert medpress.app.state.flags.origin == "unleash"


# Without a server: what unleash-server 7.5.1's client API answered for such a set-up,
# byte for byte (a REGEX constraint, a segment, a dependency, `version: 2`, `query`, `meta`).
REAL_ANSWER = (
    '{"version":2,"features":[{"name":"regex_probe","type":"experiment","enabled":true,'
    '"project":"default","stale":false,"strategies":[{"name":"default","constraints":[{"value":"^a.*",'
    '"values":[],"operator":"REGEX","contextName":"userId"}],"parameters":{},"variants":[]},'
    '{"name":"flexibleRollout","constraints":[],"parameters":{"groupId":"g","rollout":"50",'
    '"stickiness":"sessionId"},"variants":[],"segments":[1]}],"variants":[],"description":null,'
    '"impressionData":false,"dependencies":[{"feature":"compression","enabled":true,"variants":["fast"]}]},'
    '{"name":"compression","type":"release","enabled":true,"project":"default","stale":false,'
    '"strategies":[{"name":"flexibleRollout","constraints":[{"value":"4","values":[],"operator":"NUM_GTE",'
    '"contextName":"cores"}],"parameters":{"groupId":"compression","rollout":"100","stickiness":"default"},'
    '"variants":[{"name":"fast","weight":500,"payload":{"type":"string","value":"veryfast"},'
    '"stickiness":"default","weightType":"variable"},{"name":"small","weight":500,"payload":{"type":"json",'
    '"value":"{\\"crf\\": 28}"},"stickiness":"default","weightType":"variable"}]}],"variants":[],'
    '"description":"compress before upload","impressionData":true}],"query":{"environment":"development",'
    '"inlineSegmentConstraints":false},"segments":[{"id":1,"name":"capable","constraints":[{"value":"2",'
    '"values":[],"operator":"NUM_GTE","contextName":"cores"}]}],"meta":{"revisionId":20,'
    '"etag":"\\"537b2ba0:20:v1\\"","queryHash":"537b2ba0"}}'
)


def test_a_real_unleash_answer_with_a_regex_constraint_is_accepted() -> None:
    state = parse(REAL_ANSWER.encode())
    assert state == json.loads(REAL_ANSWER)  # kept as Unleash gave it
    assert state["features"][0]["strategies"][0]["constraints"][0]["operator"] == "REGEX"
