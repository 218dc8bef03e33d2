"""Flag definitions in Unleash's client-features JSON shape, validated before they take
effect: a bad definition is refused with the path of the field at fault (never its value),
and the last good state stays in force. Unknown fields (Unleash adds many) are kept as they
are; the evaluator is ``client.flags``."""

from __future__ import annotations

import hashlib
import json
import tomllib
from typing import Any, Literal

import msgspec

from server.validation import describe

Operator = Literal[  # the operators an Unleash server (7.x) puts in its client API
    "IN", "NOT_IN", "STR_ENDS_WITH", "STR_STARTS_WITH", "STR_CONTAINS",
    "NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE",
    "DATE_AFTER", "DATE_BEFORE", "SEMVER_EQ", "SEMVER_GT", "SEMVER_LT",
    "SEMVER_GTE", "SEMVER_LTE", "IN_CIDR",  # newer Unleash; client.flags evaluates them
    "REGEX",  # Unleash's RE2-style dialect (client.flags.regex); an invalid pattern matches nothing
]


class Constraint(msgspec.Struct):
    contextName: str  # Unleash's field names, as they are
    operator: Operator
    values: list[str] = []
    value: str | None = None
    inverted: bool = False
    caseInsensitive: bool = False


class Payload(msgspec.Struct):
    type: str
    value: str


class Override(msgspec.Struct):
    contextName: str  # Unleash's field names, as they are
    values: list[str]


class Variant(msgspec.Struct):
    name: str
    weight: int = 0
    weightType: Literal["variable", "fix"] = "variable"
    stickiness: str = "default"
    payload: Payload | None = None
    overrides: list[Override] = []


class Strategy(msgspec.Struct):
    name: str
    parameters: dict[str, str | int | float] = {}
    constraints: list[Constraint] = []
    segments: list[int] = []
    variants: list[Variant] = []


class Dependency(msgspec.Struct):
    feature: str
    enabled: bool = True
    variants: list[str] = []


class Feature(msgspec.Struct):
    name: str
    enabled: bool
    type: str = "release"  # "kill-switch" is the one medpress treats specially
    strategies: list[Strategy] = []
    variants: list[Variant] = []
    dependencies: list[Dependency] = []


class Segment(msgspec.Struct):
    id: int
    constraints: list[Constraint] = []


class Definitions(msgspec.Struct):
    version: int
    features: list[Feature]
    segments: list[Segment] = []


class InvalidFlags(ValueError):
    """A definition that cannot take effect; the message names the field, never a value."""


def parse(data: bytes, *, toml: bool = False) -> dict[str, Any]:
    """The state as plain JSON data, once it has been validated (TOML: the same shape)."""
    try:
        state = tomllib.loads(data.decode()) if toml else json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        kind = "TOML" if toml else "JSON"
        raise InvalidFlags(f"The flag definitions are not valid {kind}.") from error
    validate(state)
    return state


def validate(state: object) -> None:
    try:
        definitions = msgspec.convert(state, Definitions)
    except msgspec.ValidationError as error:
        raise InvalidFlags(f"Invalid flag definitions: {describe(error)}") from None
    names = [feature.name for feature in definitions.features]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise InvalidFlags(f"Invalid flag definitions: feature {duplicate!r} is defined twice")
    known = {segment.id for segment in definitions.segments}
    for i, feature in enumerate(definitions.features):
        for j, strategy in enumerate(feature.strategies):
            missing = [s for s in strategy.segments if s not in known]
            if missing:
                raise InvalidFlags(
                    f"Invalid flag definitions: unknown segment {missing[0]} - at "
                    f"`$.features[{i}].strategies[{j}].segments`")


def etag(state: dict[str, Any]) -> str:
    """A strong ETag of the state's canonical JSON."""
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'


EMPTY: dict[str, Any] = {"version": 1, "features": [], "segments": []}
