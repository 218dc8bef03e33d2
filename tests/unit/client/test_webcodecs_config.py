from client.core.webcodecs import codec_string


def test_the_level_fits_frame_size_rate_and_bitrate():
    assert codec_string(1280, 720, 30, 2_800_000) == "avc1.640028"  # 4.0
    assert codec_string(1920, 1080, 30, 40_000_000) == "avc1.640029"  # 4.1: more bits
    assert codec_string(1920, 1080, 60, 10_000_000) == "avc1.64002a"  # 4.2: 1080p60
    assert codec_string(3840, 2160, 30, 20_000_000) == "avc1.640033"  # 5.1
    assert codec_string(3840, 2160, 60, 20_000_000) == "avc1.640034"  # 5.2
    assert codec_string(7680, 4320, 30, 20_000_000) == "avc1.640034"  # beyond: the highest
