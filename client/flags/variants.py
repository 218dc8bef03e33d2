"""Variants: which of a feature's (or a strategy's) variants a context gets.

An override naming the context's value wins; otherwise the stickiness value is hashed
(seed 86028157) onto the total weight and the variant whose share covers that spot is
chosen. With no stickiness value at all the choice is random, as in every Unleash SDK.
"""

from __future__ import annotations

import math
import random

from client.flags.context import context_value, stickiness_value
from client.flags.murmur import normalized_value

VARIANT_SEED = 86028157
TOTAL_WEIGHT = 1000  # what Unleash shares out among variants whose weight it computes


def select_variant(variants: list[dict], group_id: str, stickiness: str | None,
                   context: dict) -> dict | None:
    """The variant of ``variants`` for ``context``, or None if there is none to give."""
    if not variants:
        return None
    for variant in variants:
        for override in variant.get("overrides") or []:
            value = context_value(context, override.get("contextName") or "")
            if value is not None and value in (override.get("values") or []):
                return variant
    weights = variant_weights(variants)
    total = sum(weights)
    if total <= 0:
        return None
    value = stickiness_value(context, stickiness)
    if value is None:
        target = random.randint(1, total)
    else:
        target = normalized_value(value, group_id, total, VARIANT_SEED)
    reached = 0
    for variant, weight in zip(variants, weights, strict=True):
        reached += weight
        if reached >= target:
            return variant
    return None


def variant_weights(variants: list[dict]) -> list[int]:
    """Each variant's weight: its own, or for variants without one, an even share of what
    the fixed ones leave of 1000 (rounded as it goes, as Unleash's admin UI does)."""
    given = [variant.get("weight") for variant in variants]
    if all(isinstance(weight, int | float) for weight in given):
        return [max(0, int(weight)) for weight in given]
    remaining = TOTAL_WEIGHT - sum(int(w) for w in given if isinstance(w, int | float))
    shared = sum(1 for w in given if not isinstance(w, int | float))
    weights = []
    for weight in given:
        if isinstance(weight, int | float):
            weights.append(max(0, int(weight)))
            continue
        share = max(0, math.floor(remaining / shared + 0.5))
        weights.append(share)
        remaining, shared = remaining - share, shared - 1
    return weights
