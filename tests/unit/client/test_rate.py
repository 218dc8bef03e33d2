import math

import pytest

from client.core.rate import (
    BITRATE_REACH,
    CRF_REACH,
    KEYFRAME_LEAD_S,
    MIN_PROBE_S,
    PRIOR_SLOPE,
    SLOPE_BOUNDS,
    STEER_STEP,
    STEER_SWING,
    WINDOW_S,
    Aim,
    Window,
    highest_crf,
    least_bitrate,
    probe_windows,
    sampled_slope,
    steered_bitrate,
    whole,
)

# medical-standard: floor 0.97 + margin 0.005; x264's CRF from 14 (best) to 32 (cheapest)
TARGET = 0.975
LOW, HIGH = 14.0, 32.0
# Measured on the benchmark's phone-like clip (1080p → 720p): SSIM falls as CRF rises.
PHONE = [(19.0, 0.9849), (23.0, 0.9799), (27.0, 0.9724)]


def test_interpolates_between_the_nearest_samples():
    choice = highest_crf(PHONE, TARGET, LOW, HIGH)
    exact = 23 + (0.9799 - TARGET) / (0.9799 - 0.9724) * 4  # 25.61…
    assert choice.how == "interpolated"
    assert choice.setting == 25.5  # rounded down to half a step: the safe side
    assert choice.setting <= exact < choice.setting + 0.5


def test_the_order_of_samples_does_not_matter():
    assert highest_crf(PHONE[::-1], TARGET, LOW, HIGH) == highest_crf(PHONE, TARGET, LOW, HIGH)


def test_a_sample_exactly_at_the_target_is_chosen():
    choice = highest_crf([(19.0, 0.985), (23.0, TARGET), (27.0, 0.96)], TARGET, LOW, HIGH)
    assert (choice.setting, choice.how) == (23.0, "interpolated")


def test_every_sample_above_extrapolates_towards_cheaper_no_further_than_reach():
    easy = [(19.0, 0.9973), (23.0, 0.9940), (27.0, 0.9882)]  # the test pattern
    choice = highest_crf(easy, TARGET, LOW, HIGH)
    assert (choice.setting, choice.how) == (27.0 + CRF_REACH, "extrapolated")
    assert choice.predicted == pytest.approx(0.9882 - (0.9940 - 0.9882) / 4 * CRF_REACH)
    # just above the target: the line through the cheapest pair, within reach
    near = highest_crf([(23.0, 0.9900), (27.0, 0.9770)], TARGET, LOW, HIGH)
    assert near.setting == 27.5 and near.how == "extrapolated"  # 27 + 0.002 / 0.00325 = 27.6


def test_every_sample_far_above_stops_at_the_cheapest_bound():
    choice = highest_crf([(27.0, 0.999), (31.0, 0.998)], TARGET, LOW, HIGH)
    assert (choice.setting, choice.how) == (HIGH, "cheapest-bound")


def test_no_sample_reaching_extrapolates_towards_quality_within_reach():
    hard = [(19.0, 0.9720), (23.0, 0.9600), (27.0, 0.9500)]
    choice = highest_crf(hard, TARGET, LOW, HIGH)
    assert choice.how == "extrapolated" and choice.setting == 18.0  # 19 - 0.003 / 0.003 per CRF
    assert choice.predicted == TARGET


def test_no_sample_reaching_and_too_far_to_extrapolate_takes_the_best_bound():
    noise = [(19.0, 0.928), (23.0, 0.897), (27.0, 0.894)]  # needs ~6 CRF more than measured
    choice = highest_crf(noise, TARGET, LOW, HIGH)
    assert (choice.setting, choice.how) == (LOW, "best-bound")
    flat = highest_crf([(19.0, 0.95), (23.0, 0.95)], TARGET, LOW, HIGH)  # quality does not move
    assert (flat.setting, flat.how) == (LOW, "best-bound")


def test_noisy_samples_are_made_monotone_conservatively():
    # 23 measured better than 19 (cannot be): 23 is taken to be no better than 19, so neither
    # reaches the target, and the flat pair gives no slope to extrapolate with
    inverted = [(19.0, 0.9740), (23.0, 0.9760), (27.0, 0.9700)]
    assert highest_crf(inverted, TARGET, LOW, HIGH).how == "best-bound"
    assert highest_crf(inverted, 0.9735, LOW, HIGH).setting == 23.5  # 0.974 at 23, 0.970 at 27
    assert highest_crf([(23.0, 0.98), (23.0, 0.96)], TARGET, LOW, HIGH).how == "best-bound"  # the worse of two


def test_a_single_sample():
    assert highest_crf([(23.0, 0.98)], TARGET, LOW, HIGH).setting == 23.0
    assert highest_crf([(23.0, 0.97)], TARGET, LOW, HIGH).how == "best-bound"
    assert highest_crf([], TARGET, LOW, HIGH).setting == LOW


@pytest.mark.parametrize("samples", [PHONE, [(19.0, 0.999), (23.0, 0.998)], [(19.0, 0.90), (23.0, 0.85)]])
def test_always_within_bounds(samples):
    assert LOW <= highest_crf(samples, TARGET, LOW, HIGH).setting <= HIGH


# WebCodecs: SSIM linear in log(bitrate); bits/s from 0.5 to 8 Mbit/s.
RATES = [(1_000_000, 0.966), (2_000_000, 0.976), (4_000_000, 0.984)]


def test_least_bitrate_interpolates_in_log_bitrate():
    choice = least_bitrate(RATES, 0.971, 500_000, 8_000_000)
    assert choice.how == "interpolated"
    assert choice.setting == pytest.approx(math.sqrt(2) * 1_000_000, abs=1)  # halfway in log
    assert choice.setting >= 1_414_213  # rounded up: the safe side


def test_least_bitrate_extrapolates_at_most_a_factor_of_two():
    cheap = least_bitrate(RATES, 0.90, 100_000, 8_000_000)
    assert (cheap.setting, cheap.how) == (pytest.approx(1_000_000 / math.exp(BITRATE_REACH), abs=1), "extrapolated")
    rich = least_bitrate(RATES, 0.988, 500_000, 16_000_000)  # 0.004 past 4 Mbit/s at 0.008 a doubling
    assert rich.how == "extrapolated" and rich.setting == pytest.approx(4_000_000 * math.sqrt(2), abs=1)
    assert least_bitrate(RATES, 0.999, 500_000, 16_000_000).how == "best-bound"
    assert least_bitrate(RATES, 0.999, 500_000, 16_000_000).setting == 16_000_000
    assert least_bitrate(RATES, 0.90, 900_000, 8_000_000).how == "cheapest-bound"


def test_windows_spread_over_the_clip_one_per_part():
    windows = probe_windows(30.0)
    assert len(windows) == 3 and all(w.length == pytest.approx(WINDOW_S, abs=0.001) for w in windows)
    middles = [w.start + w.length / 2 for w in windows]
    assert middles == pytest.approx([5.0, 15.0, 25.0], abs=0.01)  # not just the first seconds


def test_windows_start_at_the_keyframe_nearest_each_middle():
    keyframes = [float(k) for k in range(0, 30, 2)]  # every 2 s
    windows = probe_windows(30.0, keyframes)
    assert [w.start for w in windows] == [4 + KEYFRAME_LEAD_S, 14 + KEYFRAME_LEAD_S, 24 + KEYFRAME_LEAD_S]


def test_sparse_keyframes_move_a_window_rather_than_decode_seconds_in_vain():
    # x264's default interval: keyframes at 0 and 8.33 s only in a 10 s clip. The middle part
    # has none: its window would decode 4.8 s for nothing, so it goes to 8.33 s and counts once;
    # the first stays at its middle, 1.5 s after the keyframe at 0 (MAX_LEAD_S).
    assert [w.start for w in probe_windows(10.0, [0.0, 8.333])] == [1.5, 8.343]
    # one window, centre 1.83: the keyframe at 1.5 is in its part, the nearest
    assert [w.start for w in probe_windows(4.0, [0.0, 1.5])] == [1.51]
    # no keyframe a window could start at: the middles, whatever they cost to decode
    assert [w.start for w in probe_windows(10.0, [0.0, 9.9])] == [1.5, 4.833, 8.167]


def test_no_window_starts_in_the_first_second():
    # its frames are unlike the rest (exposure settling, an encoder warming up)
    assert [w.start for w in probe_windows(3.0, [0.0, 1.0])] == [1.01]
    assert [w.start for w in probe_windows(9.0, [0.0, 0.5, 3.0, 6.0])] == [1.333, 3.01, 6.01]
    assert all(w.start >= 1.0 for w in probe_windows(60.0, [float(k) for k in range(60)]))


def test_unknown_keyframes_leave_the_windows_at_the_middles():
    assert [w.start for w in probe_windows(10.0)] == [1.5, 4.833, 8.167]


def test_windows_never_overlap_or_run_past_the_end():
    for duration in (2.0, 3.0, 5.9, 6.0, 10.0, 61.7):
        for keyframes in (None, [duration - 0.05], [i * 0.5 for i in range(int(duration * 2))]):
            windows = probe_windows(duration, keyframes)
            ends = [w.start + w.length for w in windows]
            assert all(end <= duration for end in ends)
            assert all(b.start >= a_end for a_end, b in zip(ends, windows[1:], strict=False))


def test_short_clips_get_fewer_windows_and_the_shortest_none():
    assert len(probe_windows(4.0)) == 1
    assert len(probe_windows(7.0)) == 2
    assert len(probe_windows(9.0)) == 3
    assert probe_windows(MIN_PROBE_S - 0.1) == ()
    assert whole(1.5) == (Window(0.0, 1.5),)


# ---------------------------------------------------------------- steering ----------------

# medical-standard's gate 0.973 plus the steering margin; the phone-like clip's slope.
AIM = Aim(goal=0.9745, slope=0.02, lowest=400_000, highest=7_000_000)


def test_an_interval_above_the_goal_lowers_the_next_ones_bitrate_along_the_slope():
    # 3.54 Mbit/s read 0.9783 on the phone-like clip; 1.90 read 0.9655, 2.44 about 0.9745
    rate = steered_bitrate(AIM, 3_540_000, 0.9783, mean=0.9745, done=0.4)
    assert rate == math.ceil(3_540_000 * math.exp((0.9745 - 0.9783) / 0.02))  # 2.93 Mbit/s


def test_an_interval_below_the_goal_raises_it():
    assert steered_bitrate(AIM, 2_000_000, 0.9700, mean=0.9745, done=0.4) > 2_000_000


def test_the_rest_of_the_clip_makes_up_for_what_was_measured_below_the_goal():
    on_goal = steered_bitrate(AIM, 3_000_000, 0.9745, mean=0.9745, done=0.5)
    behind = steered_bitrate(AIM, 3_000_000, 0.9745, mean=0.9735, done=0.5)
    ahead = steered_bitrate(AIM, 3_000_000, 0.9745, mean=0.9755, done=0.5)
    assert on_goal == 3_000_000  # on the goal, on the goal so far: no change
    # half the clip 0.001 behind: the other half aims 0.001 above the goal
    assert behind == math.ceil(3_000_000 * math.exp(0.001 / 0.02))
    assert ahead == math.ceil(3_000_000 * math.exp(-0.001 / 0.02))


def test_making_up_is_bounded_near_the_end_of_a_clip():
    # 95 % done and 0.002 behind would ask 0.038 more of the last 5 %: at most STEER_SWING
    rate = steered_bitrate(AIM, 3_000_000, 0.9745, mean=0.9725, done=0.95)
    assert rate == math.ceil(3_000_000 * math.exp(STEER_SWING / 0.02))


def test_a_step_is_bounded_and_so_is_the_bitrate():
    assert steered_bitrate(AIM, 3_000_000, 0.90, mean=0.90, done=0.2) == math.ceil(3_000_000 * STEER_STEP)
    assert steered_bitrate(AIM, 3_000_000, 0.999, mean=0.999, done=0.2) == math.ceil(3_000_000 / STEER_STEP)
    assert steered_bitrate(AIM, 6_000_000, 0.95, mean=0.95, done=0.2) == AIM.highest
    assert steered_bitrate(AIM, 500_000, 0.999, mean=0.999, done=0.2) == AIM.lowest


def test_small_changes_are_not_made():
    # 0.0005 above the goal: 2.5 % less, under the deadband (each change restarts the rate control)
    assert steered_bitrate(AIM, 3_000_000, 0.9750, mean=0.9745, done=0.3) == 3_000_000


def test_the_slope_comes_from_the_probe_within_bounds():
    samples = [(1_000_000, 0.950), (2_000_000, 0.964), (4_000_000, 0.978)]
    assert sampled_slope(samples) == pytest.approx(0.014 / math.log(2))
    assert sampled_slope(samples[:1]) == PRIOR_SLOPE  # one sample has no slope
    assert sampled_slope([]) == PRIOR_SLOPE
    flat = [(1_000_000, 0.97), (2_000_000, 0.97)]
    assert sampled_slope(flat) == SLOPE_BOUNDS[0]  # flat (or inverted, once made monotone)
    steep = [(1_000_000, 0.80), (2_000_000, 0.97)]
    assert sampled_slope(steep) == SLOPE_BOUNDS[1]
