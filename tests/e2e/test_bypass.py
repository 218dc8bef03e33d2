"""The emergency bypass sends the original at once, with or without Python."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect


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
