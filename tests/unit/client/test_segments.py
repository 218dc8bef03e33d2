"""x264 in segments: where its runs begin, which clips can be streamed that way, and one run's
command line."""

import itertools

import pytest

from client.core.capabilities import Capabilities
from client.core.ffmpeg_args import (
    FRAMES,
    INPUT_PATH,
    SEEK,
    SEGMENT_PATH,
    ffmpeg_args,
    resumed_crf,
    segment_args,
)
from client.core.media import MediaInfo
from client.core.planner import plan
from client.core.segments import LONGEST_S, SHORTEST_S, segment_bounds, streams_in_segments

CAPS = Capabilities(cross_origin_isolated=True, cores=2, webcodecs=True)


def test_runs_begin_on_the_sources_keyframes_where_one_fits():
    every_second = tuple(float(s) for s in range(60))
    bounds = segment_bounds(60.0, every_second)
    assert bounds == tuple(float(s) for s in range(0, 60, int(LONGEST_S)))
    assert all(b in every_second for b in bounds)  # no frame is decoded twice


def test_sparse_keyframes_are_each_reached_by_cutting_the_run_before_them_short():
    # a keyframe every 8.33 s (x264's default of 250 frames at 30 fps)
    bounds = segment_bounds(30.0, (0.0, 8.333, 16.667, 25.0))
    assert bounds == pytest.approx((0.0, 4.333, 8.333, 12.667, 16.667, 21.0, 25.0))
    steps = [b - a for a, b in itertools.pairwise(bounds)]
    assert all(SHORTEST_S - 1e-9 <= step <= LONGEST_S for step in steps)


def test_without_a_keyframe_list_runs_are_cut_at_the_longest_and_the_rest_goes_in_one():
    assert segment_bounds(20.0, None) == (0.0, 6.0, 12.0, 18.0)
    assert segment_bounds(18.0, None) == (0.0, 6.0, 12.0)


def test_a_clip_as_short_as_one_run_is_one_run():
    assert segment_bounds(LONGEST_S, (0.0, 1.0, 2.0, 3.0, 4.0)) == (0.0,)
    assert segment_bounds(0.5, None) == (0.0,)


@pytest.mark.parametrize(("media", "streams"), [
    (MediaInfo(1280, 720, 10.0, audio_codec="aac", browser_reads=True), True),
    (MediaInfo(1280, 720, 10.0, audio_codec="", browser_reads=True), True),
    (MediaInfo(1280, 720, 10.0, audio_codec="opus", browser_reads=True), False),  # the whole file converts it
    (MediaInfo(1280, 720, 10.0, audio_codec="aac", browser_reads=False), False),  # only ffprobe could read it
])
def test_segments_need_a_container_the_browser_reads_and_audio_that_can_be_copied(media, streams):
    assert streams_in_segments(media) is streams


def test_the_plan_says_where_the_runs_begin():
    media = MediaInfo(1920, 1080, 20.0, audio_codec="aac", browser_reads=True,
                      keyframes=tuple(float(s) for s in range(20)))
    assert plan(media, 40_000_000, CAPS, "routine").segments == (0.0, 6.0, 12.0, 18.0)


def test_one_run_encodes_as_the_whole_file_does_from_a_keyframe_without_b_frames():
    the_plan = plan(MediaInfo(1920, 1080, 20.0, audio_codec="aac"), 40_000_000, CAPS, "routine")
    run, whole = segment_args(the_plan, 25.0), ffmpeg_args(the_plan, 25.0)
    assert run[run.index("-ss") + 1] == SEEK and run[run.index("-frames:v") + 1] == FRAMES
    assert run.index("-seek_timestamp") < run.index("-ss") < run.index("-i") and INPUT_PATH in run
    assert run[run.index("-vf") + 1] == whole[whole.index("-vf") + 1]  # the same scaling
    for option in ("-c:v", "-preset", "-crf", "-profile:v"):
        assert run[run.index(option) + 1] == whole[whole.index(option) + 1]
    assert run[run.index("-bf") + 1] == "0" and "-an" in run
    assert run[run.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*2)"
    assert run[-1] == SEGMENT_PATH and run.count("-threads") == 2


def test_a_kept_output_goes_on_at_its_own_crf_only_when_made_for_the_same_job():
    media = MediaInfo(1920, 1080, 20.0, audio_codec="aac", browser_reads=True)
    the_plan = plan(media, 40_000_000, CAPS, "routine")
    kept = {"keyIntervalS": 2.0, "args": " ".join(segment_args(the_plan, 26.5))}
    assert resumed_crf(kept, the_plan) == 26.5
    smaller = plan(media, 40_000_000, CAPS, "routine", preset_name="mobile-fast")
    assert resumed_crf(kept, smaller) is None  # another size: start over
    assert resumed_crf({"bitrate": 2_000_000}, the_plan) is None  # WebCodecs' output
    assert resumed_crf({"args": "-crf x"}, the_plan) is None
    assert resumed_crf(None, the_plan) is None
