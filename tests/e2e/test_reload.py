"""A reload (or a crash, or a closed tab) loses nothing and sends nothing twice: the queue is
kept in IndexedDB, compressed outputs in OPFS and each upload's URL under a name-free
fingerprint, so the page lists the clips again and goes on by itself."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LOAD_TIMEOUT_MS, Server, stored_uploads, upload_metadata
from tests.e2e.kit import throttle_uploads


def wait_until_attached(page) -> None:
    page.wait_for_function("document.documentElement.dataset.python === 'attached'", timeout=LOAD_TIMEOUT_MS)


def creations_of(page, name: str) -> list[str]:
    """Record every tus creation (POST) whose metadata names `name` (not its poster)."""
    wanted = "filename " + base64.b64encode(name.encode()).decode()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.method == "POST"
            and wanted in (r.headers.get("upload-metadata") or "").split(",") else None)
    return seen


def videos_stored(page, server: Server, before: set[str], name: str) -> list[str]:
    """The uploads made since `before` that hold the clip itself (not its poster)."""
    urls = [f"{server.url}/files/{upload_id}" for upload_id in stored_uploads(server) - before]
    return [url for url in urls if upload_metadata(page, url).get("filename", "").startswith(Path(name).stem)
            and "poster_for" not in upload_metadata(page, url)]


def test_a_reload_during_compression_compresses_again_and_stores_once(open_app, server, clip720: Path):
    page = open_app("?engine=ffmpeg-mt")
    before = stored_uploads(server)
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("start").click()
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_attribute("data-state", "compressing", timeout=60_000)
    expect(page.get_by_test_id("status")).to_contain_text("% ·", timeout=60_000)  # encoding
    page.reload()
    wait_until_attached(page)
    expect(item).to_have_count(1)  # listed again, from storage
    expect(item).to_contain_text("clip720.mp4")
    expect(item).to_have_attribute("data-state", "done", timeout=180_000)  # on its own
    stored = videos_stored(page, server, before, "clip720.mp4")
    assert len(stored) == 1, stored
    metadata = upload_metadata(page, stored[0])
    assert metadata["compressed"] == "1", metadata["reason"]


def test_a_reload_during_upload_resumes_from_the_server_offset(whole_file, open_app, server, clip720: Path):
    """A whole file's upload (a streamed one resumes with its encode: test_resume.py)."""
    page = open_app()
    throttle_uploads(page, 120_000)
    created = creations_of(page, "clip720.mp4")
    heads: list[str] = []
    page.on("request", lambda r: heads.append(r.url) if r.method == "HEAD" else None)
    before = stored_uploads(server)
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("start").click()
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_attribute("data-state", "uploading", timeout=60_000)
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=item-percent]').textContent.replace('%', '')) >= 10",
        timeout=60_000)
    page.reload()
    throttle_uploads(page, None)
    wait_until_attached(page)
    expect(item).to_have_attribute("data-state", "done", timeout=120_000)
    assert len(created) == 1, created  # one upload, resumed: never created again
    url = item.get_attribute("data-upload-url")
    assert url in heads  # after the reload it asked the server for its offset
    stored = videos_stored(page, server, before, "clip720.mp4")
    assert len(stored) == 1, stored

    # A reload once everything has arrived sends nothing again.
    page.reload()
    wait_until_attached(page)
    page.wait_for_timeout(1500)
    assert len(created) == 1
    assert len(videos_stored(page, server, before, "clip720.mp4")) == 1


# A device with 1 MB free. Its service worker would keep no assets there (public/sw.js keeps
# them only with 1 GiB free); here the quota shrinks after the page loaded, so the service
# worker is kept out for the megabyte to be the clips' alone, as on such a device.
@pytest.mark.browser_context_args(service_workers="block")
def test_a_file_the_browser_could_not_keep_is_asked_for_again_and_recognised(
    open_app, server, clip720: Path
):
    page = open_app("?engine=ffmpeg-mt")
    cdp = page.context.new_cdp_session(page)
    origin = server.url.rstrip("/")
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": 1_000_000})  # 1 MB
    before = stored_uploads(server)
    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(page.get_by_test_id("storage")).to_contain_text("too large to keep")
    page.get_by_test_id("start").click()
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_attribute("data-state", "compressing", timeout=60_000)
    page.reload()
    wait_until_attached(page)
    expect(item).to_have_attribute("data-state", "needs-file", timeout=30_000)
    expect(item).to_contain_text("Choose the same file again")
    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(item).to_have_count(1)  # recognised by its fingerprint: the same clip, not a new one
    expect(item).to_have_attribute("data-state", "done", timeout=180_000)
    assert len(videos_stored(page, server, before, "clip720.mp4")) == 1
