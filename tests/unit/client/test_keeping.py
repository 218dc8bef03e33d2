"""What survives a reload: the queue and each clip's prepared output, without bytes."""

from client.core.keeping import Kept, KeptClip, decode_kept, encode_kept, kept_output, prepared_from
from client.core.media import MediaInfo
from client.core.pipeline import Outcome, Prepared
from client.core.ports import Encoded
from client.core.queue import Added, Compressed, Queue, Start, step
from tests.unit.client.fakes import FakeBlob

MEDIA = MediaInfo(width=1280, height=720, duration=10.0)


def test_a_compressed_output_is_kept_without_its_bytes_and_read_back_with_them() -> None:
    prepared = Prepared(outcome=Outcome(encoded=Encoded(blob=FakeBlob(900), size=900, ssim=0.981),
                                        reason="compressed", engine="webcodecs", preset="medical-standard"),
                        media=MEDIA)
    kept = kept_output(prepared, in_storage=True)
    back = prepared_from(kept, FakeBlob(900, "read back"))
    assert back.outcome.encoded.ssim == 0.981 and back.outcome.engine == "webcodecs"
    assert back.media == MEDIA and back.blob.label == "read back"


def test_x264s_chosen_crf_and_probe_cost_survive_a_reload() -> None:
    encoded = Encoded(blob=FakeBlob(900), size=900, ssim=0.9765, crf=25.5, probe_s=3.2)
    prepared = Prepared(outcome=Outcome(encoded=encoded, reason="compressed", engine="ffmpeg-mt",
                                        preset="medical-standard"), media=MEDIA)
    kept = decode_kept(encode_kept(Kept(queue=Queue(), clips={"a": KeptClip(
        number=1, name="x.mp4", size=2000, mime="video/mp4", priority="routine", preset="medical-standard",
        output=kept_output(prepared, in_storage=True))})))
    back = prepared_from(kept.clips["a"].output, FakeBlob(900, "read back")).outcome.encoded
    assert (back.crf, back.probe_s, back.ssim) == (25.5, 3.2, 0.9765)


def test_an_original_to_be_sent_as_it_is_needs_no_kept_bytes() -> None:
    prepared = Prepared(outcome=Outcome(encoded=None, reason="small-file"), media=MEDIA)
    kept = kept_output(prepared, in_storage=False)
    back = prepared_from(kept, None)
    assert back.blob is None and back.outcome.reason == "small-file"


def test_the_kept_state_round_trips_and_a_damaged_one_is_ignored() -> None:
    queue, _ = step(Queue(), Start())
    queue, _ = step(queue, Added("id-1", "2000-17-video/mp4-abc"))
    queue, _ = step(queue, Compressed("id-1"))
    clip = KeptClip(number=1, name="ward 3 bed 2.mp4", size=2000, mime="video/mp4",
                    priority="routine", preset="medical-standard", original_kept=True)
    kept = Kept(queue=queue, clips={"id-1": clip}, numbered=1)
    assert decode_kept(encode_kept(kept)) == kept
    assert decode_kept(b"") is None and decode_kept(b"{not json") is None
    assert decode_kept(b'{"queue": {"items": [{"id": 3}]}}') is None
