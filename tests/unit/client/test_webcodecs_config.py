from client.core.capabilities import Capabilities
from client.core.media import MediaInfo
from client.core.planner import plan
from client.core.webcodecs import KEY_INTERVAL_S, codec_string, resumed_bitrate, webcodecs_config


def test_the_level_fits_frame_size_rate_and_bitrate():
    assert codec_string(1280, 720, 30, 2_800_000) == "avc1.640028"  # 4.0
    assert codec_string(1920, 1080, 30, 40_000_000) == "avc1.640029"  # 4.1: more bits
    assert codec_string(1920, 1080, 60, 10_000_000) == "avc1.64002a"  # 4.2: 1080p60
    assert codec_string(3840, 2160, 30, 20_000_000) == "avc1.640033"  # 5.1
    assert codec_string(3840, 2160, 60, 20_000_000) == "avc1.640034"  # 5.2
    assert codec_string(7680, 4320, 30, 20_000_000) == "avc1.640034"  # beyond: the highest


def _planned():
    media = MediaInfo(width=1920, height=1080, duration=60.0, audio_codec="aac", browser_decodes=True)
    return plan(media, 100_000_000, Capabilities(cross_origin_isolated=True, cores=2, webcodecs=True), "routine")


def test_a_kept_output_of_the_same_job_goes_on_at_its_own_bitrate():
    the_plan = _planned()
    kept = {**webcodecs_config(the_plan), "bitrate": 3_100_000, "abandonBelow": 0.97, "fragments": True}
    assert kept["keyIntervalS"] == KEY_INTERVAL_S
    assert resumed_bitrate(kept, the_plan, 0.97) == 3_100_000


def test_a_kept_output_of_another_size_floor_or_none_starts_over():
    the_plan = _planned()
    kept = {**webcodecs_config(the_plan), "abandonBelow": 0.97}
    assert resumed_bitrate(None, the_plan, 0.97) is None
    assert resumed_bitrate({**kept, "width": kept["width"] * 2}, the_plan, 0.97) is None
    assert resumed_bitrate(kept, the_plan, 0.98) is None  # another preset's floor
    assert resumed_bitrate({**kept, "bitrate": "3M"}, the_plan, 0.97) is None  # not what we write
