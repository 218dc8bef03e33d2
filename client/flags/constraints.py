"""Strategy constraints: one context field, one operator, the values it is compared with.

Every operator of the Unleash client specification is here. A constraint whose definition
cannot be evaluated (unknown operator, a value that is no number, date, version, pattern)
is simply false, inverted or not. A context without the field, or with a value of the
wrong kind, makes the operator false, which ``inverted`` then turns true; NOT_IN is true
for a missing field, as "not in the list".
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from operator import eq, ge, gt, le, lt

from client.flags.context import as_text, context_value
from client.flags.regex import compile_pattern
from client.flags.semver import version_key


def constraints_hold(constraints: Iterable[dict], context: dict) -> bool:
    """Whether every constraint holds for ``context`` (true for none)."""
    return all(constraint_holds(c, context) for c in constraints)


def constraint_holds(constraint: dict, context: dict) -> bool:
    """Whether one constraint holds for ``context``."""
    evaluate = _OPERATORS.get(constraint.get("operator") or "")
    if evaluate is None:
        return False
    result = evaluate(constraint, context_value(context, constraint.get("contextName") or ""))
    if result is None:  # the definition itself cannot be evaluated
        return False
    return result != bool(constraint.get("inverted"))


def ip_in_networks(address: str | None, networks: Iterable[str]) -> bool:
    """Whether ``address`` is one of ``networks`` (addresses or CIDR ranges; bad ones skipped)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _values(constraint: dict) -> list[str]:
    """The constraint's list of values (``values``) as text, never None."""
    return [as_text(v) for v in constraint.get("values") or [] if v is not None]


def _in(constraint: dict, actual: str | None) -> bool:
    """IN: the field's value is one of the values."""
    return actual is not None and actual in _values(constraint)


def _not_in(constraint: dict, actual: str | None) -> bool:
    """NOT_IN: the field is absent, or its value is none of the values."""
    return actual is None or actual not in _values(constraint)


def _string(test: Callable[[str, str], bool], constraint: dict, actual: str | None) -> bool:
    """STR_*: ``test`` (starts with, ends with, contains) for any value, maybe ignoring case."""
    if actual is None:
        return False
    values = _values(constraint)
    if constraint.get("caseInsensitive"):
        actual, values = actual.lower(), [v.lower() for v in values]
    return any(test(actual, v) for v in values)


def _number(text: str | None) -> float | None:
    """``text`` as a finite number, or None."""
    try:
        number = float(text) if text is not None and "_" not in text else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _numeric(compare: Callable, constraint: dict, actual: str | None) -> bool | None:
    """NUM_*: the field's number ``compare``d with the value."""
    target = _number(as_text(constraint.get("value")))
    if target is None:
        return None
    number = _number(actual)
    return number is not None and compare(number, target)


def _date(text: str | None) -> datetime | None:
    """``text`` (ISO 8601 / RFC 3339) as an aware datetime, UTC if it names no offset."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _dates(compare: Callable, constraint: dict, actual: str | None) -> bool | None:
    """DATE_*: the field's moment (``currentTime``: now if absent) ``compare``d with the value."""
    target = _date(as_text(constraint.get("value")))
    if target is None:
        return None
    moment = _date(actual)
    return moment is not None and compare(moment, target)


def _semver(compare: Callable, constraint: dict, actual: str | None) -> bool | None:
    """SEMVER_*: the field's version ``compare``d with the value, by semver precedence."""
    target = version_key(as_text(constraint.get("value")) or "")
    if target is None:
        return None
    version = version_key(actual) if actual is not None else None
    return version is not None and compare(version, target)


def _regex(constraint: dict, actual: str | None) -> bool | None:
    """REGEX: the pattern (``value``) matches somewhere in the field's value."""
    pattern = compile_pattern(as_text(constraint.get("value")) or "",
                              bool(constraint.get("caseInsensitive")))
    if pattern is None:
        return None
    return actual is not None and pattern.search(actual) is not None


def _in_cidr(constraint: dict, actual: str | None) -> bool:
    """IN_CIDR: the field is an IP address inside one of the addresses or ranges."""
    return ip_in_networks(actual, _values(constraint))


_OPERATORS: dict[str, Callable[[dict, str | None], bool | None]] = {
    "IN": _in,
    "NOT_IN": _not_in,
    "STR_STARTS_WITH": partial(_string, str.startswith),
    "STR_ENDS_WITH": partial(_string, str.endswith),
    "STR_CONTAINS": partial(_string, str.__contains__),
    "NUM_EQ": partial(_numeric, eq),
    "NUM_GT": partial(_numeric, gt),
    "NUM_GTE": partial(_numeric, ge),
    "NUM_LT": partial(_numeric, lt),
    "NUM_LTE": partial(_numeric, le),
    "DATE_AFTER": partial(_dates, gt),
    "DATE_BEFORE": partial(_dates, lt),
    "SEMVER_EQ": partial(_semver, eq),
    "SEMVER_GT": partial(_semver, gt),
    "SEMVER_GTE": partial(_semver, ge),
    "SEMVER_LT": partial(_semver, lt),
    "SEMVER_LTE": partial(_semver, le),
    "REGEX": _regex,
    "IN_CIDR": _in_cidr,
}
