"""The operators' dashboard (/dashboard): asks for an admin token (kept in the tab only), draws
the analytics summary (tiles, a uPlot timeline, experiments with their intervals, breakdowns),
refreshes every 5 s, keeps its figures when the connection drops, loads nothing from beyond
this origin, and flips the real kill switch, with a confirmation before turning it on."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT

SUMMARY = "/api/analytics/summary"
SCREENSHOT = ROOT / "test-results" / "dashboard.png"  # docs/dashboard.png is a copy of one, from a full run


@pytest.fixture
def admin_token(server) -> str:
    return server.process.token("ops", admin=True)


@pytest.fixture
def kill_switch_off(server, admin_token: str) -> Iterator[None]:
    """The session's server is shared: whatever a test does, the kill switch ends up off."""
    yield
    answer = httpx.post(f"{server.url}/api/flags/kill-switch", json={"enabled": False},
                        headers={"Authorization": f"Bearer {admin_token}"})
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="session")
def recorded(server) -> int:
    """A day's worth of clips from a dozen browsers, sent once per session as real analytics
    batches (POST /api/analytics), so the summary the page draws is the server's own."""
    events = clinic_events(time.time())
    for first in range(0, len(events), 200):
        answer = httpx.post(f"{server.url}/api/analytics", json={"events": events[first:first + 200]})
        assert answer.status_code == 202, answer.text
    return len(events)


@pytest.fixture
def summary(server, admin_token: str, recorded: int) -> dict:
    """The summary the page will draw, read from the server as an admin."""
    answer = httpx.get(f"{server.url}{SUMMARY}?hours=24",
                       headers={"Authorization": f"Bearer {admin_token}"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["totals"]["events"] >= recorded
    return found


def test_the_dashboard_asks_for_a_token_then_draws_the_summary(
    page: Page, server, admin_token: str, summary: dict, outside_requests, kill_switch_off
):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server.url}/dashboard")
    token = page.get_by_test_id("dashboard-token")
    expect(token).to_be_visible()
    expect(token).to_have_attribute("type", "password")
    expect(page.get_by_test_id("board")).to_be_hidden()

    # A token that is not an admin's is refused in plain words, and not kept.
    token.fill(server.process.token("nurse"))
    token.press("Enter")
    expect(page.get_by_test_id("sign-in-error")).to_contain_text("not an admin token")
    assert page.evaluate("sessionStorage.length") == 0

    token.fill(admin_token)
    page.get_by_test_id("dashboard-open").click()
    expect(page.get_by_test_id("board")).to_be_visible()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    assert admin_token not in page.url
    assert page.evaluate("Object.values(sessionStorage)") == [admin_token]
    assert page.evaluate("localStorage.length") == 0

    overall = summary["overall"]
    expect_percent(page.get_by_test_id("success-rate"), overall["success_rate"]["rate"], scale=100)
    if overall["success_rate"]["rate"] is not None:
        interval = page.get_by_test_id("success-interval")
        expect(interval).to_contain_text("95 % interval")
        expect(interval).to_contain_text(f"{overall['success_rate']['n']:,} clips")
    expect_percent(page.get_by_test_id("percent-saved"), overall["percent_saved"])
    expect_percent(page.get_by_test_id("fallback-rate"), overall["fallback_rate"], scale=100)
    expect_percent(page.get_by_test_id("bypass-rate"), overall["bypass_rate"], scale=100)
    if overall["seconds"]["p50"] is not None:
        expect(page.get_by_test_id("seconds-p50")).to_have_text(re.compile(r"^[\d.]+ s$|^\d+ min \d+ s$"))
        expect(page.get_by_test_id("seconds-p90")).to_contain_text("median · 9 in 10 within")
        if overall["seconds"]["p50"] < 60:
            assert abs(float(page.get_by_test_id("seconds-p50").inner_text()[:-2]) - overall["seconds"]["p50"]) < 0.051
    expect(page.get_by_test_id("clips")).to_have_text(f"{summary['totals']['clips']:,} clips")

    # The timeline is a uPlot chart on a canvas, with a legend an operator can read.
    timeline = page.get_by_test_id("timeline")
    if summary["timeline"]:
        expect(timeline.locator("canvas")).to_have_count(1)
        assert timeline.locator("canvas").evaluate("c => c.width > 0 && c.height > 0")
        for label in ("Compressed", "Failed", "Sent as original", "Send original now"):
            expect(timeline.locator(".u-legend")).to_contain_text(label)
    else:
        expect(page.get_by_test_id("timeline-empty")).to_be_visible()

    # Experiments: each arm with its sample size and interval, and a verdict on overlap.
    experiments = page.get_by_test_id("experiments")
    if not summary["experiments"]:
        expect(experiments).to_contain_text("No A/B experiment")
    for experiment in summary["experiments"]:
        block = experiments.locator(f'[data-flag="{experiment["flag"]}"]')
        verdict = block.get_by_test_id("verdict")
        better = clearly_better(experiment["arms"])
        if better:
            expect(verdict).to_contain_text(f"Arm “{better}” is better")
        else:
            expect(verdict).to_have_text(re.compile(r"^(No clear difference yet|Not enough clips)"))
        for arm in experiment["arms"]:
            row = block.locator(f'tr[data-arm="{arm["variant"]}"]')
            success = arm["success"]
            if success["rate"] is None:
                expect(row.get_by_test_id("arm-success-interval")).to_have_text("no clips yet")
                continue
            text = row.get_by_test_id("arm-success-interval").inner_text()
            low, high = (float(x) for x in re.findall(r"([\d.]+) %", text)[1:3])
            assert abs(low - 100 * success["low"]) < 0.051 and abs(high - 100 * success["high"]) < 0.051
            assert f"{success['n']:,} clips" in text

    # A table for each breakdown, one row per group.
    for dimension, groups in summary["by"].items():
        table = page.get_by_test_id(f"group-{dimension}")
        for name in groups:
            expect(table.locator(f'tr[data-group="{name}"]')).to_be_visible()

    # Live: it reads the summary again within a few seconds.
    updated = page.get_by_test_id("last-updated")
    first = updated.inner_text()
    expect(updated).not_to_have_text(first, timeout=8_000)

    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Readable on a phone: nothing wider than the screen but the tables' own scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("kill-switch")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(ROOT / "test-results" / "dashboard-phone.png"), full_page=True)

    # A reload in the same tab keeps the token; forgetting it asks again.
    page.reload()
    expect(page.get_by_test_id("board")).to_be_visible()
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("dashboard-token")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_kill_switch_turns_on_after_a_confirmation_and_off_again(
    page: Page, server, admin_token: str, summary: dict, outside_requests, kill_switch_off
):
    open_dashboard(page, server, admin_token)
    state = page.get_by_test_id("kill-switch-state")
    button = page.get_by_test_id("kill-switch")
    expect(state).to_have_attribute("data-state", "off")
    expect(button).to_have_text(re.compile("Turn the kill switch ON"))
    expect(page.get_by_test_id("flags").locator('tr[data-flag="compression"]')).to_contain_text("On")

    # Cancelling the confirmation changes nothing.
    button.click()
    dialog = page.get_by_test_id("kill-switch-confirm")
    expect(dialog).to_be_visible()
    page.get_by_test_id("kill-switch-cancel").click()
    expect(dialog).to_be_hidden()
    expect(state).to_have_attribute("data-state", "off")
    assert kill_switch_enabled(server) is False

    button.click()
    page.get_by_test_id("kill-switch-confirm-yes").click()
    expect(state).to_have_attribute("data-state", "on")
    expect(state).to_contain_text("every page is sending originals")
    assert kill_switch_enabled(server) is True
    expect(page.get_by_test_id("flags").locator('tr[data-flag="kill_switch"]')).to_have_attribute(
        "data-enabled", "true")

    # Turning it off again needs no confirmation (it is the way back to normal).
    expect(button).to_have_text(re.compile("Turn the kill switch OFF"))
    button.click()
    expect(state).to_have_attribute("data-state", "off")
    assert kill_switch_enabled(server) is False


def test_the_dashboard_keeps_its_figures_while_offline(
    page: Page, context, server, admin_token: str, summary: dict, outside_requests, kill_switch_off
):
    open_dashboard(page, server, admin_token)
    clips = page.get_by_test_id("clips").inner_text()
    context.set_offline(True)
    connection = page.get_by_test_id("connection")
    expect(connection).to_have_attribute("data-state", "offline", timeout=8_000)
    expect(connection).to_contain_text("showing the figures from")
    expect(page.get_by_test_id("clips")).to_have_text(clips)
    context.set_offline(False)
    expect(connection).to_have_attribute("data-state", "live", timeout=8_000)


# ---- helpers ----

def open_dashboard(page: Page, server, token: str) -> None:
    page.goto(f"{server.url}/dashboard")
    page.get_by_test_id("dashboard-token").fill(token)
    page.get_by_test_id("dashboard-open").click()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")


def clearly_better(arms: list[dict]) -> str | None:
    """The arm whose interval lies wholly on the better side of every other arm's (success
    higher, or median time lower), if there is one: otherwise the difference may be noise."""
    rated = [a for a in arms if a["success"]["rate"] is not None]
    timed = [a for a in arms if a["seconds_p50"]["value"] is not None]
    if len(rated) >= 2:
        best = max(rated, key=lambda a: a["success"]["rate"])
        if all(best["success"]["low"] > a["success"]["high"] for a in rated if a is not best):
            return best["variant"]
    if len(timed) >= 2:
        fastest = min(timed, key=lambda a: a["seconds_p50"]["value"])
        if all(fastest["seconds_p50"]["high"] < a["seconds_p50"]["low"] for a in timed if a is not fastest):
            return fastest["variant"]
    return None


def kill_switch_enabled(server) -> bool:
    features = httpx.get(f"{server.url}/api/flags").json()["features"]
    return next(f["enabled"] for f in features if f["name"] == "kill_switch")


def expect_percent(locator, value: float | None, scale: float = 1) -> None:
    """The tile shows ``value × scale`` as a percentage with one decimal, or "—" for none."""
    if value is None:
        expect(locator).to_have_text("—")
        return
    expect(locator).to_have_text(re.compile(r"^-?[\d.]+ %$"))
    shown = float(locator.inner_text().split(" ")[0])
    assert abs(shown - value * scale) < 0.051, (locator.inner_text(), value)


def clinic_events(now: float) -> list[dict]:
    """Made-up but lifelike analytics events (the page's own schema, client/core/events.py).

    Two experiments: ``ui`` (arms "list" and "cards", no real difference) and ``preset``
    (arms whose compression times differ clearly). No "compact" arm and no wound-care clip:
    test_analytics.py waits for exactly those from its real page, on the same server."""
    rng = random.Random(10)
    installations = [f"dash-{i:02d}-{rng.getrandbits(48):012x}" for i in range(12)]
    devices = ["phone", "phone", "phone", "tablet", "desktop", "desktop"]
    specialties = ["surgery", "dermatology", "emergency", "orthopaedics", "cardiology", "unspecified"]
    events: list[dict] = []
    profile = {}
    for number, installation in enumerate(installations):
        ui = "list" if number % 2 else "cards"
        preset = "mobile-fast" if number % 3 == 0 else "medical-standard"
        device = devices[number % len(devices)]
        profile[installation] = (ui, preset, device, specialties[number % len(specialties)])
        base = {"installation": installation, "device_class": device, "variant": ui}
        events.append({**base, "type": "flag_exposure", "at": now - 86_000, "flag": "ui",
                       "variant_name": ui, "enabled": True})
        events.append({**base, "type": "flag_exposure", "at": now - 86_000, "flag": "preset",
                       "variant_name": preset, "enabled": True})
    for clip in range(170):
        installation = rng.choice(installations)
        ui, preset, device, specialty = profile[installation]
        priority = "urgent" if clip % 6 == 0 else "routine"
        common = {"installation": installation, "device_class": device, "specialty": specialty,
                  "variant": ui, "at": now - rng.uniform(60, 86_000)}
        size = rng.randint(8, 160) * 1_000_000
        roll = rng.random()
        if roll < 0.07:
            reason = "emergency" if roll < 0.03 else "bypass"
            events.append({**common, "type": "bypass_activated", "reason": reason,
                           "priority": "emergency" if reason == "emergency" else priority, "input_bytes": size})
            events.append({**common, "type": "upload_completed", "compressed": False, "bytes": size,
                           "seconds": size / 2.5e6})
            continue
        if roll < 0.14:
            events.append({**common, "type": "fallback_used", "reason": rng.choice(["small-file", "little-gain"]),
                           "priority": priority, "input_bytes": size})
            events.append({**common, "type": "upload_completed", "compressed": False, "bytes": size,
                           "seconds": size / 2.5e6})
            continue
        engine = "webcodecs" if device != "tablet" and rng.random() < 0.8 else rng.choice(["ffmpeg-mt", "ffmpeg"])
        work = {"engine": engine, "preset": preset, "priority": priority}
        events.append({**common, **work, "type": "compression_started", "input_bytes": size})
        speed = (9e6 if preset == "mobile-fast" else 4e6) * (1.0 if engine == "webcodecs" else 0.35)
        seconds = size / speed * rng.uniform(0.8, 1.25)
        if rng.random() < 0.08:
            events.append({**common, **work, "type": "compression_failed", "code": "stalled",
                           "seconds": seconds / 2})
            events.append({**common, "type": "fallback_used", "reason": "compression-failed",
                           "priority": priority, "input_bytes": size})
            events.append({**common, "type": "upload_completed", "compressed": False, "bytes": size,
                           "seconds": size / 2.5e6})
            continue
        output = int(size * (0.18 if preset == "mobile-fast" else 0.31) * rng.uniform(0.8, 1.2))
        events.append({**common, **work, "type": "compression_completed", "input_bytes": size,
                       "output_bytes": output, "seconds": round(seconds, 2), "ssim": 0.975})
        if rng.random() < 0.04:
            events.append({**common, "type": "upload_failed", "status": 0, "bytes": output})
        else:
            events.append({**common, "type": "upload_completed", "compressed": True, "bytes": output,
                           "seconds": output / 2.5e6})
    return events
