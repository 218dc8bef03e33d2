"""The emergency bypass sends the original at once, with or without Python."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import stored_uploads, upload_metadata
from tests.e2e.kit import throttle_uploads
from tests.e2e.test_engines import same_streams


def test_bypass_works_when_python_never_loads(page, server, outside_requests, clip720: Path):
    # Python's runtime is made unreachable: the page must still send the original.
    page.route("**/pyodide.asm.wasm", lambda route: route.abort())
    page.goto(server.url)
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-state", "loading")
    expect(page.get_by_test_id("start")).to_be_disabled()

    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("priority").select_option("emergency")
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    expect(status).to_contain_text("Sent the original")

    url = status.get_attribute("data-upload-url")
    assert page.request.get(url).body() == clip720.read_bytes()


def test_bypass_interrupts_compression(open_app, clip720: Path):
    page = open_app("?engine=ffmpeg")  # the slowest engine, so there is time to interrupt it
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "compressing", timeout=30_000)
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    page.wait_for_timeout(1000)  # Python, cancelled, must not overwrite the result
    expect(status).to_have_attribute("data-state", "bypassed")
    assert page.request.get(status.get_attribute("data-upload-url")).body() == clip720.read_bytes()


def test_a_bypass_before_python_loads_stays_bypassed_after(page, server, outside_requests, clip720):
    """Python finishing its load later must not offer the bypassed clip again."""
    held = []
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # held until released
    before = stored_uploads(server)
    page.goto(server.url)
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    url = status.get_attribute("data-upload-url")

    for route in held:
        route.continue_()
    page.wait_for_function("document.documentElement.dataset.python === 'attached'", timeout=120_000)
    expect(status).to_have_attribute("data-state", "bypassed")
    expect(status).to_have_attribute("data-upload-url", url)
    expect(page.get_by_test_id("start")).to_be_disabled()
    page.get_by_test_id("priority").select_option("urgent")  # would preview it again
    page.wait_for_timeout(1000)
    expect(status).to_have_attribute("data-state", "bypassed")
    assert len(stored_uploads(server) - before) == 1  # one copy on the server
    assert page.request.get(url).body() == clip720.read_bytes()
    assert audited(server, url) == "bypass"


def test_a_preview_that_ends_after_the_bypass_does_not_undo_it(open_app, server, clip720):
    """The clip's preview (probe and estimate) is still running when "Send original now" is
    pressed: its late "Ready … Press Start" must not cover the bypass."""
    held, released = [], []

    def hold(route):  # the engines' prober loads on first use: the preview waits for it here
        route.continue_() if released else held.append(route)

    page = open_app()
    page.context.route("**/app/probe.js", hold)  # the context: the service worker fetches it
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.wait_for_function("() => document.querySelector('[data-testid=queue-item]')")
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    assert held, "the preview was not waiting for the prober"
    released.append(True)
    for route in held:
        route.continue_()
    page.wait_for_timeout(1500)  # the preview ends now
    expect(status).to_have_attribute("data-state", "bypassed")
    expect(page.get_by_test_id("queue-item")).to_have_attribute("data-state", "bypassed")
    expect(page.get_by_test_id("start")).to_be_disabled()


def test_a_bypass_joins_the_original_python_is_already_sending(open_app, server, clip720):
    """Compression would not help, so Python is sending the original: the bypass joins that
    upload instead of starting a second one."""
    page = open_app()
    throttle_uploads(page, 600_000)
    before = stored_uploads(server)
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("preset").select_option("medical-high")  # little gain: the original goes
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "uploading", timeout=60_000)
    page.wait_for_timeout(500)
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    url = status.get_attribute("data-upload-url")
    page.wait_for_timeout(1000)  # Python, cancelled, must neither overwrite nor abort it
    expect(status).to_have_attribute("data-state", "bypassed")
    meta = upload_metadata(page, url)  # the upload it joined: the original, without its tags
    assert (meta["reason"], meta["stripped"]) == ("little-gain", "1")
    assert len(stored_uploads(server) - before) == 1
    assert same_streams(page.request.get(url).body(), clip720)


def test_emergency_start_sends_the_original_before_python_loads(page, server, outside_requests, clip720):
    held = []
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))
    page.goto(server.url)
    status, start = page.get_by_test_id("status"), page.get_by_test_id("start")
    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(start).to_be_enabled()  # routine work would be remembered until Python is ready
    page.get_by_test_id("priority").select_option("emergency")
    start.click()  # an emergency goes at once
    expect(status).to_have_attribute("data-state", "done", timeout=60_000)
    expect(status).to_contain_text("Emergency")
    url = status.get_attribute("data-upload-url")
    for route in held:
        route.continue_()
    page.wait_for_function("document.documentElement.dataset.python === 'attached'", timeout=120_000)
    expect(status).to_have_attribute("data-upload-url", url)
    assert page.request.get(url).body() == clip720.read_bytes()
    assert upload_metadata(page, url)["reason"] == "emergency"
    assert audited(server, url) == "emergency"


def audited(server, url: str) -> str | None:
    """The reason the audit trail gives for the upload at ``url`` (read with an admin token)."""
    token = server.process.token("chief", admin=True)
    response = httpx.get(f"{server.url}/api/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    upload_id = url.rsplit("/", 1)[1]
    return next((e["reason"] for e in response.json() if e["upload_id"] == upload_id), None)
