"""One file's journey: check → probe → plan → compress → upload, against ports.

Every path ends in a ``Status`` the page shows. Compression is an optimisation, never
a gate: engines are tried in the plan's order, each watched for stalls and for the
priority's time budget; if none produces a smaller file, the original is sent and the
page says why. Files that cannot be read at all are not sent automatically; the page
keeps "Send original now" available for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import msgspec

from client.core import events, messages
from client.core.capabilities import Capabilities
from client.core.images import PHOTO, POSTER, poster_second, with_extension
from client.core.link import ASSUMED, Uplink
from client.core.media import FileFacts, MediaInfo, classify
from client.core.planner import (
    DEFAULT_LIMITS,
    Limits,
    Plan,
    Priority,
    boosted,
    lighter,
    plan,
    without_engine,
)
from client.core.ports import (
    Encoded,
    Imager,
    Prober,
    StatusView,
    Stream,
    TranscodeFailed,
    Transcoder,
    Uploader,
    UploadFailed,
)
from client.core.presets import DEFAULT_PRESET, gate_ssim
from client.core.progress import Status, encode_rate, percent_of
from client.core.steering import Steering

T = TypeVar("T")


class Ports(msgspec.Struct, frozen=True):
    prober: Prober
    transcoder: Transcoder
    uploader: Uploader
    view: StatusView
    imager: Imager
    caps: Capabilities
    clock: Callable[[], float]  # monotonic seconds
    limits: Limits = DEFAULT_LIMITS
    steering: Steering = Steering()  # what the feature flags decide (client.core.steering)
    uplink: Callable[[], Uplink] = lambda: ASSUMED  # the link as last measured (client.core.link)
    record: Callable[..., None] = lambda kind, **fields: None  # analytics: record(events.X, **fields)


class Job(msgspec.Struct, frozen=True):
    """One chosen file and what the person asked for."""

    file: Any
    facts: FileFacts
    priority: Priority
    preset: str = DEFAULT_PRESET
    # A random id (the queue item's, never a name) under which a streamed output is kept
    # while it is made, so that after a pause or a reload its encode and upload go on from
    # the last fragment kept; None: nothing is kept.
    key: str | None = None


class Outcome(msgspec.Struct, frozen=True):
    """Result of the compression step: an output, or why there is none."""

    encoded: Encoded | None
    reason: str
    engine: str | None = None
    preset: str | None = None
    # The link the engines were ordered for and the click → stored estimate (None: no
    # compression was tried).
    uplink_kbps: int | None = None
    arrival_s: float | None = None
    upload_url: str | None = None  # already stored (a recording, sent as it was made)
    stream: Stream | None = None  # a streamed output's upload, to be completed by ``deliver``
    mime: str = "video/mp4"  # of the encoded output
    original: Encoded | None = None  # no encoded output: the original, stripped of metadata
    stripped: bool | None = None  # whether stripping was tried and worked (None: not tried)


def output_name(name: str) -> str:
    return with_extension(name, "mp4")


def upload_metadata(job: Job, outcome: Outcome, *, streamed: bool = False) -> dict[str, str]:
    """tus ``Upload-Metadata``: only allow-listed fields. The file name is the one that may
    identify someone: it is stored with the upload for its owner, never logged. A streamed
    output is described before it is made; its ``measures`` follow with its last fragment."""
    compressed = streamed or outcome.encoded is not None
    facts = job.facts
    extension = outcome.mime.rpartition("/")[2].replace("jpeg", "jpg")
    meta = {
        "filename": with_extension(facts.name, extension) if compressed else facts.name,
        "filetype": outcome.mime if compressed else (facts.mime or "application/octet-stream"),
        "priority": job.priority,
        "compressed": "1" if compressed else "0",
        "original_size": str(facts.size),
        "reason": outcome.reason,
    }
    if outcome.stripped is not None:
        meta["stripped"] = "1" if outcome.stripped else "0"
    if compressed:
        meta["preset"] = outcome.preset or ""
        meta["engine"] = outcome.engine or ""
    if outcome.encoded is not None:
        meta.update(measures(outcome.encoded))
    if outcome.uplink_kbps is not None:
        meta["uplink_kbps"] = str(outcome.uplink_kbps)
    if outcome.arrival_s is not None:
        meta["arrival_s"] = f"{outcome.arrival_s:g}"
    return meta


def measures(encoded: Encoded) -> dict[str, str]:
    """What an output's engine measured and chose, known once it is made."""
    meta = {}
    if encoded.ssim is not None:
        meta["ssim"] = f"{encoded.ssim:.4f}"
    if encoded.crf is not None:
        meta["crf"] = f"{encoded.crf:g}"
    if encoded.bitrate is not None:
        meta["bitrate"] = str(encoded.bitrate)
    if encoded.probe_s is not None:
        meta["probe_s"] = f"{encoded.probe_s:.2f}"
    return meta


def input_problem(facts: FileFacts) -> str | None:
    """A message for a file we will not try to compress, or None."""
    if facts.size == 0:
        return messages.EMPTY
    kind = classify(facts)
    if kind == "other":
        return messages.not_media(facts.mime or kind)
    return None


async def make_plan(job: Job, media: MediaInfo, ports: Ports) -> Plan:
    """The planner's choice within what the flags allow, minus engines this browser turns
    out not to support."""
    steering = ports.steering
    if steering.reason and job.priority != "emergency":
        return Plan(action="original", reason=steering.reason)
    the_plan = plan(media, job.facts.size, ports.caps, job.priority, job.preset, ports.limits, ports.uplink())
    if steering.bitrate_scale != 1.0:
        scaled = round(the_plan.video_bitrate * steering.bitrate_scale)
        the_plan = msgspec.structs.replace(the_plan, video_bitrate=scaled)
    for engine in the_plan.engines:
        if engine not in steering.engines or not await ports.transcoder.supports(the_plan, engine):
            the_plan = without_engine(the_plan, engine)
    if the_plan.action == "compress" and not the_plan.engines:
        return Plan(action="original", reason="no-engine")
    return the_plan


async def preview(job: Job, ports: Ports) -> Status:
    """What Start will do, shown as soon as a file is chosen: expected size and time."""
    problem = input_problem(job.facts)
    if problem:
        return Status(state="error", message=problem)
    if classify(job.facts) == "image":
        return Status(state="ready", message=messages.PHOTO_READY.format(max_side=PHOTO.max_side))
    media = await ports.prober.probe(job.file)
    if media is None:
        return Status(state="error", message=messages.UNREADABLE)
    the_plan = await make_plan(job, media, ports)
    # Load the first engine while the person reads this (or free one no longer needed).
    ports.transcoder.prepare(the_plan.engines[0] if the_plan.action == "compress" else None)
    return Status(state="ready", message=messages.expectation(the_plan, job.facts.size))


# Originals sent as they are, without stripping their metadata: in an emergency, and when
# the kill switch stops every engine (stripping is engine work too).
UNTOUCHED = frozenset({"emergency", "kill-switch"})


class Prepared(msgspec.Struct, frozen=True):
    """What is left once compression is over: the bytes to send (the compressed output, the
    original stripped of its metadata, or the original itself) and how to describe them."""

    outcome: Outcome
    media: MediaInfo | None = None  # a video's facts (for its poster); None for photos

    @property
    def blob(self) -> Any | None:
        """The bytes to send; None: the original file as it is."""
        sent = self.outcome.encoded or self.outcome.original
        return sent.blob if sent else None


async def send(job: Job, ports: Ports) -> Status:
    """The whole journey of one file: compress (or decide not to), then upload."""
    prepared = await prepare(job, ports)
    if isinstance(prepared, Status):
        return prepared
    return await deliver(job, prepared, ports)


async def prepare(job: Job, ports: Ports) -> Prepared | Status:
    """Everything before the upload. A Status is returned only for a file that will not be
    sent automatically (empty, not media, unreadable): it is the error to show."""
    view = ports.view
    problem = input_problem(job.facts)
    if problem:
        return _finish(view, Status(state="error", message=problem))
    if classify(job.facts) == "image":
        return await prepare_photo(job, ports)

    view.show(Status(state="compressing", message=messages.READING, percent=0.0))
    media = await ports.prober.probe(job.file)
    if media is None:
        return _finish(view, Status(state="error", message=messages.UNREADABLE))

    the_plan = await make_plan(job, media, ports)
    if the_plan.action == "original":
        outcome = Outcome(encoded=None, reason=the_plan.reason)
    else:
        outcome = await compress(job, media, the_plan, ports)
        if outcome.encoded is not None and outcome.encoded.size >= job.facts.size:
            outcome = Outcome(encoded=None, reason="not-smaller")
        outcome = msgspec.structs.replace(outcome, uplink_kbps=the_plan.uplink.kbps, arrival_s=the_plan.arrival_s)
    if outcome.encoded is None and outcome.reason not in UNTOUCHED:
        outcome = await _stripped(job, outcome, ports)
    if outcome.encoded is None:
        ports.record(events.FallbackUsed, reason=outcome.reason, priority=job.priority, input_bytes=job.facts.size)
    return Prepared(outcome=outcome, media=media)


async def prepare_photo(job: Job, ports: Ports) -> Prepared | Status:
    """Photos are always re-encoded, even if that does not save bytes: it is what removes
    their location and camera details. Emergency sends the original at once."""
    if job.priority == "emergency" or ports.steering.kill_switch:
        reason = "emergency" if job.priority == "emergency" else "kill-switch"
        return Prepared(outcome=Outcome(encoded=None, reason=reason))
    ports.view.show(Status(state="compressing", message=messages.PREPARING_PHOTO, percent=None))
    try:
        encoded = await ports.imager.photo(job.file, PHOTO)
    except TranscodeFailed:
        return _finish(ports.view, Status(state="error", message=messages.PHOTO_UNREADABLE))
    outcome = Outcome(encoded=encoded, reason="compressed", engine="canvas", preset="photo", mime=PHOTO.mime)
    return Prepared(outcome=outcome)


async def compress(job: Job, media: MediaInfo, the_plan: Plan, ports: Ports) -> Outcome:
    """Compress within the plan's budget; a routine job that runs over retries once per
    lighter preset. Returns the output, or the reason there is none."""
    attempt: Plan | None = the_plan
    while attempt is not None:
        outcome = await _within_budget(job, media, attempt, ports)
        if outcome is not None:
            return outcome
        attempt = lighter(attempt, media, job.facts.size, ports.caps, job.priority, ports.limits) \
            if job.priority == "routine" else None
    return Outcome(encoded=None, reason="over-budget")


async def _within_budget(job: Job, media: MediaInfo, attempt: Plan, ports: Ports) -> Outcome | None:
    """The engines in order until one makes an output that meets the preset's floor;
    None when the budget runs out. An engine that streams sends its fragments as it makes
    them; an output that does not ship (below the floor, failed, over budget, cancelled)
    has its partial upload deleted, and none is ever completed on the server. A pause keeps
    both, for the encode to go on after its last fragment when the clip is resumed."""
    deadline = ports.clock() + attempt.budget_s
    tries = [(engine, attempt) for engine in attempt.engines]
    reason = "compression-failed"
    afresh = False
    whole = set()  # engines whose output could not be cut in segments: not streamed again
    while tries:
        engine, step = tries.pop(0)
        remaining = deadline - ports.clock()
        if remaining <= 0:
            return None
        facts = {"engine": engine, "preset": step.preset or "none", "priority": job.priority}
        ports.record(events.CompressionStarted, input_bytes=job.facts.size, **facts)
        started = ports.clock()
        stream = None if engine in whole else _stream(job, media, engine, step, ports)
        handed = False  # the stream goes with the output, for ``deliver`` to complete
        try:
            encoded, code = await _encode(job, media, step, engine, ports, deadline, stream)
            seconds = ports.clock() - started
            if encoded is not None and code is None:
                ports.record(events.CompressionCompleted, input_bytes=job.facts.size, output_bytes=encoded.size,
                             seconds=seconds, ssim=encoded.ssim, crf=encoded.crf, bitrate=encoded.bitrate,
                             probe_s=encoded.probe_s, **facts)
                handed = stream is not None and encoded.size < job.facts.size
                return Outcome(encoded=encoded, reason="compressed", engine=engine, preset=step.preset,
                               stream=stream if handed else None)
        except TimeoutError:
            ports.record(events.CompressionFailed, code="over-budget", seconds=ports.clock() - started, **facts)
            ports.transcoder.cancel()
            return None
        except asyncio.CancelledError as cancelled:
            if stream is not None and PAUSE in cancelled.args:
                stream.suspend()
                stream = None
            raise
        finally:
            if stream is not None and not handed:
                stream.abort()
        ports.record(events.CompressionFailed, code=code, seconds=seconds, **facts)
        if code.endswith(RESUME_MISMATCH) and not afresh:  # what was kept cannot be continued: start it over
            afresh = True
            tries.insert(0, (engine, step))
            continue
        if SEGMENTS_FAILED in code and engine not in whole:  # this clip will not cut: encode it whole
            whole.add(engine)
            tries.insert(0, (engine, step))
            continue
        if code != "below-floor":
            reason = "compression-failed"
            continue  # the next engine, or the original
        reason = "below-floor"
        # Never ship less than the preset promises. Urgent work first retries the fast
        # engine with more bits; routine work prefers the smaller x264 output that follows.
        if job.priority == "urgent" and engine == "webcodecs" and step is attempt:
            tries.insert(0, (engine, boosted(step)))
    return Outcome(encoded=None, reason=reason)


async def _encode(
    job: Job, media: MediaInfo, step: Plan, engine: str, ports: Ports, deadline: float, stream: Stream | None
) -> tuple[Encoded | None, str | None]:
    """One engine's output and, when it may not ship, why: (output, None) or (output or
    None, code). Raises TimeoutError once the deadline passes."""
    try:
        encoded = await within(_run(job, media, step, engine, ports, stream), deadline, ports.clock)
    except TranscodeFailed as failed:
        # an engine's early verdict ("webcodecs:below-floor") is the gate's own, sooner
        return None, "below-floor" if failed.code.endswith(":below-floor") else failed.code[:40]
    return encoded, None if meets_floor(encoded, step) else "below-floor"


PAUSE = "pause"  # the message a paused clip's work is cancelled with (a queue StopWork that keeps)
RESUME_MISMATCH = ":resume-mismatch"  # an engine's kept output was made with other settings
SEGMENTS_FAILED = ":segment-"  # x264's runs could not be joined (a frame count, a parameter set)


def _streamed(engine: str | None, ports: Ports, media: MediaInfo | None = None) -> bool:
    """Whether ``engine``'s output (of ``media``; None: whichever) is uploaded while it is made:
    where it can and the flags allow."""
    return engine is not None and ports.steering.stream and ports.transcoder.streams(engine, media)


def _stream(job: Job, media: MediaInfo, engine: str, step: Plan, ports: Ports) -> Stream | None:
    """An upload to feed while ``engine`` encodes, where it streams and the flags allow."""
    if not _streamed(engine, ports, media):
        return None
    described = Outcome(encoded=None, reason="compressed", engine=engine, preset=step.preset,
                        uplink_kbps=step.uplink.kbps, arrival_s=step.arrival_s)
    return ports.uploader.stream(upload_metadata(job, described, streamed=True), job.key)


async def _completed(stream: Stream, encoded: Encoded, on_sent: Callable[[int, int], None], ports: Ports) -> str | None:
    """Complete a streamed upload with the output's measures, once the fragments still
    queued (a link slower than the encoder) are sent; None if that failed (its upload is
    deleted and the output sent whole, like any other). Paused now, it keeps what the server
    holds, for the resumed clip to go on from (``_continued``); stopped otherwise, it is deleted."""
    started = ports.clock()
    try:
        url = await stream.finish(measures(encoded), on_sent)
    except UploadFailed:
        stream.abort()
        return None
    except asyncio.CancelledError as cancelled:
        if PAUSE in cancelled.args:
            stream.suspend()
        else:
            stream.abort()
        raise
    ports.record(events.UploadCompleted, compressed=True, bytes=encoded.size, streamed=True,
                 seconds=ports.clock() - started)
    return url


async def _continued(
    job: Job, outcome: Outcome, encoded: Encoded, blob: Any, on_sent: Callable[[int, int], None], ports: Ports
) -> str | None:
    """After a reload or a pause, an output that was being streamed when its encode ended: its
    upload goes on from the server's offset (or is found complete), rather than being sent anew."""
    stream = ports.uploader.stream(upload_metadata(job, outcome, streamed=True), job.key)
    found = await stream.continue_with(blob)
    if found is False:
        return None
    if isinstance(found, str):
        return found
    return await _completed(stream, encoded, on_sent, ports)


async def within(work: Coroutine[Any, Any, T], deadline: float, clock: Callable[[], float]) -> T:
    """``work``'s result, or TimeoutError once ``clock`` passes ``deadline``. The clock is
    the engines' own (a frozen or paused page does not advance it), so unlike
    ``asyncio.wait_for`` a freeze never uses up a budget."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            left = deadline - clock()
            if left <= 0:
                raise TimeoutError
            await asyncio.wait({task}, timeout=min(left, BUDGET_CHECK_S))
        return task.result()
    finally:
        if not task.done():
            task.cancel()


BUDGET_CHECK_S = 1.0

def meets_floor(encoded: Encoded, the_plan: Plan) -> bool:
    """Every engine's output is measured at run time and must clear the preset's floor by
    the margin of its measurement; an output that was not measured does not ship."""
    if the_plan.preset is None:
        return True
    return encoded.ssim is not None and encoded.ssim >= gate_ssim(the_plan.preset, encoded.estimated)


async def _run(
    job: Job, media: MediaInfo, the_plan: Plan, engine: str, ports: Ports, stream: Stream | None = None
) -> Encoded:
    view, started = ports.view, ports.clock()

    def on_encoded(seconds: float) -> None:
        rate = encode_rate(seconds, media.duration, ports.clock() - started)
        view.show(Status(state="compressing", message=messages.compressing(rate), percent=rate.percent))

    view.show(Status(state="compressing", message=messages.STARTING_ENGINE, percent=0.0))
    return await ports.transcoder.run(job.file, the_plan, engine, on_encoded, stream)


async def deliver(
    job: Job,
    prepared: Prepared,
    ports: Ports,
    *,
    blob: Any | None = None,
    resume_url: str | None = None,
    on_url: Callable[[str], None] | None = None,
) -> Status:
    """Upload what ``prepare`` made ready, then the video's poster. ``blob`` overrides the
    prepared bytes (the same output read back after a reload); ``resume_url`` continues an
    upload already begun, from the server's offset; ``on_url`` learns a new upload's URL
    as soon as the server creates it (so that a reload can resume it, never repeat it)."""
    view, facts, outcome = ports.view, job.facts, prepared.outcome
    blob = blob if blob is not None else (prepared.blob or job.file)
    size = int(blob.size)
    note = messages.why_original(outcome.reason)
    prefix = f"{note} " if note else ""

    on_sent = _uploading(view, note)
    url = outcome.upload_url
    encoded = outcome.encoded
    if url is None and encoded is not None and outcome.stream is not None and not outcome.stream.stopped:
        url = await _completed(outcome.stream, encoded, on_sent, ports)  # streamed while it was encoded
    elif url is None and encoded is not None and job.key is not None and _streamed(outcome.engine, ports):
        url = await _continued(job, outcome, encoded, blob, on_sent, ports)
    if url is not None:
        if on_url:
            on_url(url)
    else:
        on_sent(0, size)
        started = ports.clock()
        try:
            source = None if outcome.encoded else job.file  # an original: the bypass may join it
            url = await ports.uploader.upload(
                blob, upload_metadata(job, outcome), on_sent, source, resume_url=resume_url, on_url=on_url
            )
        except UploadFailed as exc:
            ports.record(events.UploadFailed, status=0, bytes=size)
            return _finish(view, Status(state="error", message=messages.UPLOAD_FAILED.format(detail=exc.detail)))
        ports.record(events.UploadCompleted, compressed=outcome.encoded is not None, bytes=size,
                     seconds=max(0.0, ports.clock() - started))
    media = prepared.media
    poster_url = await _send_poster(job, blob, url, media, ports) if media else None
    done = f"{prefix}{messages.sent(size, facts.size, outcome.encoded is not None)}"
    return _finish(view, Status(state="done", message=done, percent=100.0, upload_url=url,
                                poster_url=poster_url))


async def _stripped(job: Job, outcome: Outcome, ports: Ports) -> Outcome:
    """An original sent because compression did not help leaves without its location, device
    serial or title: the same streams in a new container (no re-encode), when it allows."""
    ports.view.show(Status(state="compressing", message=messages.STRIPPING, percent=None))
    try:
        clean = await ports.transcoder.strip(job.file)
    except TranscodeFailed:
        return msgspec.structs.replace(outcome, stripped=False)
    return msgspec.structs.replace(outcome, original=clean, stripped=True)


async def _send_poster(job: Job, video: Any, video_url: str, media: MediaInfo, ports: Ports) -> str | None:
    """A small JPEG still, uploaded on its own and linked to the video by its upload id.
    Best effort: a video the browser cannot decode simply has no poster."""
    try:
        still = await ports.imager.poster(video, POSTER, poster_second(media.duration))
        meta = {
            "filename": with_extension(job.facts.name, "jpg", "-poster"),
            "filetype": POSTER.mime,
            "priority": job.priority,
            "compressed": "1",
            "reason": "poster",
            "poster_for": video_url.rstrip("/").rpartition("/")[2],
        }
        return await ports.uploader.upload(still.blob, meta, lambda _done, _total: None)
    except (TranscodeFailed, UploadFailed):
        return None


def _uploading(view: StatusView, note: str | None = None) -> Callable[[int, int], None]:
    """What an upload's progress shows: "Uploading… N%", after ``note`` (why the original)."""
    def on_sent(done: int, total: int) -> None:
        pct = percent_of(done, total)
        view.show(Status(state="uploading", message=messages.uploading(pct, note), percent=pct))

    return on_sent


def _finish(view: StatusView, status: Status) -> Status:
    view.show(status)
    return status
