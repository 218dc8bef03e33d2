"""Files that cannot be compressed end in a clear message, and the original is still
offered: "Send original now" then sends it byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect


@pytest.fixture
def bad_files(tmp_path: Path, clip720: Path) -> dict[str, Path]:
    text = tmp_path / "notes.txt"
    text.write_text("not a video\n")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = tmp_path / "cut-off.mp4"
    data = clip720.read_bytes()
    truncated.write_bytes(data[: len(data) * 6 // 10])  # the MP4 index (moov) is at the end
    return {"not-video": text, "empty": empty, "truncated": truncated}


@pytest.mark.parametrize(
    ("which", "says"),
    [
        ("not-video", "not a video"),
        ("empty", "empty (0 bytes)"),
        ("truncated", "could not be read"),
    ],
)
def test_bad_input_is_explained_and_the_original_still_offered(app_page, bad_files, which, says):
    page = app_page
    status = page.get_by_test_id("status")
    path = bad_files[which]
    page.get_by_test_id("file-input").set_input_files(path)
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "error", timeout=60_000)
    expect(status).to_contain_text(says)
    expect(status).to_contain_text("Send original now")
    assert path.name not in status.inner_text()  # messages never repeat the file name

    bypass = page.get_by_test_id("bypass")
    expect(bypass).to_be_enabled()
    bypass.click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    url = status.get_attribute("data-upload-url")
    assert page.request.get(url).body() == path.read_bytes()
