"""Activation strategies: when a feature that is switched on is on for a given context.

A strategy is on when its own rule says so *and* its constraints hold *and* so do the
constraints of every segment it names (a segment missing from the state turns it off).
Unknown (custom) strategies and strategies marked ``disabled`` are never on.
"""

from __future__ import annotations

import math
import os
import random
import socket
from collections.abc import Callable

from client.flags.constraints import constraints_hold, ip_in_networks
from client.flags.context import as_text, stickiness_value
from client.flags.murmur import normalized_value


def strategy_is_on(strategy: dict, feature_name: str, segments: dict, context: dict) -> bool:
    """Whether ``strategy`` of feature ``feature_name`` is on for ``context``."""
    rule = _RULES.get(strategy.get("name") or "")
    if rule is None or strategy.get("disabled"):
        return False
    constraints = list(strategy.get("constraints") or [])
    for segment_id in strategy.get("segments") or []:
        segment = segments.get(segment_id)
        if segment is None:
            return False
        constraints.extend(segment.get("constraints") or [])
    params = strategy.get("parameters") or {}
    return constraints_hold(constraints, context) and rule(params, feature_name, context)


def _percentage(params: dict, key: str) -> float | None:
    """A percentage parameter (text such as "55") as a number, or None if it is none."""
    try:
        value = float(as_text(params.get(key)) or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _in_rollout(value: str | None, group_id: str, percentage: float | None) -> bool:
    """Whether ``value`` falls within the first ``percentage`` of ``group_id``."""
    if value is None or percentage is None:
        return False
    return normalized_value(value, group_id) <= percentage


def _list(params: dict, key: str) -> list[str]:
    """A comma-separated parameter as a list of trimmed items."""
    return [item.strip() for item in (as_text(params.get(key)) or "").split(",")]


def _default(params: dict, feature_name: str, context: dict) -> bool:
    """default: on for everyone."""
    return True


def _user_with_id(params: dict, feature_name: str, context: dict) -> bool:
    """userWithId: on for the listed user ids."""
    user_id = as_text(context.get("userId"))
    return user_id is not None and user_id in _list(params, "userIds")


def _gradual_user_id(params: dict, feature_name: str, context: dict) -> bool:
    """gradualRolloutUserId: on for a percentage of user ids."""
    group_id = as_text(params.get("groupId")) or feature_name
    return _in_rollout(as_text(context.get("userId")), group_id, _percentage(params, "percentage"))


def _gradual_session_id(params: dict, feature_name: str, context: dict) -> bool:
    """gradualRolloutSessionId: on for a percentage of session ids."""
    group_id = as_text(params.get("groupId")) or feature_name
    return _in_rollout(as_text(context.get("sessionId")), group_id,
                       _percentage(params, "percentage"))


def _gradual_random(params: dict, feature_name: str, context: dict) -> bool:
    """gradualRolloutRandom: on for a random percentage of evaluations."""
    percentage = _percentage(params, "percentage")
    return percentage is not None and random.randint(1, 100) <= percentage


def _flexible_rollout(params: dict, feature_name: str, context: dict) -> bool:
    """flexibleRollout: on for a percentage, sticky on a field (default: user, session, random)."""
    stickiness = as_text(params.get("stickiness")) or "default"
    percentage = _percentage(params, "rollout")
    value = stickiness_value(context, stickiness)
    if value is None and stickiness in ("default", "random"):
        return percentage is not None and random.randint(1, 100) <= percentage
    return _in_rollout(value, as_text(params.get("groupId")) or feature_name, percentage)


def _remote_address(params: dict, feature_name: str, context: dict) -> bool:
    """remoteAddress: on for the listed IP addresses and CIDR ranges."""
    return ip_in_networks(as_text(context.get("remoteAddress")), _list(params, "IPs"))


def _application_hostname(params: dict, feature_name: str, context: dict) -> bool:
    """applicationHostname: on for the listed host names (of this process, not the context)."""
    hostname = os.environ.get("HOSTNAME")
    if not hostname:
        try:
            hostname = socket.gethostname()
        except (OSError, AttributeError):
            return False
    return hostname.lower() in (name.lower() for name in _list(params, "hostNames"))


_RULES: dict[str, Callable[[dict, str, dict], bool]] = {
    "default": _default,
    "userWithId": _user_with_id,
    "gradualRolloutUserId": _gradual_user_id,
    "gradualRolloutSessionId": _gradual_session_id,
    "gradualRolloutRandom": _gradual_random,
    "flexibleRollout": _flexible_rollout,
    "remoteAddress": _remote_address,
    "applicationHostname": _application_hostname,
}
