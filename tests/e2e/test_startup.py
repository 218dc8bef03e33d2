"""Start-up: Python restored from the set-up's snapshot, work chosen and started before it
is ready, and a second visit served by the service worker."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import LOAD_TIMEOUT_MS, Server, stored_uploads

# What Python's start needs, all of which the service worker must serve on a warm start.
STARTUP_ASSETS = ("/app/interpreter.mjs", "/pyodide/pyodide.asm.wasm", "/pyodide/snapshot.bin",
                  "/pyodide/python_stdlib.zip", ".whl")


def test_python_is_restored_from_the_snapshot(app_page):
    assert app_page.evaluate("document.documentElement.dataset.pythonStart") == "snapshot"
    assert app_page.evaluate("crossOriginIsolated") is True
    # msgspec is a C extension loaded after the restore: it works.
    assert app_page.evaluate("""window.medpressPyodide.runPython(
        "import msgspec; msgspec.json.decode(msgspec.json.encode({'a': 1}))['a']")""") == 1


def test_start_pressed_before_python_is_ready_begins_the_moment_it_is(
    page, server: Server, outside_requests, clip720: Path
):
    held, released = [], []  # Python's start waits for its snapshot until the test lets it go

    def hold(route):
        route.continue_() if released else held.append(route)

    page.route("**/pyodide/snapshot.bin", hold)
    before = stored_uploads(server)
    page.goto(server.url + "/")
    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(page.get_by_test_id("start")).to_be_enabled()
    page.get_by_test_id("start").click()
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("Starting as soon as the page is ready")
    assert held and status.get_attribute("data-state") == "loading"  # Python is not there yet

    released.append(True)
    for route in held:
        route.continue_()
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_attribute("data-state", "done", timeout=LOAD_TIMEOUT_MS + 120_000)
    assert len(stored_uploads(server) - before) >= 1  # the clip (and its poster)
    expect(item).to_have_count(1)


def test_a_warm_start_is_served_by_the_service_worker(app_page):
    page = app_page
    page.wait_for_function("document.documentElement.dataset.assets !== undefined", timeout=60_000)
    assert page.evaluate("document.documentElement.dataset.assets") == "kept"

    served: dict[str, bool] = {}
    page.on("response", lambda r: served.setdefault(r.url, r.from_service_worker))
    page.reload()
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "ready", timeout=LOAD_TIMEOUT_MS)
    assert page.evaluate("crossOriginIsolated") is True  # the kept responses kept their headers
    for asset in STARTUP_ASSETS:
        urls = [url for url in served if "/vendor/" in url and url.endswith(asset)]
        assert urls, f"{asset} was not requested"
        assert all(served[url] for url in urls), f"{asset} did not come from the service worker"
    assert not any(served[url] for url in served if "/vendor/" not in url)  # page, API: network
