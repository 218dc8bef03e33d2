import pytest

from client.core.capabilities import Capabilities
from client.core.ffmpeg_args import INPUT_PATH, OUTPUT_PATH, ffmpeg_args
from client.core.media import MediaInfo
from client.core.planner import Plan, fit_within, plan

ISOLATED = Capabilities(cross_origin_isolated=True, cores=2)


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


def test_emergency_never_compresses():
    p = plan(MediaInfo(1920, 1080, 10.0), ISOLATED, "emergency")
    assert p.action == "original" and p.reason == "emergency"


def test_engine_follows_cross_origin_isolation():
    media = MediaInfo(1920, 1080, 10.0)
    assert plan(media, ISOLATED, "routine").engine == "ffmpeg-mt"
    single = plan(media, Capabilities(cross_origin_isolated=False, cores=8), "routine")
    assert single.engine == "ffmpeg" and single.threads == 1


def test_threads_capped():
    assert Capabilities(cross_origin_isolated=True, cores=16).ffmpeg_threads == 4
    assert Capabilities(cross_origin_isolated=True, cores=0).ffmpeg_threads == 1


def test_ffmpeg_args_scale_threads_and_strip_metadata():
    p = plan(MediaInfo(1920, 1080, 10.0), ISOLATED, "routine")
    args = ffmpeg_args(p)
    # -threads both before the input and before the output (the threaded core needs both)
    assert args.index("-threads") < args.index("-i") < len(args) - 3
    assert args[-3:] == ["-threads", "2", OUTPUT_PATH]
    assert args[args.index("-i") + 1] == INPUT_PATH
    assert "scale=1280:720:flags=bicubic,format=yuv420p" in args
    assert args[args.index("-map_metadata") + 1] == "-1"
    assert "libx264" in args and "aac" in args


def test_original_plan_has_no_args():
    with pytest.raises(ValueError):
        ffmpeg_args(Plan(action="original", reason="emergency"))


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
    from client.core.ffmpeg_log import encoded_seconds

    assert encoded_seconds(line) == seconds
