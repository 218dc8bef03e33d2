import pytest

from client.core.link import ASSUMED, MIN_BYTES, RECENT_S, Sample, uplink


def test_recent_patches_measure_the_link_weighted_by_bytes():
    samples = [Sample(sent=1_000_000, seconds=4.0, at=10.0), Sample(sent=3_000_000, seconds=4.0, at=20.0)]
    measured = uplink(samples, now=30.0)
    assert measured.source == "measured"
    assert measured.bps == pytest.approx(8 * 4_000_000 / 8.0)  # 4 Mbit/s: not the mean of 2 and 6


def test_only_the_newest_recent_samples_count():
    old = Sample(sent=10_000_000, seconds=1.0, at=0.0)  # fast, but from before the device moved
    newer = [Sample(sent=500_000, seconds=8.0, at=RECENT_S + 10.0 + i) for i in range(10)]
    measured = uplink([old, *newer], now=RECENT_S + 30.0)
    assert measured.bps == pytest.approx(500_000)  # 8 × 500 kB / 8 s each; the old one left out


def test_too_few_bytes_measure_latency_so_they_are_not_believed():
    tiny = [Sample(sent=MIN_BYTES // 4, seconds=0.5, at=1.0)]
    assert uplink(tiny, now=2.0) == ASSUMED


@pytest.mark.parametrize(("browser_mbps", "expected"), [
    (0.4, (400_000, "browser")),  # the browser says it is slow: believed
    (1.45, (ASSUMED.bps, "assumed")),  # Chromium's default with nothing observed: not a measurement
    (None, (ASSUMED.bps, "assumed")),
])
def test_without_measurements_the_browser_is_believed_only_when_it_says_slow(browser_mbps, expected):
    link = uplink([], now=0.0, browser_mbps=browser_mbps)
    assert (link.bps, link.source) == expected


def test_measurements_win_over_the_browser():
    samples = [Sample(sent=2_000_000, seconds=1.0, at=1.0)]
    assert uplink(samples, now=2.0, browser_mbps=0.4).source == "measured"
