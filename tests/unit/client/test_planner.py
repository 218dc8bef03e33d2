import math

import msgspec
import pytest

from client.core.capabilities import Capabilities, overrides_from_query
from client.core.ffmpeg_args import INPUT_PATH, OUTPUT_PATH, ffmpeg_args
from client.core.ffmpeg_log import encoded_seconds
from client.core.link import Uplink
from client.core.media import MediaInfo
from client.core.planner import (
    ENGINE_STARTUP_S,
    Limits,
    Plan,
    choose_bitrate,
    engine_order,
    estimate_seconds,
    fit_within,
    lighter,
    out_of_reach,
    plan,
    probe_bitrates,
    steer_aim,
)
from client.core.presets import PRESETS, gate_ssim
from client.core.rate import PRIOR_SLOPE, STEER_MARGIN, probe_windows

ISOLATED = Capabilities(cross_origin_isolated=True, cores=2, webcodecs=True)
HD = MediaInfo(1920, 1080, 10.0, fps=30.0, audio_codec="aac", browser_decodes=True)
PHONE_SIZE = 21_000_000  # 10 s at about 17 Mbit/s


@pytest.mark.parametrize(
    ("size", "limit", "expected"),
    [
        ((1920, 1080), 1280, (1280, 720)),
        ((1080, 1920), 1280, (720, 1280)),  # portrait keeps its orientation
        ((1280, 720), 1280, (1280, 720)),  # already within: untouched
        ((640, 360), 1280, (640, 360)),  # never upscaled
        ((1921, 1081), 1280, (1280, 720)),  # rounds to even
        ((3000, 2001), None, (3000, 2000)),  # no limit, still even
    ],
)
def test_fit_within(size, limit, expected):
    assert fit_within(*size, limit) == expected


@pytest.mark.parametrize(
    ("priority", "size", "reason"),
    [("emergency", PHONE_SIZE, "emergency"), ("routine", 900_000, "small-file"),
     ("routine", 4_000_000, "little-gain")],  # 3.2 Mbit/s is already about what we would make
)
def test_when_not_to_compress(priority, size, reason):
    p = plan(HD, size, ISOLATED, priority)
    assert p.action == "original" and p.reason == reason


def test_standard_plan_for_a_phone_video():
    p = plan(HD, PHONE_SIZE, ISOLATED, "routine")
    assert p.action == "compress" and p.preset == "medical-standard"
    assert (p.width, p.height) == (1280, 720)
    assert p.engines == ("webcodecs", "ffmpeg-mt")
    assert p.video_bitrate == round(0.10 * 1280 * 720 * 30)
    assert 0 < p.estimated_bytes < 0.25 * PHONE_SIZE
    assert p.estimated_seconds > 0 and p.budget_s == 120.0 and p.stall_s == 30.0


def test_budgets_by_priority():
    limits = Limits()
    assert plan(HD, PHONE_SIZE, ISOLATED, "urgent").budget_s == 30.0
    long = MediaInfo(1920, 1080, 60.0, audio_codec="aac", browser_decodes=True)
    assert limits.budget("urgent", 60.0) == 60.0
    assert plan(long, PHONE_SIZE * 6, ISOLATED, "routine").budget_s == 480.0


@pytest.mark.parametrize(
    ("media", "caps", "engines"),
    [
        (HD, ISOLATED, ("webcodecs", "ffmpeg-mt")),
        (HD, Capabilities(cross_origin_isolated=False, webcodecs=True), ("webcodecs", "ffmpeg")),
        (HD, Capabilities(cross_origin_isolated=True, webcodecs=False), ("ffmpeg-mt",)),
        # Opus or MP3 audio: WebCodecs cannot write AAC and must not drop the track.
        (MediaInfo(1920, 1080, 10.0, audio_codec="opus", browser_decodes=True), ISOLATED, ("ffmpeg-mt",)),
        (MediaInfo(1920, 1080, 10.0, browser_decodes=False), ISOLATED, ("ffmpeg-mt",)),
        (MediaInfo(1920, 1080, 10.0, browser_decodes=True), ISOLATED, ("webcodecs", "ffmpeg-mt")),
        (HD, Capabilities(cross_origin_isolated=True, webcodecs=True, forced_engine="ffmpeg"), ("ffmpeg",)),
    ],
)
def test_engine_order(media, caps, engines):
    assert engine_order(media, caps) == engines


def test_threads_capped():
    assert Capabilities(cross_origin_isolated=True, cores=16).ffmpeg_threads == 4
    assert Capabilities(cross_origin_isolated=True, cores=0).ffmpeg_threads == 1
    assert Capabilities(cross_origin_isolated=False, cores=8).ffmpeg_threads == 1


def test_lighter_walks_down_the_presets():
    high = plan(HD, PHONE_SIZE, ISOLATED, "routine", "medical-high")
    chain = [high.preset]
    step = high
    while (step := lighter(step, HD, PHONE_SIZE, ISOLATED, "routine", Limits())) is not None:
        chain.append(step.preset)
    assert chain == ["medical-high", "medical-standard", "mobile-fast"]
    assert [PRESETS[n].min_ssim for n in chain] == [0.98, 0.97, 0.95]


def test_ffmpeg_args_scale_threads_and_strip_metadata():
    args = ffmpeg_args(plan(HD, PHONE_SIZE, ISOLATED, "routine"))
    # -threads both before the input and before the output (the threaded core needs both)
    assert args.index("-threads") < args.index("-i")
    assert args[-3:] == ["-threads", "2", OUTPUT_PATH]
    assert args[args.index("-i") + 1] == INPUT_PATH
    assert "scale=1280:720:flags=bicubic,format=yuv420p" in args
    assert args[args.index("-map_metadata") + 1] == "-1"
    assert args[args.index("-crf") + 1] == "23"
    assert "libx264" in args and "aac" in args


def test_original_plan_has_no_args():
    with pytest.raises(ValueError):
        ffmpeg_args(Plan(action="original", reason="emergency"))


@pytest.mark.parametrize(
    ("query", "engine", "stall"),
    [("?engine=ffmpeg&stall=2", "ffmpeg", 2.0), ("?engine=gpu&stall=abc", None, None),
     ("", None, None), ("?stall=-1", None, None), ("?stall=nan", None, None)],
)
def test_overrides_from_query(query, engine, stall):
    o = overrides_from_query(query)
    assert (o.engine, o.stall_s) == (engine, stall)


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ("frame=  120 fps= 30 q=28.0 size=  512kB time=00:00:04.00 bitrate= 1048.6kbits/s", 4.0),
        ("size=N/A time=01:02:03.50 bitrate=N/A speed=1.2x", 3723.5),
        ("frame=0 fps=0.0 q=0.0 size=0kB time=-577014:32:22.77 bitrate=-0.0kbits/s", None),
        ("Stream #0:0: Video: h264", None),
    ],
)
def test_encoded_seconds(line, seconds):
    assert encoded_seconds(line) == seconds


def test_the_browser_encoder_is_probed_around_the_presets_bitrate_on_half_second_windows():
    ten = plan(HD, 20_000_000, ISOLATED, "routine")
    preset_rate = round(PRESETS["medical-standard"].bits_per_pixel * 1280 * 720 * 30)
    assert ten.video_bitrate == preset_rate
    assert probe_bitrates(ten) == (round(preset_rate * 0.3), round(preset_rate * 0.6), round(preset_rate * 1.2))
    assert ten.webcodecs_windows == probe_windows(10.0, None, length_s=0.5)  # keyframes unknown: the middles
    assert {w.length for w in ten.webcodecs_windows} == {0.5}
    short = plan(MediaInfo(1920, 1080, 1.5, fps=30.0), 20_000_000, ISOLATED, "routine")
    assert probe_bitrates(short) == ()  # too short to probe: the preset's own bitrate


def test_the_encode_steers_just_above_the_gate_with_the_probes_slope():
    ten = plan(HD, 20_000_000, ISOLATED, "routine")
    low, mid, high = probe_bitrates(ten)
    aim = steer_aim(ten, [(low, 0.955), (mid, None), (high, 0.9754)])  # a refused bitrate is left out
    assert aim.goal == gate_ssim("medical-standard") + STEER_MARGIN
    assert aim.slope == pytest.approx(0.0204 / math.log(high / low))
    assert (aim.lowest, aim.highest) == (round(ten.video_bitrate * 0.15), round(ten.video_bitrate * 2.5))
    assert steer_aim(ten, []).slope == PRIOR_SLOPE  # no probe (a resumed output): the prior


def test_the_browser_encoders_windows_lie_on_keyframes_not_after_frames_decoded_in_vain():
    # the benchmark's phone-like clip: keyframes at 0 and 8.33 s only
    sparse = msgspec.structs.replace(HD, keyframes=(0.0, 8.333))
    phone = plan(sparse, PHONE_SIZE, ISOLATED, "routine")
    assert phone.windows[0].start == 1.5  # x264's first window: 1.5 s after its keyframe
    assert [(w.start, w.length) for w in phone.webcodecs_windows] == [(8.343, 0.5)]
    # keyframes every second (as phones write them): one window in each third, on a keyframe
    dense = msgspec.structs.replace(HD, keyframes=tuple(float(k) for k in range(10)))
    assert [w.start for w in plan(dense, PHONE_SIZE, ISOLATED, "routine").webcodecs_windows] == [1.01, 5.01, 8.01]


def test_the_least_bitrate_predicted_to_clear_floor_and_margin_is_chosen():
    ten = plan(HD, 20_000_000, ISOLATED, "routine")
    low, mid, high = probe_bitrates(ten)
    # the target (0.97 + 0.005, + 0.004 as the probe may read high) lies between the two
    # cheaper samples: interpolated in log(bitrate)
    choice = choose_bitrate(ten, [(low, 0.969), (mid, 0.989), (high, 0.99)])
    assert choice.how == "interpolated" and low < choice.setting < mid
    assert choice.setting == pytest.approx(low * (mid / low) ** 0.5, rel=0.01)
    # a refused bitrate (None) is left out; none measured: the plan's own
    assert choose_bitrate(ten, [(low, None), (mid, 0.989), (high, 0.99)]).setting < mid
    assert choose_bitrate(ten, [(low, None)]).setting == ten.video_bitrate
    # even the most bits sampled fall short: at most 2.5x the preset's rate, a best effort
    hopeless = choose_bitrate(ten, [(low, 0.90), (mid, 0.91), (high, 0.92)])
    assert hopeless.how == "best-bound" and hopeless.setting == round(ten.video_bitrate * 2.5)
    # …which rules the engine out only when clearly below the gate (the probe reads low)
    assert out_of_reach(ten, hopeless)
    close = choose_bitrate(ten, [(low, 0.964), (mid, 0.965), (high, 0.966)])
    assert close.how == "best-bound" and not out_of_reach(ten, close)
    assert not out_of_reach(ten, choice) and not out_of_reach(ten, choose_bitrate(ten, []))


def test_the_time_estimate_counts_the_rate_probe():
    ten = plan(HD, 20_000_000, ISOLATED, "routine")
    bare = estimate_seconds(HD, "webcodecs")
    # three settings of half-second windows: 4.5 s of video on top of the clip's 10 s
    assert len(ten.windows) == 3 and ten.estimated_seconds == pytest.approx(
        ENGINE_STARTUP_S["webcodecs"] + (bare - ENGINE_STARTUP_S["webcodecs"]) * 14.5 / 10, abs=0.05)


# The link decides which engine goes first (client.core.link; planner.by_arrival).
@pytest.mark.parametrize(("mbps", "first"), [(0.25, "ffmpeg-mt"), (0.5, "ffmpeg-mt"), (2.0, "webcodecs"),
                                             (20.0, "webcodecs")])
def test_a_slow_link_puts_the_smaller_output_first(mbps, first):
    link = Uplink(bps=mbps * 1e6, source="measured")
    p = plan(HD, PHONE_SIZE, ISOLATED, "routine", link=link)
    assert p.engines[0] == first and set(p.engines) == {"webcodecs", "ffmpeg-mt"}
    assert p.uplink == link
    # The estimate shown is the first engine's: its compression, then its output sent.
    assert p.arrival_s == pytest.approx(p.estimated_seconds + 8 * p.estimated_bytes / link.bps, abs=0.1)
    other = plan(HD, PHONE_SIZE, ISOLATED, "routine")  # assumed link: the quick engine
    assert other.engines[0] == "webcodecs" and other.uplink.source == "assumed"
    if first == "ffmpeg-mt":
        assert p.estimated_bytes < other.estimated_bytes and p.estimated_seconds > other.estimated_seconds


def test_the_order_minimises_the_estimated_arrival():
    link = Uplink(bps=500_000, source="measured")
    chosen = plan(HD, PHONE_SIZE, ISOLATED, "routine", link=link)
    forced = plan(HD, PHONE_SIZE, Capabilities(cross_origin_isolated=True, cores=2, webcodecs=True,
                                                forced_engine="webcodecs"), "routine", link=link)
    assert chosen.arrival_s < forced.arrival_s


def test_an_engine_over_the_time_budget_never_goes_first():
    slow_link = Uplink(bps=100_000, source="measured")  # x264's smaller output would arrive sooner…
    long = MediaInfo(1920, 1080, 30.0, fps=30.0, audio_codec="aac", browser_decodes=True)
    urgent = plan(long, 3 * PHONE_SIZE, ISOLATED, "urgent", link=slow_link)
    assert estimate_seconds(long, "ffmpeg-mt", urgent.windows) > urgent.budget_s  # …but misses the 30 s
    assert urgent.engines[0] == "webcodecs"
    assert plan(long, 3 * PHONE_SIZE, ISOLATED, "routine", link=slow_link).engines[0] == "ffmpeg-mt"


def test_a_lighter_retry_keeps_the_link():
    link = Uplink(bps=500_000, source="measured")
    retry = lighter(plan(HD, PHONE_SIZE, ISOLATED, "routine", link=link), HD, PHONE_SIZE, ISOLATED,
                    "routine", Limits())
    assert retry is not None and retry.preset == "mobile-fast" and retry.uplink == link
