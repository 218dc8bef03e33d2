"""The device policy: battery, visibility, freezing and the network decide what may run."""

import pytest

from client.core.device import DeviceState, Directives, directives, preset_for


@pytest.mark.parametrize(
    ("level", "charging", "lighter", "one_worker", "originals", "notice"),
    [
        (0.80, False, False, False, False, None),
        (0.20, False, True, True, False, "low-battery"),  # 20 %, discharging
        (0.08, False, True, True, True, "critical-battery"),  # 8 %: offer the originals
        (0.08, True, False, False, False, None),  # charging lifts both
        (None, None, False, False, False, None),  # a browser that does not say
    ],
)
def test_battery(level, charging, lighter, one_worker, originals, notice) -> None:  # type: ignore[no-untyped-def]
    given = directives(DeviceState(battery_level=level, charging=charging))
    assert (given.lighter_preset, given.one_worker, given.offer_originals) == (
        lighter,
        one_worker,
        originals,
    )
    assert given.notices == ((notice,) if notice else ())


def test_a_hidden_page_keeps_uploading_and_compresses_for_a_grace_period() -> None:
    briefly = directives(DeviceState(visible=False, hidden_for_s=10))
    assert not briefly.pause_compression and not briefly.pause_uploads
    long = directives(DeviceState(visible=False, hidden_for_s=31))
    assert long.pause_compression and not long.pause_uploads and long.notices == ("paused-hidden",)
    assert not directives(
        DeviceState(visible=False, hidden_for_s=31), hidden_grace_s=60
    ).pause_compression
    assert directives(DeviceState(visible=True, hidden_for_s=99)) == Directives()


def test_frozen_waits_for_everything_and_offline_pauses_uploads() -> None:
    frozen = directives(DeviceState(frozen=True, visible=False, hidden_for_s=600))
    assert (
        frozen.pause_compression and frozen.pause_uploads and "paused-hidden" not in frozen.notices
    )
    offline = directives(DeviceState(online=False))
    assert (
        offline.pause_uploads and not offline.pause_compression and offline.notices == ("offline",)
    )


@pytest.mark.parametrize(
    ("kind", "save_data", "lighter"),
    [
        ("4g", False, False),
        ("3g", False, False),
        ("2g", False, True),
        ("slow-2g", False, True),
        ("4g", True, True),
    ],
)
def test_slow_or_metered_networks_prefer_the_lighter_preset(kind, save_data, lighter) -> None:  # type: ignore[no-untyped-def]
    given = directives(DeviceState(effective_type=kind, save_data=save_data))
    assert given.lighter_preset is lighter and not given.one_worker


def test_the_lighter_preset_is_one_step_down() -> None:
    lighter = Directives(lighter_preset=True)
    assert preset_for("medical-high", lighter) == "medical-standard"
    assert preset_for("medical-standard", lighter) == "mobile-fast"
    assert preset_for("mobile-fast", lighter) == "mobile-fast"  # nothing lighter
    assert preset_for("medical-high", Directives()) == "medical-high"
