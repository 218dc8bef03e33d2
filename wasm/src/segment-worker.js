// x264's segments joined into one fragmented MP4 without re-encoding, in its own module Web
// Worker. ffmpeg.wasm hands nothing over until a run ends, so a clip it streams is encoded in
// runs of a few seconds (ffmpeg-segments.js, on the page, runs them; Python plans where they
// begin: client/core/segments.py). This worker reads the source's frame times, says which
// frames each run encodes, and muxes each run's packets, re-timed to exactly those source
// frames, into the same fragmented output as the WebCodecs engine's, with the source's audio
// copied beside them: each piece is stored in the Origin Private File System and announced to
// the page (muxing.js `openAnnounced`), and a later run under the same key and settings goes on
// after the last piece kept.
//
// Messages in, in this order: {type: "open", file, options: {streamKey, resume, keyIntervalS,
// bounds: [s], about: {plan, encoder}}}, then {type: "segment", bytes} for each run, then
// {type: "end"}. Out: {type: "stream"} and the pieces (muxing.js), {type: "runs", runs: [{start,
// seek, frames}]} (start: the run's first frame's source time; seek: where ffmpeg seeks to, the
// midpoint before that frame), {type: "muxed", seconds} after each run (its last frame's time),
// then {type: "done", pieces, size}, or {type: "error", code} at the first failure: the
// joiner's own codes begin with "segment-" (Python then encodes the clip whole instead), and
// the fragment store's are its own ("storage-failed", "resume-mismatch").
import {
  ALL_FORMATS, AppendOnlyStreamTarget, BlobSource, BufferSource, EncodedAudioPacketSource, EncodedPacketSink,
  EncodedVideoPacketSource, Input, Output,
} from "../mediabunny/mediabunny.mjs";
import { EngineError } from "./jobs.js";
import { TIME_EPSILON_S, audioResumesAt, copyAudio, fragmentedMp4, openAnnounced } from "./muxing.js";

/** The source's video frames as {times: presentation times (s), ascending, end: the last one's end}. */
async function frameTimes(video) {
  const packets = [];
  for await (const packet of new EncodedPacketSink(video).packets(undefined, undefined, { metadataOnly: true })) {
    packets.push(packet);
  }
  if (!packets.length) throw new EngineError("segment-no-frames");
  packets.sort((a, b) => a.timestamp - b.timestamp);
  const last = packets.at(-1);
  return { times: packets.map((packet) => packet.timestamp), end: last.timestamp + last.duration };
}

/** The index of the first of `times` at or after `time`. */
function firstFrom(times, time) {
  let low = 0, high = times.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (times[middle] < time - TIME_EPSILON_S) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The runs that encode frames `from`… to the end, each beginning at the first frame at or
 * after one of `bounds` (s): [{first (frame index), frames, start, seek}]. */
function runsFrom(times, bounds, from) {
  const firsts = [from, ...bounds.map((bound) => firstFrom(times, bound))]
    .filter((first, i, all) => first >= from && first < times.length && all.indexOf(first) === i)
    .sort((a, b) => a - b);
  return firsts.map((first, i) => ({
    first,
    frames: (firsts[i + 1] ?? times.length) - first,
    start: times[first],
    // ffmpeg keeps the frames at or after its seek: half way from the frame before.
    seek: first > 0 ? (times[first - 1] + times[first]) / 2 : times[0] - 0.001,
  }));
}

class Joiner {
  static async open(file, { streamKey, resume, keyIntervalS, bounds, about }) {
    const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
    let video, audio;
    try {
      video = await input.getPrimaryVideoTrack();
      audio = await input.getPrimaryAudioTrack();
    } catch {
      throw new EngineError("segment-unreadable");
    }
    if (!video) throw new EngineError("segment-unreadable");
    if (audio && audio.codec !== "aac") throw new EngineError("segment-audio");
    const frames = await frameTimes(video);
    const store = await openAnnounced(streamKey, { ...about, engine: "ffmpeg" }, resume !== false);
    return new Joiner(store, frames, audio, keyIntervalS, bounds);
  }

  constructor(store, { times, end }, audio, keyIntervalS, bounds) {
    Object.assign(this, { store, times, timesEnd: end, decoderConfig: null });
    const resumed = store.resumed;
    const from = resumed ? firstFrom(this.times, resumed.videoEnd + 2 * TIME_EPSILON_S) : 0;
    this.runs = runsFrom(this.times, bounds, from);
    this.output = new Output({ format: fragmentedMp4(keyIntervalS), target: new AppendOnlyStreamTarget(store.stream) });
    this.video = new EncodedVideoPacketSource("avc");
    this.output.addVideoTrack(this.video);  // ffmpeg turned the pixels upright: no rotation
    this.audio = audio ? new EncodedAudioPacketSource("aac") : null;
    if (this.audio) this.output.addAudioTrack(this.audio);
    this.started = this.output.start().then(async () => {
      this.copying = this.audio
        ? copyAudio(audio, this.audio, resumed && await audioResumesAt(audio, resumed))
        : Promise.resolve();
      this.copying.catch(() => {});  // awaited in end()
    });
    this.next = 0;  // the run whose output comes next
  }

  /** Muxes the next run's output (an MP4 of its frames only): its packets in decode order,
   * each re-timed to its source frame (the n-th in presentation order is the run's n-th). */
  async add(bytes) {
    const run = this.runs[this.next++];
    if (!run) throw new EngineError("segment-unexpected");
    const input = new Input({ source: new BufferSource(bytes), formats: ALL_FORMATS });
    const track = await input.getPrimaryVideoTrack();
    const decoderConfig = await track.getDecoderConfig();
    const packets = [];
    for await (const packet of new EncodedPacketSink(track).packets()) packets.push(packet);
    if (packets.length !== run.frames) throw new EngineError("segment-frames");
    if (this.decoderConfig && !sameBytes(this.decoderConfig.description, decoderConfig.description)) {
      throw new EngineError("segment-mismatch");  // one track, one set of parameters
    }
    const ranks = new Map(packets.map((packet, i) => [packet, i])
      .sort(([a], [b]) => a.timestamp - b.timestamp).map(([packet], rank) => [packet, rank]));
    await this.started;
    for (const packet of packets) {
      const at = run.first + ranks.get(packet);
      const timestamp = this.times[at];
      const retimed = packet.clone({ timestamp, duration: (this.times[at + 1] ?? this.timesEnd) - timestamp });
      this.store.muxed(timestamp);
      await this.video.add(retimed, this.decoderConfig ? undefined : { decoderConfig });
      this.decoderConfig ??= decoderConfig;
    }
    return this.times[run.first + run.frames - 1];
  }

  async end() {
    if (this.next !== this.runs.length) throw new EngineError("segment-missing");
    await this.started;
    await this.copying;
    this.store.finishing();  // the last fragment and the muxer's trailer come next
    await this.output.finalize();
    // What this call encoded, on the worker's console for QA (after a resume: only what was not kept).
    const frames = this.runs.reduce((sum, run) => sum + run.frames, 0);
    console.info(`medpress segments: ${this.runs.length} runs, ${frames} frames encoded`);
    return this.store.finish();  // {pieces, size}
  }
}

function sameBytes(a, b) {
  const x = new Uint8Array(a?.buffer ?? a ?? [], a?.byteOffset ?? 0, a?.byteLength);
  const y = new Uint8Array(b?.buffer ?? b ?? [], b?.byteOffset ?? 0, b?.byteLength);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

let joiner = null;
let work = Promise.resolve();
let failed = false;

async function handle({ type, file, options, bytes }) {
  if (type === "open") {
    joiner = await Joiner.open(file, options);
    self.postMessage({ type: "runs", runs: joiner.runs.map(({ start, seek, frames }) => ({ start, seek, frames })) });
  } else if (type === "segment") {
    self.postMessage({ type: "muxed", seconds: await joiner.add(bytes) });
  } else if (type === "end") {
    self.postMessage({ type: "done", ...(await joiner.end()) });
  }
}

self.onmessage = ({ data }) => {
  work = work.then(() => (failed ? null : handle(data))).catch((error) => {
    failed = true;
    joiner?.store.close();  // what was stored stays (manifest: done false)
    console.warn("segment joiner failed:", error?.code || error?.name, error?.message);
    self.postMessage({ type: "error", code: error?.code || "engine-error" });
  });
};
