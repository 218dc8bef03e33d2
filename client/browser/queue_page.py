"""The queue on the page: clips chosen (or dropped) are compressed and uploaded in order by
the rules of ``client.core.queue``, each shown as a row with its own progress and controls,
while the page's own status line follows the current clip (``client.core.rows``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import js
import msgspec

from client.browser import keeper
from client.browser.bridge import JsFailure, callbacks, glue, js_object, settled
from client.browser.page import facts_of
from client.core import events, messages, queue, recording, rows
from client.core.device import DeviceState, Directives, preset_for
from client.core.keeping import (
    Kept,
    KeptClip,
    KeptOutput,
    decode_kept,
    encode_kept,
    facts,
    kept_output,
    prepared_from,
)
from client.core.media import FileFacts
from client.core.pipeline import PAUSE, Job, Outcome, Ports, Prepared, deliver, prepare, preview
from client.core.ports import Encoded, UploadFailed
from client.core.progress import Status, percent_of
from client.core.steering import Steering


@dataclass
class Clip:
    """What the page holds for one queue item (the queue itself holds only its state)."""

    number: int
    file: Any | None  # the JS File; None after a reload when the browser could not keep it
    job: Job
    status: Status
    original_kept: bool = False
    prepared: Prepared | None = None
    output: KeptOutput | None = None  # what survives a reload of ``prepared``
    upload_url: str | None = None  # an upload begun, to resume rather than repeat
    task: asyncio.Task | None = None

    def kept(self) -> KeptClip:
        facts = self.job.facts
        return KeptClip(number=self.number, name=facts.name, size=facts.size, mime=facts.mime,
                        priority=self.job.priority, preset=self.job.preset,
                        original_kept=self.original_kept, output=self.output)


class ItemView:
    """StatusView for one clip: its row, and the page's status line while it is current."""

    def __init__(self, owner: QueuePage, item_id: str) -> None:
        self.owner, self.item_id = owner, item_id

    def show(self, status: Status) -> None:
        self.owner.show_status(self.item_id, status)


class QueuePage:
    def __init__(self, ports: Ports, main_view: Any) -> None:
        self.ports = ports
        self.main_view = main_view
        self.queue = queue.Queue()
        self.clips: dict[str, Clip] = {}
        self.numbered = 0
        self.announced = False
        self.preview_task: asyncio.Task | None = None
        self.directives = Directives()
        self.notices: dict[str, list[dict[str, Any]]] = {"device": [], "flags": []}

    # What the person does.

    async def add(self, files: list[Any], priority: str, preset: str) -> None:
        """Clips join in the order chosen; a clip already in the list is not added twice, and
        a file asked for again after a reload (same fingerprint) takes up its clip."""
        added = []
        for file in files:
            if any(clip.file is not None and clip.file == file for clip in self.clips.values()):
                continue
            try:
                fingerprint = str(await settled(glue.fingerprint(file)))
            except JsFailure:
                fingerprint = f"unreadable-{self.numbered + 1}"
            same = next((i for i in self.queue.items if i.fingerprint == fingerprint), None)
            if same is not None:
                if same.state == "needs-file":
                    await self._found(same.id, file)
                else:  # the same clip again: it is (or was) sent once, never twice
                    self.main_view.show(Status(state="ready", message=messages.queue_text("duplicate")))
                continue
            item_id = str(js.crypto.randomUUID())
            self.numbered += 1
            job = Job(file=file, facts=facts_of(file), priority=priority, preset=preset, key=item_id)  # type: ignore[arg-type]
            self.clips[item_id] = Clip(self.numbered, file, job, Status(state="ready", message=messages.READY))
            self.dispatch(queue.Added(item_id, fingerprint))
            if glue.isBypassed(file):  # "Send original now" took it before Python loaded
                self.dispatch(queue.Bypass(item_id))
            else:
                added.append(item_id)
        if added and not self.queue.running:
            self._preview(added)
        if added:  # in the background: Start never waits for a copy of a large original
            asyncio.ensure_future(self._keep_originals(added))

    def add_recorded(self, key: str, about: recording.About,
                     finish: Callable[[Callable[[int, int], None]], Awaitable[recording.Recorded]],
                     recovered: bool = False) -> None:
        """A recording from the page's camera joins the queue while its upload is finished
        (it was sent as it was made): ``finish(on_progress)`` completes it, then its poster
        follows as for any video. Its random ``key`` is its fingerprint, so a row kept from
        before a reload is taken up rather than listed twice."""
        same = next((i for i in self.queue.items if i.fingerprint == key), None)
        if same is not None and rows.arrived(same):
            return
        item_id = same.id if same is not None else str(js.crypto.randomUUID())
        if item_id not in self.clips:
            self.numbered += 1
            job = Job(file=None, facts=FileFacts(name=about.name, size=0, mime="video/mp4"),
                      priority=about.priority, preset=about.preset)  # type: ignore[arg-type]
            self.clips[item_id] = Clip(self.numbered, None, job,
                                       Status(state="uploading", message=recording.finishing(0), percent=0.0))
        self.dispatch(queue.Recorded(item_id, key))
        view = ItemView(self, item_id)

        def progress(sent: int, total: int) -> None:
            pct = percent_of(sent, total)
            view.show(Status(state="uploading", message=recording.finishing(pct), percent=pct))

        async def finished() -> None:
            try:
                done = await finish(progress)
            except (JsFailure, UploadFailed) as failure:
                self.dispatch(queue.Failed(item_id, recording.upload_failed(failure.detail)))
                return
            clip = self.clips[item_id]
            clip.job = msgspec.structs.replace(clip.job, facts=FileFacts(name=about.name, size=done.size,
                                                                         mime="video/mp4"))
            outcome = Outcome(encoded=Encoded(blob=done.head, size=done.size), reason=recording.REASON,
                              engine=recording.ENGINE, preset=about.preset, upload_url=done.url)
            clip.prepared = Prepared(outcome=outcome, media=recording.media_of(about, done.duration))
            clip.output = kept_output(clip.prepared, False)
            self._save()
            sent = await deliver(clip.job, clip.prepared, msgspec.structs.replace(self.ports, view=recording.Unseen()),
                                 blob=done.head)  # stored already: only its poster is sent
            self.dispatch(queue.Recorded(item_id, key))  # uploading again, whatever happened meanwhile
            view.show(Status(state="done", message=recording.stored(done.size, done.duration, recovered),
                             percent=100.0, upload_url=done.url, poster_url=sent.poster_url))
            self.dispatch(queue.Uploaded(item_id, done.url))

        self._spawn(item_id, finished())

    async def _keep_originals(self, item_ids: list[str]) -> None:
        """A copy of each original, where the quota allows, so that a reload can go on."""
        for item_id in item_ids:
            clip = self.clips.get(item_id)
            if clip is not None and clip.file is not None:
                clip.original_kept = await keeper.keep_original(item_id, clip.file)
            item = self.queue.item(item_id)
            if item is None or rows.arrived(item):
                keeper.forget(item_id)  # it arrived (or went) while its copy was being made
        self._save()
        await self._show_storage()

    async def _found(self, item_id: str, file: Any) -> None:
        clip = self.clips[item_id]
        clip.file = file
        clip.job = msgspec.structs.replace(clip.job, file=file)
        clip.original_kept = await keeper.keep_original(item_id, file)
        self.dispatch(queue.FileFound(item_id))

    async def restore(self) -> None:
        """After a reload: list the kept queue and go on by itself, resuming uploads from
        the server's offset; a clip whose file the browser could not keep asks for it."""
        kept = decode_kept(await keeper.load_state())
        if kept is None or not kept.queue.items or kept.queue.all_arrived():
            await keeper.forget_all_but([])  # nothing to go on with: nothing to keep
            return
        await keeper.forget_all_but([i.id for i in kept.queue.items if not rows.arrived(i)])
        self.numbered = kept.numbered
        lost, missing = set(), set()
        for item in kept.queue.items:
            saved = kept.clips.get(item.id)
            if saved is None:
                continue
            file = await keeper.read_original(item.id) if saved.original_kept else None
            job = Job(file=file, facts=facts(saved), priority=saved.priority, preset=saved.preset,  # type: ignore[arg-type]
                      key=item.id)
            clip = Clip(saved.number, file, job, Status(state="ready", message=messages.queue_text("restored")),
                        original_kept=file is not None, output=saved.output)
            clip.upload_url = await keeper.upload_for(item.fingerprint)
            if saved.output is not None:
                blob = await keeper.read_output(item.id) if saved.output.in_storage else file
                if blob is not None:
                    clip.prepared = prepared_from(saved.output, blob if saved.output.in_storage else None)
            if clip.prepared is None:
                lost.add(item.id)
                clip.output = None
            if file is None:
                missing.add(item.id)
            self.clips[item.id] = clip
        items = tuple(i for i in kept.queue.items if i.id in self.clips)
        self.queue, effects = queue.restored(
            msgspec.structs.replace(kept.queue, items=items),
            lost_outputs=frozenset(lost), missing_files=frozenset(missing))
        for effect in effects:
            self._perform(effect)
        self.render()
        self._save()
        await self._show_storage()

    def start(self, priority: str, preset: str) -> None:
        """Start: the clips waiting for it go, with the form's current choices."""
        if len(self.queue.items) > 1:
            glue.askToNotify()  # a series: a notification may say when it has all arrived
        if self.preview_task and not self.preview_task.done():
            self.preview_task.cancel()
        for item in self.queue.items:
            if item.state == "waiting" and not item.output_ready:
                clip = self.clips[item.id]
                clip.job = msgspec.structs.replace(clip.job, priority=priority, preset=preset)
        self.dispatch(queue.Start())

    def halt(self) -> None:
        for item in self.queue.items:
            if item.state in queue.WORKING:
                self.clips[item.id].status = Status(state="ready", message=messages.CANCELLED)
        self.dispatch(queue.Halt())
        self.ports.transcoder.prepare(None)  # Cancel frees everything, the engine loaded ahead too

    def act(self, item_id: str, action: str) -> None:
        """A press on one clip's own control."""
        event = {
            "pause": queue.Pause, "resume": queue.Resume, "retry": queue.Retry,
            "cancel": queue.Cancel, "bypass": queue.Bypass,
        }.get(action)
        if event is not None and item_id in self.clips:
            self.dispatch(event(item_id))

    def send_originals(self) -> None:
        """The battery is nearly empty and the person chose to send every clip as it is."""
        for item in self.queue.items:
            if item.state not in queue.FINAL and item.state != "needs-file":
                self.dispatch(queue.Bypass(item.id))

    def apply_device(self, state: DeviceState, given: Directives) -> None:
        """What the device and the day now allow (``client.core.device``)."""
        before, self.directives = self.directives, given
        if given.pause_compression and not before.pause_compression:
            glue.pauseEngines()
            cause = "frozen" if state.frozen else "hidden"
            _tell_host("paused", {"reason": cause})
            self.ports.record(events.LifecyclePaused, cause=cause)
        if given.pause_uploads and not state.online and not before.pause_uploads:
            self.ports.record(events.LifecyclePaused, cause="offline")
        elif before.pause_compression and not given.pause_compression:
            glue.resumeEngines()
            _tell_host("resumed", {})
        low = {"low-battery", "critical-battery"}
        if low & set(given.notices) and low & set(given.notices) != low & set(before.notices):
            _tell_host("low-battery", {"level": state.battery_level, "critical": given.offer_originals})
        self.notices["device"] = [
            {"id": name, "text": messages.notice(name),
             **({"action": {"name": "send-originals", "label": messages.notice("send_originals")}}
                if name == "critical-battery" else {})}
            for name in given.notices
        ]
        self._render_notices()

    def apply_steering(self, given: Steering) -> None:
        """What the feature flags now decide. A kill switch turned on sends the clips still to
        be compressed as originals (one compressing now starts over on the original's path);
        an upload under way is never interrupted."""
        before = self.ports.steering
        self.ports = msgspec.structs.replace(self.ports, steering=given)
        js.document.documentElement.dataset.uiVariant = given.ui_variant or "standard"
        self.notices["flags"] = ([{"id": "kill-switch", "text": messages.notice("kill-switch")}]
                                 if given.kill_switch else [])
        self._render_notices()
        if given.reason and given.reason != before.reason:
            for item in self.queue.items:
                if item.state == "compressing":
                    self.dispatch(queue.Pause(item.id))
                    self.dispatch(queue.Resume(item.id))

    def _render_notices(self) -> None:
        glue.renderNotices(js_object(self.notices["flags"] + self.notices["device"]))

    def bypassed(self, file: Any) -> None:
        """Plain JS is sending this file's original ("Send original now", emergency)."""
        item_id = next((i for i, clip in self.clips.items() if clip.file is not None and clip.file == file), None)
        if item_id is not None:
            self.dispatch(queue.Bypass(item_id))

    # The state machine and its effects.

    def dispatch(self, event: queue.Event) -> None:
        before = self.queue
        self.queue, effects = queue.step(self.queue, event)
        for effect in effects:
            self._perform(effect)
        if isinstance(event, queue.Cancel):  # after its work is stopped (StopWork needs the clip)
            self._forget(event.item_id)
        for item in self.queue.items:  # arrived: free what was kept for it
            old = before.item(item.id)
            if rows.arrived(item) and (old is None or not rows.arrived(old)):
                keeper.forget(item.id)
        self.render()
        self._save()

    def _save(self) -> None:
        clips = {item.id: self.clips[item.id].kept() for item in self.queue.items}
        keeper.save_state(encode_kept(Kept(queue=self.queue, clips=clips, numbered=self.numbered)).decode())

    async def _show_storage(self) -> None:
        used, quota = await keeper.usage()
        unkept = sum(1 for i in self.queue.items if not rows.arrived(i) and self.clips[i.id].file is not None
                     and not self.clips[i.id].original_kept)
        glue.renderStorage(messages.storage(used, quota, unkept))

    def _perform(self, effect: queue.Effect) -> None:
        clip = self.clips[effect.item_id]
        if isinstance(effect, queue.StopWork):
            if clip.task and not clip.task.done():
                clip.task.cancel(PAUSE if effect.keep else "stop")
            if not effect.keep:
                clip.upload_url = None  # let go: the server drops (or expires) the partial upload
        elif isinstance(effect, queue.StartCompression):
            clip.task = self._spawn(effect.item_id, self._compress(effect.item_id))
        elif isinstance(effect, queue.StartUpload):
            clip.task = self._spawn(effect.item_id, self._upload(effect.item_id))
        elif isinstance(effect, queue.SendOriginal):
            self._spawn(effect.item_id, self._send_original(effect.item_id))

    def _spawn(self, item_id: str, work: Coroutine[Any, Any, None]) -> asyncio.Task:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (never leave a clip stuck on a bug of ours)
                js.console.error("medpress queue step failed:", type(exc).__name__)
                self.dispatch(queue.Failed(item_id, messages.UNEXPECTED))

        return asyncio.ensure_future(guarded())

    def _ports(self, item_id: str) -> Ports:
        return msgspec.structs.replace(self.ports, view=ItemView(self, item_id))

    async def _compress(self, item_id: str) -> None:
        clip = self.clips[item_id]
        job, ports = clip.job, self._ports(item_id)
        if self.directives.lighter_preset:  # low battery, slow or metered network
            job = msgspec.structs.replace(job, preset=preset_for(job.preset, self.directives))
        if self.directives.one_worker:
            ports = msgspec.structs.replace(ports, caps=msgspec.structs.replace(ports.caps, cores=1))
        prepared = await prepare(job, ports)
        if isinstance(prepared, Status):
            self.dispatch(queue.Failed(item_id, prepared.message))
            return
        clip.prepared = prepared
        # An output streamed while it was encoded is on the server already: nothing to keep.
        streamed = prepared.outcome.upload_url is not None
        in_storage = prepared.blob is not None and not streamed and await keeper.keep_output(item_id, prepared.blob)
        clip.output = kept_output(prepared, in_storage)
        self.dispatch(queue.Compressed(item_id))
        await self._show_storage()

    async def _upload(self, item_id: str) -> None:
        clip = self.clips[item_id]
        assert clip.prepared is not None

        fingerprint = self.queue.item(item_id).fingerprint  # type: ignore[union-attr]

        def began(url: str) -> None:
            clip.upload_url = url
            keeper.remember_upload(fingerprint, url)

        status = await deliver(clip.job, clip.prepared, self._ports(item_id),
                               resume_url=clip.upload_url, on_url=began)
        if status.state == "done" and status.upload_url:
            self.dispatch(queue.Uploaded(item_id, status.upload_url))
        else:
            self.dispatch(queue.Failed(item_id, status.message))

    async def _send_original(self, item_id: str) -> None:
        clip = self.clips[item_id]
        view = ItemView(self, item_id)
        if clip.file is None:  # after a reload, without a kept copy: ask for the file
            self.dispatch(queue.Failed(item_id, messages.queue_text("needs_file")))
            return
        size = int(clip.file.size)
        fingerprint = self.queue.item(item_id).fingerprint  # type: ignore[union-attr]

        def progress(sent: float, total: float) -> None:
            pct = percent_of(sent, total)
            view.show(Status(state="uploading", message=messages.sending_original(pct),
                             percent=pct))

        def began(url: str) -> None:
            keeper.remember_upload(fingerprint, str(url))

        progress(0, size)
        reason = "emergency" if str(glue.originalReason(clip.file)) == "emergency" else "bypass"
        self.ports.record(events.BypassActivated, reason=reason, priority=clip.job.priority, input_bytes=size)
        with callbacks(progress, began) as (progress_proxy, began_proxy):
            options = js_object({"reason": "bypass", "priority": clip.job.priority,
                                 "resumeUrl": clip.upload_url})
            options.onProgress = progress_proxy
            options.onUrl = began_proxy
            try:
                url = str(await settled(glue.sendOriginal(clip.file, options)))
            except JsFailure as failure:
                view.show(Status(state="error", message=messages.original_failed(failure.detail)))
                self.dispatch(queue.Failed(item_id, failure.detail))
                return
        emergency = reason == "emergency"
        message = (messages.emergency_sent(size) if emergency
                   else messages.sent(size, size, False))
        view.show(Status(state="done" if emergency else "bypassed", message=message, percent=100.0,
                         upload_url=url))
        self.dispatch(queue.Uploaded(item_id, url))

    def _preview(self, item_ids: list[str]) -> None:
        async def each() -> None:
            for item_id in item_ids:
                item = self.queue.item(item_id)
                if item is None or item.state != "waiting" or self.queue.running:
                    continue
                self.show_status(item_id, Status(state="ready", message=messages.CHECKING))
                self.show_status(item_id, await preview(self.clips[item_id].job, self._ports(item_id)))

        if self.preview_task and not self.preview_task.done():
            self.preview_task.cancel()
        self.preview_task = asyncio.ensure_future(each())

    def _forget(self, item_id: str) -> None:
        glue.removeItem(item_id)
        keeper.forget(item_id)
        self.clips.pop(item_id, None)

    # Showing it.

    def show_status(self, item_id: str, status: Status) -> None:
        clip = self.clips.get(item_id)
        item = self.queue.item(item_id)
        if clip is None or item is None:
            return
        if not _accepts(item, status):
            return  # a late word from work that was stopped never covers what came after
        clip.status = status
        self._render_item(item)
        current = rows.current_item(self.queue)
        if current is not None and current.id == item_id:
            self.main_view.show(status)

    def render(self) -> None:
        for item in self.queue.items:
            self._render_item(item)
        current = rows.current_item(self.queue)
        if current is not None:
            self.main_view.show(self._main_status(current))
        pending = [self.clips[i.id].file for i in self.queue.items if not rows.arrived(i)
                   and i.state != "bypassed" and self.clips[i.id].file is not None]
        glue.setQueuedFiles(self.clips[current.id].file if current else None, js_object(pending))
        counts = rows.counts(self.queue)
        glue.renderSummary(js_object({"counts": counts, "text": messages.counts(counts)}))
        self._announce()
        glue.setWorkPending(any(not rows.arrived(i) and i.state in (*queue.WORKING, "waiting", "bypassed")
                                and (self.queue.running or i.state != "waiting") for i in self.queue.items))
        js.document.querySelector('[data-testid="start"]').disabled = self.queue.running or not any(
            i.state == "waiting" for i in self.queue.items)
        js.document.querySelector('[data-testid="cancel"]').disabled = not self.queue.running

    def _render_item(self, item: queue.Item) -> None:
        clip = self.clips[item.id]
        status = clip.status
        message = messages.item_message(item.state, item.problem) or status.message
        working = item.state in queue.WORKING or (item.state == "bypassed" and not item.upload_url)
        percent = status.percent if working or item.state in queue.FINAL else 0.0
        glue.renderItem(js_object({
            "id": item.id,
            "state": item.state,
            "title": messages.item_title(clip.number, clip.job.facts.name, clip.job.facts.size),
            "message": message,
            "percent": percent,
            "uploadUrl": item.upload_url,
            "controls": [{"action": a, "label": messages.control_label(a)} for a in rows.controls_for(item)],
        }))

    def _main_status(self, item: queue.Item) -> Status:
        """The page's status line for the current clip: its own last word, or its state's."""
        status = self.clips[item.id].status
        said = messages.item_message(item.state, item.problem)
        if item.state == "failed":
            return Status(state="error", message=said or status.message)
        if said:
            return Status(state="ready", message=said)
        return status

    def _announce(self) -> None:
        """Once every clip has arrived: say so, on the page and to the host page."""
        if not self.queue.all_arrived():
            self.announced = False
            return
        if self.announced:
            return
        self.announced = True
        _tell_host("drained", {"count": len(self.queue.items)})
        glue.notifyAllArrived(messages.counts(rows.counts(self.queue)))


def _accepts(item: queue.Item, status: Status) -> bool:
    """Whether a clip in this state takes this word: work speaks while it runs, a preview
    while the clip waits for Start, and the bypass about the original it is sending (a
    preview that finishes after the bypass was pressed is not heard: its "ready" would
    offer a Start that can no longer happen)."""
    if item.state in queue.WORKING:
        return True
    if item.state == "waiting":
        return status.state in ("ready", "error")
    return item.state == "bypassed" and status.state != "ready"


def _tell_host(name: str, detail: dict[str, Any]) -> None:
    """A ``medpress:<name>`` event on window, for the page hosting medpress (no patient data)."""
    event = js.CustomEvent.new(f"medpress:{name}", js_object({"detail": js_object(detail)}))
    js.window.dispatchEvent(event)
