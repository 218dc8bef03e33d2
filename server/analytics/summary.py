"""What the dashboard shows, computed from the events of a time window. Pure functions.

Rates carry a Wilson 95 % interval; compression times their percentiles; each A/B arm its
sample size, its success rate's interval and a bootstrap interval of its median time (a
fixed seed: the same data always gives the same answer), so an operator can tell a real
difference from noise. An installation belongs to the arm of its latest exposure to the flag.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

Z95 = 1.959963984540054
GROUPS = ("device_class", "engine", "preset", "priority", "specialty", "variant")
BOOTSTRAP_ROUNDS = 400
HOUR = 3600


def wilson(successes: int, n: int) -> dict[str, Any]:
    """The rate and its Wilson score 95 % interval (None when there is nothing to rate)."""
    if n == 0:
        return {"rate": None, "low": None, "high": None, "n": 0}
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    margin = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return {"rate": p, "low": max(0.0, centre - margin), "high": min(1.0, centre + margin), "n": n}


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile ``q`` (0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median_interval(values: list[float], seed: int = 0) -> dict[str, Any]:
    """The median and a percentile-bootstrap 95 % interval of it."""
    if not values:
        return {"value": None, "low": None, "high": None, "n": 0}
    rng = random.Random(seed)
    medians = sorted(
        percentile(rng.choices(values, k=len(values)), 50) or 0.0 for _ in range(BOOTSTRAP_ROUNDS)
    )
    return {"value": percentile(values, 50), "low": percentile(medians, 2.5),
            "high": percentile(medians, 97.5), "n": len(values)}


def metrics(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one group of events."""
    counts: Counter[str] = Counter()
    fallbacks: Counter[str] = Counter()
    bypasses: Counter[str] = Counter()
    seconds: list[float] = []
    bytes_in = bytes_out = 0
    for event in events:
        kind = event["type"]
        counts[kind] += 1
        if kind == "compression_completed":
            seconds.append(event["seconds"])
            bytes_in += event["input_bytes"]
            bytes_out += event["output_bytes"]
        elif kind == "fallback_used":
            fallbacks[event["reason"]] += 1
        elif kind == "bypass_activated":
            bypasses[event["reason"]] += 1
    started, completed = counts["compression_started"], counts["compression_completed"]
    clips = completed + counts["fallback_used"] + counts["bypass_activated"]
    saved = bytes_in - bytes_out
    busy = sum(seconds)
    return {
        "started": started,
        "completed": completed,
        "failed": counts["compression_failed"],
        "success_rate": wilson(completed, max(started, completed)),
        "fallback_rate": counts["fallback_used"] / clips if clips else None,
        "fallback_reasons": dict(fallbacks),
        "bypass_rate": counts["bypass_activated"] / clips if clips else None,
        "bypass_reasons": dict(bypasses),
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "bytes_saved": saved,
        "percent_saved": 100 * saved / bytes_in if bytes_in else None,
        "seconds": {f"p{q}": percentile(seconds, q) for q in (50, 90, 99)},
        "throughput_mbps": bytes_in / 1e6 / busy if busy else None,
        "uploads_completed": counts["upload_completed"],
        "uploads_failed": counts["upload_failed"],
    }


def _group_key(event: dict[str, Any], group: str) -> str | None:
    value = event.get(group)
    if group == "variant" and value is not None:
        return f"ui={value}"
    return None if value is None else str(value)


def experiments(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each exposed flag's arms: who saw which variant (latest exposure wins), and their figures."""
    arm_of: dict[str, dict[str, str]] = defaultdict(dict)  # flag → installation → variant
    for event in sorted((e for e in events if e["type"] == "flag_exposure"), key=lambda e: e["at"]):
        arm_of[event["flag"]][event["installation"]] = event["variant_name"]
    found = []
    for flag, arms in sorted(arm_of.items()):
        members: dict[str, set[str]] = defaultdict(set)
        for installation, variant in arms.items():
            members[variant].add(installation)
        rows = []
        for variant, installations in sorted(members.items()):
            theirs = [e for e in events if e["installation"] in installations]
            figures = metrics(theirs)
            times = [e["seconds"] for e in theirs if e["type"] == "compression_completed"]
            rows.append({"variant": variant, "installations": len(installations),
                         "success": figures["success_rate"], "seconds_p50": median_interval(times)})
        found.append({"flag": flag, "arms": rows})
    return found


def timeline(events: list[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    """Per hour of the window: clips compressed, failures, fallbacks, bypasses, bytes saved."""
    first = int(start // HOUR) * HOUR
    hours = {t: {"t": t, "completed": 0, "failed": 0, "fallbacks": 0, "bypasses": 0, "bytes_saved": 0}
             for t in range(first, int(end) + 1, HOUR)}
    names = {"compression_completed": "completed", "compression_failed": "failed",
             "fallback_used": "fallbacks", "bypass_activated": "bypasses"}
    for event in events:
        bucket = hours.get(int(event["received_at"] // HOUR) * HOUR)
        name = names.get(event["type"])
        if bucket is None or name is None:
            continue
        bucket[name] += 1
        if name == "completed":
            bucket["bytes_saved"] += event["input_bytes"] - event["output_bytes"]
    return list(hours.values())


def summary(events: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """The dashboard's whole answer for the window [start, end]."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {g: defaultdict(list) for g in GROUPS}
    for event in events:
        for group in GROUPS:
            key = _group_key(event, group)
            if key is not None:
                grouped[group][key].append(event)
    clips = sum(1 for e in events if e["type"] in ("compression_completed", "fallback_used", "bypass_activated"))
    return {
        "window": {"from": start, "to": end},
        "totals": {"events": len(events), "installations": len({e["installation"] for e in events}),
                   "clips": clips},
        "overall": metrics(events),
        "by": {group: {key: metrics(items) for key, items in sorted(found.items())}
               for group, found in grouped.items()},
        "experiments": experiments(events),
        "timeline": timeline(events, start, end),
    }
