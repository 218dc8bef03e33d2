"""A clinician's series: several clips chosen at once (or added while others are worked on)
are compressed and uploaded in order, the next compressing while the previous uploads, each
stored exactly once; each clip has its own controls."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import upload_metadata
from tests.e2e.kit import throttle_uploads

# Every change of the clips' states, in order, as the page shows them.
QUEUE_RECORDER = """
window.__queueStates = [];
new MutationObserver(() => {
  const states = Array.from(document.querySelectorAll('[data-testid="queue-item"]'), (i) => i.dataset.state);
  const last = window.__queueStates.at(-1);
  if (!last || last.join() !== states.join()) window.__queueStates.push(states);
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state"], childList: true});
"""


def test_three_clips_arrive_in_order_the_next_compressing_while_the_previous_uploads(
    open_app, series: list[Path]
):
    page = open_app()
    page.add_init_script(QUEUE_RECORDER)
    page.evaluate(QUEUE_RECORDER)
    throttle_uploads(page, 150_000)  # hospital Wi-Fi: each upload takes a few seconds
    page.get_by_test_id("file-input").set_input_files(series)
    items = page.get_by_test_id("queue-item")
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("series-1.mp4")
    page.get_by_test_id("start").click()
    for index in range(3):
        expect(items.nth(index)).to_have_attribute("data-state", "done", timeout=180_000)
    expect(page.get_by_test_id("indicator")).to_have_attribute("data-done", "3")
    expect(page.get_by_test_id("indicator")).to_contain_text("Everything has arrived")

    history = page.evaluate("window.__queueStates")
    assert ["uploading", "compressing", "waiting"] in history, history  # overlapped, in order
    assert not any(states.count("compressing") > 1 or states.count("uploading") > 1 for states in history)
    urls = [items.nth(i).get_attribute("data-upload-url") for i in range(3)]
    names = [upload_metadata(page, url)["filename"] for url in urls]
    assert names == ["series-1.mp4", "series-2.mp4", "series-3.mp4"]
    assert len(set(urls)) == 3
    # The page's own status line followed the last clip to its end.
    assert page.get_by_test_id("status").get_attribute("data-upload-url") == urls[2]


def test_a_clip_added_while_others_work_joins_the_series(open_app, series: list[Path]):
    page = open_app()
    page.get_by_test_id("file-input").set_input_files(series[:2])
    page.get_by_test_id("start").click()
    items = page.get_by_test_id("queue-item")
    expect(items.first).to_have_attribute("data-state", "compressing", timeout=60_000)
    page.get_by_test_id("file-input").set_input_files(series[2])
    expect(items).to_have_count(3)
    for index in range(3):
        expect(items.nth(index)).to_have_attribute("data-state", "done", timeout=180_000)
    # The same clip chosen again is not added (nor sent) a second time.
    page.get_by_test_id("file-input").set_input_files(series[0])
    expect(page.get_by_test_id("status")).to_contain_text("already in the list")
    expect(items).to_have_count(3)


def test_each_clip_has_its_own_controls(open_app, series: list[Path], server):
    page = open_app()
    throttle_uploads(page, 150_000)
    page.get_by_test_id("file-input").set_input_files(series)
    items = page.get_by_test_id("queue-item")
    expect(items).to_have_count(3)
    third = items.nth(2)
    third.get_by_test_id("item-cancel").click()  # removed before it started: never sent
    expect(items).to_have_count(2)
    page.get_by_test_id("start").click()
    first, second = items.nth(0), items.nth(1)
    expect(second).to_have_attribute("data-state", "compressing", timeout=60_000)
    second.get_by_test_id("item-pause").click()
    expect(second).to_have_attribute("data-state", "paused")
    expect(second).to_contain_text("Paused")
    # The first one's own "Send original now" while it uploads its compressed copy: the
    # compressed upload stops and the untouched original goes instead, once.
    expect(first).to_have_attribute("data-state", "uploading", timeout=60_000)
    first.get_by_test_id("item-bypass").click()
    expect(first).to_have_attribute("data-state", "bypassed")
    first_url = _wait_for_url(first)
    assert page.request.get(first_url).body() == series[0].read_bytes()
    assert upload_metadata(page, first_url)["bypass"] == "1"
    second.get_by_test_id("item-resume").click()
    expect(second).to_have_attribute("data-state", "done", timeout=180_000)
    meta = upload_metadata(page, second.get_attribute("data-upload-url"))
    assert meta["compressed"] == "1" and meta["filename"] == "series-2.mp4"


def _wait_for_url(item) -> str:
    item.page.wait_for_function("(el) => el.dataset.uploadUrl", arg=item.element_handle(), timeout=120_000)
    return item.get_attribute("data-upload-url")


def test_a_refused_upload_stops_its_clip_with_a_plain_message_and_try_again_sends_it(open_app, series):
    page = open_app()
    refusals = []
    refusing = [True]  # every creation (a streamed one, then the whole file's) until Try again

    def refuse_first_creation(route) -> None:
        if route.request.method == "POST" and refusing[0]:
            refusals.append(route.request.url)
            route.fulfill(status=400, headers={"Tus-Resumable": "1.0.0", "Content-Type": "application/json"},
                          body='{"code": "ERR_METADATA", "message": "metadata refused"}')
        else:
            route.fallback()

    page.route("**/files/", refuse_first_creation)
    page.get_by_test_id("file-input").set_input_files(series[0])
    page.get_by_test_id("start").click()
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(item.get_by_test_id("item-status")).to_contain_text("refused it (400")
    expect(page.get_by_test_id("indicator")).to_have_attribute("data-failed", "1")
    count = len(refusals)
    refusing[0] = False
    item.get_by_test_id("item-retry").click()  # not retried on its own: a 400 needs a person
    expect(item).to_have_attribute("data-state", "done", timeout=60_000)
    assert len(refusals) == count
