"""Poor hospital Wi-Fi: refusals worth waiting out are retried (Retry-After honoured), and an
upload that loses the network pauses and resumes from the server's offset, once."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import stored_uploads
from tests.e2e.kit import go_offline, go_online, throttle_uploads


def _send_original(page, server, clip: Path) -> str:
    page.goto(server.url)
    page.get_by_test_id("file-input").set_input_files(clip)
    page.get_by_test_id("bypass").click()
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-state", "bypassed", timeout=90_000)
    return status.get_attribute("data-upload-url")


def test_busy_and_overloaded_answers_are_waited_out(page, server, outside_requests, clip720):
    """The first PATCH meets 503, the next 429 (each with Retry-After: 1): the upload waits as
    told, resumes from the server's offset, and lands whole."""
    answers = [(503, "1"), (429, "1")]
    patches: list[float] = []

    def refuse_some(route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        patches.append(time.monotonic())
        if answers:
            status, retry_after = answers.pop(0)
            route.fulfill(status=status, headers={"Retry-After": retry_after, "Tus-Resumable": "1.0.0"})
        else:
            route.continue_()

    page.route("**/files/*", refuse_some)
    url = _send_original(page, server, clip720)
    assert len(patches) >= 3
    assert patches[1] - patches[0] >= 0.9 and patches[2] - patches[1] >= 0.9  # as told
    assert page.request.get(url).body() == clip720.read_bytes()


def test_offline_mid_upload_resumes_from_the_server_offset(page, server, outside_requests, clip720):
    throttle_uploads(page, 700_000)
    creations: list[str] = []
    page.on("request", lambda r: creations.append(r.url) if r.method == "POST" else None)
    before = stored_uploads(server)
    page.goto(server.url)
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("bypass").click()
    percent = page.get_by_test_id("percent")
    page.wait_for_function(
        "parseInt(document.querySelector('[data-testid=percent]').textContent) >= 1",
        timeout=60_000,
    )
    go_offline(page)  # the lift: no Wi-Fi
    page.wait_for_timeout(2500)
    stalled = percent.text_content()
    page.wait_for_timeout(1000)
    assert percent.text_content() == stalled  # paused, not failed
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "uploading")
    go_online(page)
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-state", "bypassed", timeout=90_000)
    url = status.get_attribute("data-upload-url")
    assert page.request.get(url).body() == clip720.read_bytes()
    assert len([u for u in creations if u.endswith("/files/")]) == 1  # resumed, not restarted
    assert len(stored_uploads(server) - before) == 1


def test_leaving_while_a_clip_is_sent_asks_first(page, server, outside_requests, clip720):
    throttle_uploads(page, 300_000)
    page.goto(server.url)
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("bypass").click()
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "uploading")
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # stay

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    for _ in range(100):  # the prompt comes once the page is free (Python may be compiling)
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked == ["beforeunload"]
    assert not page.is_closed()  # the clinician chose to stay: the upload goes on
    throttle_uploads(page, None)
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "bypassed", timeout=60_000)
    with page.expect_event("close", timeout=5_000):  # nothing pending: no question, it closes
        page.close(run_before_unload=True)
    assert asked == ["beforeunload"]
