"""Photos: resized, orientation applied, and every hidden detail (GPS, camera serial)
removed before upload; a video's poster frame travels with it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import expect

from tests.e2e.conftest import upload_metadata

GPS = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}


@pytest.fixture
def phone_photo(tmp_path: Path) -> Path:
    """4000x3000 stored sideways (EXIF Orientation 6: show rotated 90° clockwise), a red
    block in the stored top-left corner, GPS and a camera serial in its EXIF."""
    image = Image.new("RGB", (4000, 3000), (30, 90, 160))
    image.paste((220, 20, 20), (0, 0, 600, 600))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.BodySerialNumber] = "SN-4455667788"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    path = tmp_path / "wound photo.jpg"
    image.save(path, quality=95, exif=exif)
    with Image.open(path) as saved:
        reread = saved.getexif()
        assert reread.get_ifd(ExifTags.IFD.GPSInfo) and reread[ExifTags.Base.Orientation] == 6
    return path


def test_photo_is_resized_oriented_and_stripped(app_page, phone_photo: Path):
    page = app_page
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(phone_photo)
    expect(status).to_contain_text("hidden details")  # the preview says what will happen
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "done", timeout=60_000)
    url = status.get_attribute("data-upload-url")
    meta = upload_metadata(page, url)
    assert (meta["filetype"], meta["compressed"], meta["filename"]) == ("image/jpeg", "1", "wound photo.jpg")

    data = page.request.get(url).body()
    out = Image.open(io.BytesIO(data))
    assert out.format == "JPEG"
    assert out.size == (1920, 2560)  # portrait: the orientation was applied, long side 2560
    exif = out.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert b"SN-4455667788" not in data and b"PhoneMaker" not in data
    assert exif.get(ExifTags.Base.Orientation, 1) == 1
    # Rotated 90° clockwise, the stored top-left red block is now at the top right.
    red, _, blue = out.convert("RGB").getpixel((out.width - 50, 50))
    assert red > 180 and blue < 80
    assert len(data) < phone_photo.stat().st_size


def test_a_video_travels_with_a_poster_frame(app_page, clip720: Path):
    page = app_page
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "done", timeout=120_000)
    video_url = status.get_attribute("data-upload-url")
    poster_url = status.get_attribute("data-poster-url")
    assert poster_url and poster_url != video_url
    meta = upload_metadata(page, poster_url)
    assert meta["poster_for"] == video_url.rstrip("/").rpartition("/")[2]
    assert meta["filetype"] == "image/jpeg" and meta["filename"] == "clip720-poster.jpg"
    poster = Image.open(io.BytesIO(page.request.get(poster_url).body()))
    assert poster.format == "JPEG" and max(poster.size) <= 480 and poster.size[0] > poster.size[1]
