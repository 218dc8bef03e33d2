"""Features: whether one is on for a context, and the variant that context gets.

A feature is on when it is switched on, every parent it depends on is as required, and
it has no strategies or one of them is on. The first strategy that is on decides the
variant: its own variants if it has any, else the feature's. The feature type plays no
part (a ``kill-switch`` evaluates like any other).
"""

from __future__ import annotations

from client.flags.strategies import strategy_is_on
from client.flags.variants import select_variant


class Flags:
    """One client-features state, indexed for evaluation."""

    def __init__(self, state: dict | None) -> None:
        """Index ``state``'s features by name and its segments by id."""
        state = state or {}
        self.features = {f.get("name"): f for f in state.get("features") or []}
        self.segments = {s.get("id"): s for s in state.get("segments") or []}

    def is_enabled(self, name: str, context: dict) -> bool:
        """Whether feature ``name`` is on for ``context`` (an unknown feature is off)."""
        feature = self.features.get(name)
        return feature is not None and self._decide(feature, context)[0]

    def get_variant(self, name: str, context: dict) -> dict:
        """The variant of feature ``name`` for ``context``, in Unleash's response shape."""
        feature = self.features.get(name)
        on, strategy = self._decide(feature, context) if feature else (False, None)
        variant = self._variant(feature, strategy, context) if on else None
        if variant is None:
            return {"name": "disabled", "enabled": False, "feature_enabled": on}
        chosen = {"name": variant.get("name"), "enabled": True, "feature_enabled": True}
        if variant.get("payload") is not None:
            chosen["payload"] = dict(variant["payload"])
        return chosen

    def _decide(self, feature: dict, context: dict) -> tuple[bool, dict | None]:
        """Whether ``feature`` is on, and the strategy that made it so (None if it has none)."""
        if not feature.get("enabled") or not self._parents_allow(feature, context):
            return False, None
        strategies = feature.get("strategies") or []
        if not strategies:
            return True, None
        for strategy in strategies:
            if strategy_is_on(strategy, feature.get("name") or "", self.segments, context):
                return True, strategy
        return False, None

    def _variant(self, feature: dict, strategy: dict | None, context: dict) -> dict | None:
        """The variant of an enabled ``feature`` whose deciding strategy is ``strategy``."""
        name = feature.get("name") or ""
        if strategy and strategy.get("variants"):
            params = strategy.get("parameters") or {}
            return select_variant(strategy["variants"], params.get("groupId") or name,
                                  params.get("stickiness") or "default", context)
        variants = feature.get("variants") or []
        stickiness = (variants[0].get("stickiness") if variants else None) or "default"
        return select_variant(variants, name, stickiness, context)

    def _parents_allow(self, feature: dict, context: dict) -> bool:
        """Whether every parent of ``feature`` exists, has no parents itself, is on (or off,
        if so required) and, where variants are listed, gives one of them."""
        for dependency in feature.get("dependencies") or []:
            parent = self.features.get(dependency.get("feature"))
            if parent is None or parent.get("dependencies"):
                return False
            parent_on, strategy = self._decide(parent, context)
            wanted_on = dependency.get("enabled") is not False
            if parent_on != wanted_on:
                return False
            wanted_variants = dependency.get("variants")
            if wanted_on and wanted_variants:
                variant = self._variant(parent, strategy, context)
                if (variant or {}).get("name", "disabled") not in wanted_variants:
                    return False
        return True
