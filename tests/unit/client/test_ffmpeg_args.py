"""The x264 rate probe's command lines, the SSIM lines they log, and the CRF chosen from them."""

import math

import pytest

from client.core.capabilities import Capabilities
from client.core.ffmpeg_args import (
    INPUT_PATH,
    OUTPUT_PATH,
    REFERENCE_PATH,
    check_args,
    ffmpeg_args,
    keeps_reference,
    probe_encode_args,
    probe_measure_args,
    probe_path,
)
from client.core.ffmpeg_log import ssim_scores
from client.core.media import MediaInfo
from client.core.planner import choose_crf, plan, probe_crfs
from client.core.rate import Window, whole

CAPS = Capabilities(cross_origin_isolated=True, cores=2, webcodecs=True)
HD = MediaInfo(1920, 1080, 10.0, fps=30.0, audio_codec="aac", browser_decodes=True, keyframes=(0.0, 2.0, 4.0, 6.0, 8.0))
PLAN = plan(HD, 21_000_000, CAPS, "routine")
SCALE = "scale=1280:720:flags=bicubic,format=yuv420p"


def values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == option]


def test_the_plan_carries_the_probe():
    assert PLAN.duration == 10.0 and PLAN.crf == 23
    assert PLAN.windows == (Window(2.01, 0.333), Window(4.01, 0.333), Window(8.01, 0.333))
    assert probe_crfs(PLAN) == (19.0, 23.0, 27.0)
    short = plan(MediaInfo(1920, 1080, 1.5, audio_codec="aac"), 4_000_000, CAPS, "routine")
    assert short.windows == () and probe_crfs(short) == ()


def test_the_encode_runs_at_the_chosen_crf():
    assert values(ffmpeg_args(PLAN), "-crf") == ["23"]
    assert values(ffmpeg_args(PLAN, 25.5), "-crf") == ["25.5"]


def test_probe_encode_seeks_to_each_window_scales_as_the_encode_and_encodes_each_crf():
    args = probe_encode_args(PLAN, PLAN.windows, (19.0, 23.0, 27.0))
    assert values(args, "-ss") == ["2.010", "4.010", "8.010"]
    assert values(args, "-t") == ["0.333"] * 3
    assert values(args, "-i") == [INPUT_PATH] * 3  # the mounted input, never a copy
    graph = values(args, "-filter_complex")[0]
    assert graph.startswith("[0:v:0][1:v:0][2:v:0]concat=n=3:v=1:a=0,")
    assert SCALE in graph and SCALE in ffmpeg_args(PLAN)  # the very scaling of the encode
    assert values(args, "-crf") == ["19", "23", "27"]
    assert values(args, "-preset") == ["veryfast"] * 3 and "-an" in args
    assert [a for a in args if a.startswith("/")][-4:] == [probe_path(0), probe_path(1), probe_path(2), REFERENCE_PATH]


def test_every_input_and_output_has_the_encodes_thread_count():
    """The threaded core crashes unless -threads comes before each input and each output."""
    for args in (probe_encode_args(PLAN, PLAN.windows, (19.0, 23.0, 27.0)),
                 probe_measure_args(PLAN, PLAN.windows, 3), check_args(PLAN, PLAN.windows, probed=True),
                 check_args(PLAN, whole(10.0), probed=False)):
        for i, arg in enumerate(args):
            if arg == "-i" or (arg.startswith("/") and args[i - 1] != "-i") or arg == "-":
                before = args[:i][::-1]
                option = before.index("-threads")
                assert before[option - 1] == "2", (arg, args)
                assert "-i" not in before[:option], (arg, args)  # its own, not the previous one's


def test_probe_measure_compares_each_sample_with_the_kept_reference():
    args = probe_measure_args(PLAN, PLAN.windows, 3)
    assert values(args, "-i") == [probe_path(0), probe_path(1), probe_path(2), REFERENCE_PATH]
    assert "-ss" not in args  # the source is not decoded again
    graph = values(args, "-filter_complex")[0]
    assert [f"ssim@s{i}" in graph for i in range(3)] == [True] * 3
    assert values(args, "-f") == ["null"] * 3


def test_the_check_measures_the_output_on_the_probe_windows():
    args = check_args(PLAN, PLAN.windows, probed=True)
    assert values(args, "-i") == [OUTPUT_PATH] * 3 + [REFERENCE_PATH]
    assert values(args, "-ss") == ["2.010", "4.010", "8.010"]
    assert "ssim@s0" in values(args, "-filter_complex")[0]


def test_without_a_probe_the_check_measures_the_whole_output_against_the_source():
    args = check_args(PLAN, whole(1.5), probed=False)
    assert values(args, "-i") == [OUTPUT_PATH, INPUT_PATH]
    assert values(args, "-t") == ["1.500", "1.500"]
    assert SCALE in values(args, "-filter_complex")[0]


def test_a_large_reference_is_not_kept_the_source_is_cut_again():
    uhd = plan(MediaInfo(3840, 2160, 10.0, fps=60.0, audio_codec="aac"), 200_000_000, CAPS, "routine",
                "medical-high")
    assert (uhd.width, uhd.height) == (3840, 2160) and not keeps_reference(uhd, uhd.windows)
    encode = probe_encode_args(uhd, uhd.windows, probe_crfs(uhd))
    assert REFERENCE_PATH not in encode and "split=3" in values(encode, "-filter_complex")[0]
    measure = probe_measure_args(uhd, uhd.windows, 3)
    assert values(measure, "-i").count(INPUT_PATH) == 3
    assert "scale=3840:2160" in values(measure, "-filter_complex")[0]
    assert REFERENCE_PATH not in check_args(uhd, uhd.windows, probed=True)
    assert keeps_reference(PLAN, PLAN.windows)  # 720p: 30 frames, 41 MB


LOG = [
    "[ssim@s2 @ 0x5612a0] SSIM Y:0.984854 (18.196912) U:0.990433 (20.192136) V:0.994753 (22.800867) All:0.987433 (19.007812)",
    "[ssim@s1 @ 0x5612b0] SSIM Y:0.991140 (20.525906) U:0.994500 (22.596223) V:0.996835 (24.995811) All:0.992649 (21.336779)",
    "[ssim@s0 @ 0x5612c0] SSIM Y:0.995755 (23.721570) U:0.996978 (25.197316) V:0.998171 (27.378596) All:0.996362 (24.391144)",
    "frame=   30 fps=0.0 q=-0.0 Lsize=N/A time=00:00:01.00 bitrate=N/A speed=2.45x",
]


def test_ssim_lines_are_read_by_filter_number_whatever_their_order():
    # ffmpeg logs them as its filters close, last first; All: luma and chroma, as the floors
    assert ssim_scores(LOG) == {0: 0.996362, 1: 0.992649, 2: 0.987433}
    assert ssim_scores("\n".join(LOG)) == ssim_scores(LOG)
    assert ssim_scores(["[Parsed_ssim_4 @ 0x1] SSIM Y:0.9 (1) U:0.9 (1) V:0.9 (1) All:0.9 (1)"]) == {}


def test_the_crf_is_chosen_from_the_measured_samples():
    crfs = probe_crfs(PLAN)
    choice = choose_crf(PLAN, crfs, {0: 0.9849, 1: 0.9799, 2: 0.9724})
    assert (choice.setting, choice.how) == (25.5, "interpolated")
    partial = choose_crf(PLAN, crfs, {0: 0.99})  # one sample survived
    assert partial.setting == 19.0
    fixed = choose_crf(PLAN, crfs, {})  # the probe failed: the preset's own
    assert (fixed.setting, fixed.how) == (23, "fixed") and math.isnan(fixed.predicted)


@pytest.mark.parametrize(("preset", "crfs"), [("medical-high", (16.0, 20.0, 24.0)),
                                              ("mobile-fast", (22.0, 26.0, 30.0))])
def test_probe_crfs_follow_the_preset(preset, crfs):
    assert probe_crfs(plan(HD, 21_000_000, CAPS, "routine", preset)) == crfs
