"""Flags steer the page: a rollout of 0 % or 100 % changes what it does, a device condition
(cores >= 4) leaves this 2-core browser out, and the kill switch, flipped while a clip is
uploading, makes the open page send originals within 10 s without interrupting that upload."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.kit import MedpressPage, throttle_uploads, upload_metadata
from tests.e2e.kit.plugin import DEFAULT_FLAGS as DEFAULTS


def with_compression(strategy: dict) -> dict:
    state = copy.deepcopy(DEFAULTS)
    state["features"][0]["strategies"] = [strategy]
    return state


@pytest.mark.parametrize(("rollout", "compressed"), [("0", "0"), ("100", "1")])
def test_a_rollout_decides_whether_the_page_compresses(put_flags, open_app, clip720: Path, rollout, compressed):
    put_flags(with_compression({"name": "flexibleRollout", "parameters": {
        "rollout": rollout, "stickiness": "default", "groupId": "compression"}}))
    medpress = MedpressPage(open_app())
    medpress.choose(clip720).press_start()
    meta = upload_metadata(medpress.page, medpress.item(0).wait_for("done").wait_for_upload_url())
    assert meta["compressed"] == compressed
    if compressed == "0":
        assert (meta["reason"], meta["stripped"]) == ("compression-off", "1")


def test_a_device_condition_leaves_this_two_core_browser_out(put_flags, open_app, clip720: Path):
    put_flags(with_compression({"name": "default", "constraints": [
        {"contextName": "cores", "operator": "NUM_GTE", "value": "4"}]}))
    medpress = MedpressPage(open_app())
    assert medpress.page.evaluate("navigator.hardwareConcurrency") < 4
    medpress.choose(clip720)
    expect(medpress.status).to_contain_text("Compression is not in use on this device", timeout=30_000)
    medpress.press_start()
    meta = upload_metadata(medpress.page, medpress.item(0).wait_for("done").wait_for_upload_url())
    assert (meta["compressed"], meta["reason"]) == ("0", "compression-off")


def test_the_kill_switch_reaches_an_open_page_within_ten_seconds_and_spares_an_upload_under_way(
    server, put_flags, open_app, clip720: Path, series: list[Path]
):
    medpress = MedpressPage(open_app())
    throttle_uploads(medpress.page, 250_000)
    medpress.choose(clip720).press_start()
    first = medpress.item(0).wait_for("uploading", 60_000)

    headers = {"Authorization": f"Bearer {server.process.token('ops', admin=True)}"}
    flipped = httpx.post(f"{server.url}/api/flags/kill-switch", json={"enabled": True}, headers=headers)
    assert flipped.status_code == 200
    started = time.monotonic()
    expect(medpress.notice("kill-switch")).to_be_visible(timeout=10_000)
    assert time.monotonic() - started < 10
    medpress.choose(series[1])  # a clip added now goes as its original
    throttle_uploads(medpress.page, None)

    meta = upload_metadata(medpress.page, first.wait_for("done").wait_for_upload_url())
    assert meta["compressed"] == "1"  # the upload under way finished as it was
    second = upload_metadata(medpress.page, medpress.item(1).wait_for("done").wait_for_upload_url())
    assert (second["compressed"], second["reason"]) == ("0", "kill-switch")
    assert "stripped" not in second  # untouched: the engines are off
    assert medpress.page.request.get(medpress.item(1).upload_url).body() == series[1].read_bytes()
    put_flags(DEFAULTS)
