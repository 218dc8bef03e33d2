"""What the flags decide for this device (client.core.steering), and how the pipeline obeys:
no state at all is the safe side, the kill switch sends originals untouched, device conditions
are ordinary constraints, variants pick the preset, the quality and the UI."""

import asyncio
import copy
import json
import time
from pathlib import Path

import msgspec

from client.core.capabilities import Capabilities
from client.core.pipeline import Job, Ports, send
from client.core.planner import Limits
from client.core.steering import SAFE, Steering, context_for, steering

from .fakes import FakeBlob, FakeImager, FakeProber, FakeTranscoder, FakeUploader, RecordingView
from .test_pipeline import MEDIA, VIDEO

DEFAULTS = json.loads((Path(__file__).parents[3] / "server" / "flags" / "defaults.json").read_text())
CAPS = Capabilities(cross_origin_isolated=True, cores=2, device_memory_gb=8, webcodecs=True)
CONTEXT = context_for("install-7f3a", CAPS, {"batteryLevel": 80, "deviceType": "desktop"})


def feature(name: str, **extra: object) -> dict:
    return {"name": name, "enabled": True, "strategies": [{"name": "default"}], **extra}


def test_no_state_at_all_is_the_safe_side_and_medpress_defaults_compress() -> None:
    assert steering(None, CONTEXT) == SAFE and SAFE.reason == "compression-off"
    given = steering(DEFAULTS, CONTEXT)
    assert given.compress and not given.kill_switch and given.reason is None
    assert given.engines == {"webcodecs", "ffmpeg", "ffmpeg-mt"}


def test_the_context_carries_an_anonymous_id_and_the_device_as_properties() -> None:
    assert CONTEXT["sessionId"] == "install-7f3a" and "userId" not in CONTEXT
    assert CONTEXT["properties"] == {"cores": "2", "memoryGb": "8", "webcodecs": "true",
                                     "crossOriginIsolated": "true", "batteryLevel": "80",
                                     "deviceType": "desktop"}


def test_a_device_condition_is_an_ordinary_constraint() -> None:
    capable = {"contextName": "cores", "operator": "NUM_GTE", "value": "4"}
    state = {"version": 1, "features": [{"name": "compression", "enabled": True, "strategies": [
        {"name": "default", "constraints": [capable]}]}]}
    assert steering(state, CONTEXT).reason == "compression-off"  # this 2-core device is out
    four = context_for("install-7f3a", msgspec.structs.replace(CAPS, cores=4), {})
    assert steering(state, four).compress


def test_variants_pick_the_preset_the_webcodecs_quality_and_the_ui() -> None:
    state = {"version": 1, "features": [
        feature("compression"),
        feature("preset", variants=[{"name": "mobile-fast", "weight": 1000}]),
        feature("webcodecs.quality", variants=[{"name": "richer", "weight": 1000, "payload": {
            "type": "json", "value": '{"bitrate_scale": 9}'}}]),
        feature("ui", variants=[{"name": "compact", "weight": 1000}]),
    ]}
    given = steering(state, CONTEXT)
    assert (given.default_preset, given.bitrate_scale, given.ui_variant) == ("mobile-fast", 4.0, "compact")
    assert given.engines == frozenset()  # no engine flag: no engine


def ports(given: Steering, uploader: FakeUploader, transcoder: FakeTranscoder) -> Ports:
    return Ports(prober=FakeProber(MEDIA), transcoder=transcoder, uploader=uploader, view=RecordingView(),
                 imager=FakeImager(), caps=CAPS, clock=time.monotonic, limits=Limits(), steering=given)


def test_the_kill_switch_sends_the_original_untouched_and_compression_off_strips_it() -> None:
    for given, reason, stripped in ((Steering(kill_switch=True), "kill-switch", None),
                                    (Steering(compress=False), "compression-off", "1")):
        uploader, transcoder = FakeUploader(), FakeTranscoder({"webcodecs": 5_000_000})
        job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine")
        asyncio.run(send(job, ports(given, uploader, transcoder)))
        meta = uploader.sent[0][1]
        assert (meta["compressed"], meta["reason"], meta.get("stripped")) == ("0", reason, stripped)
        assert "webcodecs" not in transcoder.engines  # no engine ran


def test_engines_the_flags_leave_out_do_not_run() -> None:
    uploader, transcoder = FakeUploader(), FakeTranscoder({"webcodecs": 5_000_000, "ffmpeg-mt": 4_000_000})
    job = Job(file=FakeBlob(VIDEO.size, "original"), facts=VIDEO, priority="routine")
    asyncio.run(send(job, ports(Steering(engines=frozenset({"ffmpeg", "ffmpeg-mt"})), uploader, transcoder)))
    assert transcoder.engines == ["ffmpeg-mt"] and uploader.sent[0][1]["engine"] == "ffmpeg-mt"


def test_streaming_uploads_only_where_the_flag_is_on():
    state = copy.deepcopy(DEFAULTS)
    assert steering(state, CONTEXT).stream is True  # on by default
    feature = next(f for f in state["features"] if f["name"] == "upload.streaming")
    feature["enabled"] = False
    assert steering(state, CONTEXT).stream is False
    assert Steering().stream is False  # no flags yet: the whole file, once made
