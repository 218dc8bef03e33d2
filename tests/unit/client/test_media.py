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
    assert sent(10_000_000, 10_000_000, compressed=False) == "Sent the original (10.0 MB)."
