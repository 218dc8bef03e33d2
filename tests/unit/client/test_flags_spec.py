"""client.flags against the Unleash client specification (npm @unleash/client-specification,
pinned in tests/interop/package.json): every ``tests`` and ``variantTests`` case of every
file whose ``state`` is client-features JSON, one pytest case each. Files 19 and 20 are
left out: their ``state`` is a list of delta-API events for an SDK's transport to apply,
not a state to evaluate. Then a few medpress cases the specification does not cover.

The loader here (``spec_cases``, ``evaluate``) is shared with tests/e2e/test_flags_pyodide.py,
which runs the same cases inside Pyodide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.flags import get_variant, is_enabled
from client.flags.regex import compile_pattern
from client.flags.variants import variant_weights

ROOT = Path(__file__).resolve().parents[3]
SPEC_PACKAGE = ROOT / "tests" / "interop" / "node_modules" / "@unleash" / "client-specification"
SPEC_DIR = SPEC_PACKAGE / "specifications"
SPEC_VERSION = "6.1.0"
DELTA_API_FILES = {"19-delta-api-hydration.json", "20-delta-api-events.json"}
MISSING = "the Unleash client specification is not installed: run `npm ci --prefix tests/interop`"


def spec_files() -> list[str]:
    """The specification's files that we run, in its own order (its index.json)."""
    index = json.loads((SPEC_DIR / "index.json").read_text(encoding="utf-8"))
    return [name for name in index if name not in DELTA_API_FILES]


def spec_cases() -> list[dict]:
    """Every case we run: ``{"id", "file", "kind" ("test" or "variant"), "state", "case"}``."""
    cases = []
    for name in spec_files():
        spec = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
        for kind, key in (("test", "tests"), ("variant", "variantTests")):
            for case in spec.get(key, []):
                words = "-".join(case["description"].split())
                cases.append({"id": f"{name[:2]}-{kind}-{words}", "file": name, "kind": kind,
                              "state": spec["state"], "case": case})
    return cases


def evaluate(kind: str, state: dict, case: dict):
    """What client.flags answers for one case: a boolean (test) or a variant dict (variant)."""
    if kind == "test":
        return is_enabled(state, case["toggleName"], case["context"])
    return get_variant(state, case["toggleName"], case["context"])


def _params() -> list:
    if not (SPEC_DIR / "index.json").is_file():
        return [pytest.param(None, id="specification-not-installed")]
    return [pytest.param(c, id=c["id"]) for c in spec_cases()]


@pytest.mark.parametrize("spec_case", _params())
def test_specification_case(spec_case: dict | None):
    assert spec_case is not None, MISSING
    case = spec_case["case"]
    result = evaluate(spec_case["kind"], spec_case["state"], case)
    assert result == case["expectedResult"], f"{spec_case['file']}: {case['description']}"


def test_the_pinned_specification_is_installed_and_fully_run():
    assert SPEC_DIR.is_dir(), MISSING
    version = json.loads((SPEC_PACKAGE / "package.json").read_text())["version"]
    assert version == SPEC_VERSION
    ran = sorted({c["file"][:2] for c in spec_cases()})
    # Every file but the two delta-API ones, including the random one (its 0 % and 100 %
    # rollouts are deterministic) and those the issue does not ask for (02-06, 17-18, 21-22).
    assert ran == [f"{n:02d}" for n in range(1, 23) if n not in (19, 20)]
    assert len(spec_cases()) == 275


# Beyond the specification: what medpress relies on.

STATE = {
    "version": 1,
    "features": [
        {"name": "kill_switch", "type": "kill-switch", "enabled": True,
         "strategies": [{"name": "default"}]},
        {"name": "webcodecs", "type": "release", "enabled": True,
         "strategies": [{"name": "flexibleRollout",
                         "parameters": {"rollout": "100", "stickiness": "default"},
                         "constraints": [
                             {"contextName": "cores", "operator": "NUM_GTE", "value": "4"},
                             {"contextName": "webcodecs", "operator": "IN", "values": ["true"]},
                             {"contextName": "browserVersion", "operator": "SEMVER_GTE",
                              "value": "120.0.0"}]}]},
        {"name": "switched_off_strategy", "enabled": True,
         "strategies": [{"name": "default", "disabled": True}]},
        {"name": "preset", "enabled": True, "strategies": [{"name": "default"}],
         "variants": [{"name": "fixed", "weight": 200, "weightType": "fix"},
                      {"name": "a"}, {"name": "b"}]},
    ],
}


def test_a_kill_switch_evaluates_like_any_feature():
    assert is_enabled(STATE, "kill_switch", {}) is True
    assert get_variant(STATE, "kill_switch", {}) == {
        "name": "disabled", "enabled": False, "feature_enabled": True}


@pytest.mark.parametrize(("cores", "webcodecs", "version", "on"), [
    (8, True, "124.0.0", True), (2, True, "124.0.0", False),
    (8, False, "124.0.0", False), (8, True, "119.0.1", False)])
def test_device_conditions_are_context_properties_of_any_type(cores, webcodecs, version, on):
    context = {"userId": "install-1",
               "properties": {"cores": cores, "webcodecs": webcodecs, "browserVersion": version}}
    assert is_enabled(STATE, "webcodecs", context) is on


def test_constraint_values_written_as_numbers_or_booleans_read_as_text():
    state = {"features": [{"name": "f", "enabled": True, "strategies": [{
        "name": "default", "constraints": [
            {"contextName": "cores", "operator": "NUM_GTE", "value": 4},
            {"contextName": "webcodecs", "operator": "IN", "values": [True]}]}]}]}
    assert is_enabled(state, "f", {"properties": {"cores": 4, "webcodecs": True}}) is True
    assert is_enabled(state, "f", {"properties": {"cores": "2", "webcodecs": "true"}}) is False


def test_a_disabled_strategy_is_never_on():
    assert is_enabled(STATE, "switched_off_strategy", {}) is False


def test_variants_without_weight_share_what_fixed_ones_leave():
    variants = STATE["features"][3]["variants"]
    assert variant_weights(variants) == [200, 400, 400]
    assert get_variant(STATE, "preset", {"userId": "x"})["name"] in {"fixed", "a", "b"}


def test_the_variant_choice_is_sticky_and_spread():
    names = [get_variant(STATE, "preset", {"userId": f"install-{n}"})["name"] for n in range(600)]
    assert names == [get_variant(STATE, "preset", {"userId": f"install-{n}"})["name"]
                     for n in range(600)]
    assert 60 < names.count("fixed") < 180 and names.count("a") > 180 and names.count("b") > 180


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("a(?i)b|c", "aB", True),  # an inline flag reaches the next alternative of its group
    ("a(?i)b|c", "C", True),
    ("(?i:a)b", "Ab", True),
    ("(?i:a)b", "AB", False),
    ("^abc$", "abc\n", False),  # $ is the very end, not "before a final newline"
    ("(?m)^b$", "a\nb\nc", True),
    ("^[[:digit:][:upper:]]+$", "A1", True),
    ("^[a|b]$", "|", True),
    ("(?<n>x)y", "xy", True),
    ("\\x{263A}", "\u263a", True),
])
def test_regex_dialect(pattern, text, matches):
    compiled = compile_pattern(pattern)
    assert compiled is not None
    assert (compiled.search(text) is not None) is matches


@pytest.mark.parametrize("pattern", [
    "(?=a)", "(?<!a)b", "(a)\\1", "a++", "(?>a)", "[a-z&&[^b]]", "[[:nope:]]", "(a", "a)",
    "\\p{Greek}"])
def test_regex_dialect_rejects(pattern):
    assert compile_pattern(pattern) is None
