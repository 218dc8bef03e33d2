"""Analytics from a real page: a flag variant's exposure and the clip's journey arrive as typed
events, and after a real upload of a file with a distinctive name, neither the analytics
table nor the server's log holds that name or any piece of it."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.e2e.kit import MedpressPage, upload_metadata
from tests.e2e.test_flags import DEFAULTS

NAME = "Maria Silva prontuario Kwzq.mp4"
PIECES = ("Maria", "Silva", "prontuario", "Kwzq")  # letters no id, port or duration has


def summary(server) -> dict:
    headers = {"Authorization": f"Bearer {server.process.token('ops', admin=True)}"}
    answer = httpx.get(f"{server.url}/api/analytics/summary?hours=1", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.5)
    return found


def test_a_variants_exposure_and_the_journey_arrive_and_no_name_reaches_analytics_or_logs(
    server, put_flags, open_app, clip720: Path, tmp_path: Path
):
    state = copy.deepcopy(DEFAULTS)
    state["features"].append({"name": "ui", "type": "experiment", "enabled": True,
                              "strategies": [{"name": "default"}],
                              "variants": [{"name": "compact", "weight": 1000, "stickiness": "default"}]})
    put_flags(state)
    named = tmp_path / NAME
    shutil.copy(clip720, named)

    page = open_app("?specialty=wound-care")
    medpress = MedpressPage(page)
    expect(page.locator("html")).to_have_attribute("data-ui-variant", "compact")
    medpress.choose(named).press_start()
    url = medpress.item(0).wait_for("done").wait_for_upload_url()
    assert upload_metadata(page, url)["filename"] == NAME  # stored with the upload, for its owner
    page.evaluate("medpressGlue.flushEvents()")

    def arrived() -> dict | None:
        found = summary(server)
        arms = {arm["variant"] for e in found["experiments"] if e["flag"] == "ui" for arm in e["arms"]}
        return found if "compact" in arms and found["by"]["specialty"].get("wound-care", {}).get("completed") else None

    found = wait_for(arrived)
    assert found["by"]["variant"]["ui=compact"]["uploads_completed"] >= 1

    rows = sqlite3.connect(server.data_dir / "medpress.db").execute("SELECT event FROM analytics_events").fetchall()
    dumped = json.dumps(rows)
    assert rows and not [piece for piece in PIECES if piece in dumped]
    log = server.process.log_path.read_text(errors="replace")
    assert not [piece for piece in PIECES if piece in log], "a piece of the file name reached the log"
