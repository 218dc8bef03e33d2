import pytest

from client.core.media import FileFacts, classify
from client.core.messages import human_size, sent


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("wound.mp4", "video/mp4", "video"),
        ("IMG_0001.MOV", "", "video"),  # no MIME type: the extension decides
        ("scan.jpg", "image/jpeg", "image"),
        ("notes.txt", "text/plain", "other"),
        ("mp4", "", "other"),  # a bare name is not an extension
        ("report.pdf", "application/pdf", "other"),
    ],
)
def test_classify(name, mime, kind):
    assert classify(FileFacts(name=name, size=10, mime=mime)) == kind


def test_human_size():
    assert human_size(0) == "0 bytes"
    assert human_size(1_500) == "1.5 KB"
    assert human_size(12_400_000) == "12.4 MB"
    assert human_size(3_200_000_000) == "3.2 GB"


def test_sent_message_reports_saving():
    assert sent(2_500_000, 10_000_000, compressed=True) == "Sent 2.5 MB (was 10.0 MB, 75% smaller)."
    assert sent(467_700, 1_200_000_000, compressed=True) == "Sent 467.7 KB (was 1.2 GB, over 99% smaller)."
    assert sent(10_000_000, 10_000_000, compressed=False) == "Sent the original (10.0 MB)."


def test_media_from_ffprobe():
    from client.core.media import MediaInfo, media_from_ffprobe

    plain = {
        "streams": [
            {"codec_type": "video", "codec_name": "hevc", "width": 1920, "height": 1080,
             "avg_frame_rate": "30000/1001"},
            {"codec_type": "audio", "codec_name": "aac"},
        ],
        "format": {"duration": "12.5", "format_name": "mov,mp4,m4a,3gp,3g2,mj2"},
    }
    info = media_from_ffprobe(plain)
    assert (info.width, info.height, info.duration) == (1920, 1080, 12.5)
    assert round(info.fps, 2) == 29.97 and info.video_codec == "hevc" and info.audio_codec == "aac"
    rotated = {
        "streams": [{"codec_type": "video", "width": 1920, "height": 1080,
                     "side_data_list": [{"rotation": -90}]}],
        "format": {"duration": "3"},
    }
    assert media_from_ffprobe(rotated) == MediaInfo(1080, 1920, 3.0)
    assert media_from_ffprobe({"streams": [], "format": {}}) is None
    zero = {"streams": [{"codec_type": "video", "width": 0, "height": 0}], "format": {"duration": "1"}}
    assert media_from_ffprobe(zero) is None
