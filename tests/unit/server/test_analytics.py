"""Analytics: a strict, capped, rate-limited intake of typed events that hold no patient data,
and the operators' summary (rates with Wilson intervals, percentiles, A/B arms) for admins."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from client.core import events as ev
from server.analytics.summary import median_interval, percentile, summary, wilson

BASE = {"installation": "install-0001", "device_class": "phone", "specialty": "wound-care"}


def event(kind: type[ev.Event], **fields: object) -> ev.Event:
    return kind(at=time.time(), **{**BASE, **fields})  # type: ignore[arg-type]


def batch(*items: ev.Event) -> bytes:
    return ev.encode(ev.Batch(events=list(items)))  # type: ignore[arg-type]


COMPLETED = event(ev.CompressionCompleted, engine="webcodecs", preset="medical-standard", priority="routine",
                  input_bytes=10_000_000, output_bytes=2_000_000, seconds=4.0, ssim=0.981)


def test_a_batch_is_taken_and_the_summary_shows_it_to_admins_only(
    anonymous: httpx.Client, bearer: Callable[..., httpx.Client]
) -> None:
    started = event(ev.CompressionStarted, engine="webcodecs", preset="medical-standard", priority="routine",
                    input_bytes=10_000_000)
    fallback = event(ev.FallbackUsed, reason="little-gain", priority="urgent", input_bytes=900_000,
                     installation="install-0002")
    answer = anonymous.post("/api/analytics", content=batch(started, COMPLETED, fallback))
    assert answer.status_code == 202 and answer.json() == {"accepted": 3}

    assert anonymous.get("/api/analytics/summary").status_code == 401
    assert bearer("nurse").get("/api/analytics/summary").status_code == 403
    found = bearer("ops", admin=True).get("/api/analytics/summary?hours=1").json()
    overall = found["overall"]
    assert found["totals"] == {"events": 3, "installations": 2, "clips": 2}
    assert (overall["completed"], overall["bytes_saved"], overall["percent_saved"]) == (1, 8_000_000, 80.0)
    assert overall["fallback_reasons"] == {"little-gain": 1} and overall["fallback_rate"] == 0.5
    assert found["by"]["engine"]["webcodecs"]["completed"] == 1
    assert found["by"]["specialty"]["wound-care"]["started"] == 1


@pytest.mark.parametrize(("body", "says"), [
    ((b'{"events": [{"type": "upload_failed", "at": 1, "installation": "install-0001", '
     b'"device_class": "phone", "status": 500, "bytes": 1, "filename": "Maria Silva.mp4"}]}'), "unknown field"),
    ((b'{"events": [{"type": "fallback_used", "at": 1, "installation": "install-0001", '
     b'"device_class": "phone", "reason": "Maria Silva", "priority": "routine", "input_bytes": 1}]}'), "$.events[0].reason"),
    (b'{"events": [{"type": "note", "at": 1}]}', "$.events[0]"),
    (b'{"events": "all of them"}', "$.events"),
    (b"not json", "malformed"),
])
def test_anything_but_the_typed_events_is_refused_naming_where(anonymous: httpx.Client, body: bytes, says: str) -> None:
    answer = anonymous.post("/api/analytics", content=body)
    assert answer.status_code == 400 and says in answer.json()["detail"]
    assert "Maria" not in answer.text  # where, never the value


def test_batches_are_capped_in_count_and_size_and_rate_limited(anonymous: httpx.Client) -> None:
    too_many = batch(*[COMPLETED] * (ev.MAX_BATCH + 1))
    assert anonymous.post("/api/analytics", content=too_many).status_code == 400
    assert anonymous.post("/api/analytics", content=b" " * (300 * 1024)).status_code == 413
    answers = [anonymous.post("/api/analytics", content=batch(COMPLETED)).status_code for _ in range(40)]
    assert 429 in answers and answers.index(429) >= 25  # about 30 a minute
    refused = anonymous.post("/api/analytics", content=batch(COMPLETED))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_wilson_intervals_percentiles_and_bootstrap_medians() -> None:
    found = wilson(8, 10)
    assert found["rate"] == 0.8 and round(found["low"], 3) == 0.490 and round(found["high"], 3) == 0.943
    assert wilson(0, 0)["rate"] is None and wilson(0, 5)["low"] == 0.0
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 90) is None
    interval = median_interval([float(x) for x in range(1, 101)])
    assert interval["value"] == 50.5 and interval["low"] < 50.5 < interval["high"]
    assert median_interval([1.0, 2.0, 3.0]) == median_interval([1.0, 2.0, 3.0])  # deterministic


def test_ab_arms_follow_each_installations_latest_exposure() -> None:
    now = time.time()

    def row(kind: type[ev.Event], installation: str, at: float, **fields: object) -> dict:
        import msgspec
        data = msgspec.to_builtins(kind(at=at, installation=installation, device_class="desktop", **fields))
        return {**data, "received_at": now}

    rows = [
        row(ev.FlagExposure, "install-000a", now - 10, flag="ui", variant_name="standard", enabled=True),
        row(ev.FlagExposure, "install-000a", now - 5, flag="ui", variant_name="compact", enabled=True),
        row(ev.FlagExposure, "install-000b", now - 5, flag="ui", variant_name="standard", enabled=True),
        row(ev.CompressionStarted, "install-000a", now, engine="webcodecs", preset="mobile-fast",
            priority="routine", input_bytes=5),
        row(ev.CompressionCompleted, "install-000a", now, engine="webcodecs", preset="mobile-fast",
            priority="routine", input_bytes=5, output_bytes=1, seconds=2.0),
    ]
    arms = {arm["variant"]: arm for arm in summary(rows, now - 3600, now)["experiments"][0]["arms"]}
    assert set(arms) == {"compact", "standard"}
    assert arms["compact"]["installations"] == 1 and arms["compact"]["success"]["n"] == 1
    assert arms["standard"]["seconds_p50"]["value"] is None


@pytest.mark.anyio
async def test_events_past_their_retention_are_deleted(database) -> None:
    from server.analytics.store import AnalyticsStore

    store = AnalyticsStore(database.engine, retention_s=60)
    await store.append([COMPLETED], received_at=time.time() - 120)
    await store.append([COMPLETED], received_at=time.time())
    assert await store.forget_older_than(time.time() - 60) == 1
    assert len(await store.between(0, time.time() + 1)) == 1
