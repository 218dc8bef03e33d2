// Recording from the camera, in its own module Web Worker: the camera's frames and the
// microphone's samples (read on the page from a MediaStreamTrackProcessor, which Chromium
// offers only there, and posted here one by one) are encoded as they come by the browser's VideoEncoder
// (H.264 at the bitrate Python chose for the preset) and AudioEncoder (AAC where the browser
// has an encoder for it, else Opus), muxed by mediabunny as fragmented MP4 (a fragment per
// keyframe interval) and stored piece by piece in the Origin Private File System
// (fragment-store.js). Each piece is announced to the page at once, which uploads it.
//
// Messages in: {type: "start", audio (whether there is a microphone), options: {streamKey,
// video: VideoEncoderConfig + keyIntervalS, audio: {codec, bitrate}}}, {type: "sample", kind:
// "video" | "audio", sample (a VideoFrame or AudioData)} while recording, then {type: "stop",
// at (ms since the epoch, fractional: when Stop was pressed)}. Messages out: {type: "started"} (the first frame is being encoded),
// {type: "fragment", index, offset, size, bytes}, {type: "done", pieces, size, duration},
// {type: "error", code}.
import {
  AppendOnlyStreamTarget, EncodedAudioPacketSource, EncodedPacket, EncodedVideoPacketSource, Output,
} from "../mediabunny/mediabunny.mjs";
import { FragmentStore } from "./fragment-store.js";
import { EngineError } from "./jobs.js";
import { fragmentedMp4, serialAdder } from "./muxing.js";

const MAX_QUEUE = 4;  // frames waiting in the encoder: beyond it a frame is dropped (real time)

/**
 * One clock for both tracks, which begins when the first sample of either arrives here. The
 * camera's and the microphone's timestamps have origins of their own, so each track is placed
 * by its latency (arrival here minus its timestamp): the least seen over its first `settleS`
 * seconds. The first samples come in a burst, having waited in the processor's buffer since
 * the device opened, so their arrival says little. Meanwhile a track's samples are held
 * (`hold`: audio) or dropped (video: holding camera frames starves the camera of buffers).
 * From then on its own timestamps, which keep its cadence, count; a sample placed before the
 * beginning was captured before the recording and is dropped by the caller.
 */
class Timeline {
  origin = null;  // s, performance.now() of the first sample of either track

  /** Where `ms` (this worker's performance.now()) is on the timeline (s). */
  at(ms) {
    return this.origin === null ? 0 : ms / 1000 - this.origin;
  }

  track(settleS, hold) {
    const timeline = this;
    let latency = Infinity;
    let first = null;  // s, arrival of this track's first sample
    let held = [];  // null once settled
    const place = (sample) => sample.timestamp / 1e6 + latency - timeline.origin;
    return {
      /** The samples now ready, in order: [sample, time (s) on the timeline, or null: drop it]. */
      push(sample, arrived) {
        const now = arrived / 1000;
        timeline.origin ??= now;
        first ??= now;
        if (held === null) return [[sample, place(sample)]];
        latency = Math.min(latency, now - sample.timestamp / 1e6);
        if (now - first < settleS) {
          if (!hold) return [[sample, null]];
          held.push(sample);
          return [];
        }
        const ready = [...held, sample].map((one) => [one, place(one)]);
        held = null;
        return ready;
      },
      /** What is still held (a recording stopped while its track settled). */
      end() {
        const ready = (held ?? []).map((one) => [one, place(one)]);
        held = null;
        return ready;
      },
      /** s to add to this track's timestamps (once settled). */
      offset: () => latency - timeline.origin,
    };
  }
}

const SETTLE_VIDEO_S = 0.1;
const SETTLE_AUDIO_S = 0.4;  // Chromium's processor keeps up to about 0.3 s of audio before it is read

/** Samples posted by the page, one track's, read in order (`read()` as a stream reader's). */
class Inbox {
  #queue = [];
  #waiting = null;
  #ended = false;

  put(sample) {
    const value = { sample, arrived: performance.now() };
    if (this.#ended) sample.close();
    else if (this.#waiting) this.#take({ value, done: false });
    else this.#queue.push(value);
  }

  /** No more samples: what is queued is still read. */
  end() {
    this.#ended = true;
    if (this.#waiting) this.#take({ value: undefined, done: true });
  }

  /** {value: {sample, arrived (performance.now())}, done}, as a stream reader's read(). */
  read() {
    if (this.#queue.length) return Promise.resolve({ value: this.#queue.shift(), done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => { this.#waiting = resolve; });
  }

  #take(result) {
    const resolve = this.#waiting;
    this.#waiting = null;
    resolve(result);
  }
}

class Capture {
  constructor({ audio, options }) {
    this.options = options;
    this.inboxes = { video: new Inbox(), audio: new Inbox() };
    this.hasAudio = audio;
    this.failure = null;
    this.lastVideo = 0;  // end (s) of the last frame encoded
    this.lastAudio = 0;
    this.end = Infinity;  // s on the timeline: when Stop was pressed
  }

  async start() {
    const { streamKey, video: config } = this.options;
    const announce = ({ index, offset, size }, piece) => {
      const bytes = piece.slice().buffer;
      self.postMessage({ type: "fragment", index, offset, size, bytes }, [bytes]);
    };
    const { keyIntervalS, ...encoder } = config;
    this.store = await FragmentStore.open(streamKey, { plan: { keyIntervalS }, engine: "camera", encoder }, announce);
    this.output = new Output({
      format: fragmentedMp4(keyIntervalS),
      target: new AppendOnlyStreamTarget(this.store.stream),
    });
    const videoSource = new EncodedVideoPacketSource("avc");
    this.output.addVideoTrack(videoSource);
    const audioSource = this.hasAudio ? new EncodedAudioPacketSource(this.options.audio.codec === "opus" ? "opus" : "aac") : null;
    if (audioSource) this.output.addAudioTrack(audioSource);
    await this.output.start();
    const timeline = this.timeline = new Timeline();
    this.running = Promise.all([
      this.#video(this.inboxes.video, videoSource, encoder, keyIntervalS, timeline.track(SETTLE_VIDEO_S, false)),
      audioSource ? this.#audio(this.inboxes.audio, audioSource, timeline.track(SETTLE_AUDIO_S, true)) : null,
    ]).catch((error) => { this.failure ??= error; });
    // A failure while recording (the encoder, the storage, the camera gone) is told at once.
    this.running.then(() => {
      if (this.failure && !this.stopping) self.postMessage({ type: "error", code: codeOf(this.failure) });
    });
  }

  async #video(reader, source, config, keyIntervalS, track) {
    const add = serialAdder(source);
    const times = new Map();  // an input's timestamp (µs) → its place on the timeline (s)
    const encoder = new VideoEncoder({
      output: (chunk, meta) => {
        const time = times.get(chunk.timestamp);
        times.delete(chunk.timestamp);
        this.store.muxed(time);
        const packet = EncodedPacket.fromEncodedChunk(chunk).clone({ timestamp: time });
        add(packet, meta).catch((e) => { this.failure ??= e; });
      },
      error: (e) => { this.failure ??= e; },
    });
    encoder.configure(config);
    let nextKeyAt = 0;
    let last = -Infinity;
    const encode = (frame, time) => {
      // Settling, captured before the recording began or after Stop, or the encoder cannot
      // keep up: dropped.
      if (time === null || time < 0 || time >= this.end || time <= last || encoder.encodeQueueSize >= MAX_QUEUE || encoder.state !== "configured") {
        frame.close();
        return;
      }
      const keyFrame = time >= nextKeyAt;
      if (keyFrame) nextKeyAt = time + keyIntervalS;
      times.set(frame.timestamp, time);
      encoder.encode(frame, { keyFrame });
      last = time;
      this.lastVideo = time + (frame.duration ? frame.duration / 1e6 : 1 / config.framerate);
      frame.close();
    };
    try {
      for (let first = true; ; first = false) {
        const { value, done } = await reader.read();
        if (done || this.failure) {
          value?.sample.close();
          break;
        }
        if (first) self.postMessage({ type: "started" });
        for (const [sample, time] of track.push(value.sample, value.arrived)) encode(sample, time);
      }
      for (const [sample, time] of track.end()) encode(sample, time);
      if (encoder.state === "configured") await encoder.flush();
    } finally {
      if (encoder.state !== "closed") encoder.close();
    }
    await add.drained();
  }

  async #audio(reader, source, track) {
    const add = serialAdder(source);
    let encoder = null;
    const encode = (data, time) => {
      // settling, or captured before the recording began or after Stop
      if (time === null || time + data.duration / 1e6 <= 0 || time >= this.end) {
        data.close();
        return;
      }
      if (!encoder) {
        const offset = track.offset();
        encoder = new AudioEncoder({
          output: (chunk, meta) => {
            const packet = EncodedPacket.fromEncodedChunk(chunk).clone({ timestamp: Math.max(0, chunk.timestamp / 1e6 + offset) });
            add(packet, meta).catch((e) => { this.failure ??= e; });
          },
          error: (e) => { this.failure ??= e; },
        });
        encoder.configure({
          codec: this.options.audio.codec, sampleRate: data.sampleRate, numberOfChannels: data.numberOfChannels,
          bitrate: this.options.audio.bitrate,
        });
      }
      if (encoder.state === "configured") encoder.encode(data);
      this.lastAudio = time + data.duration / 1e6;
      data.close();
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.failure) {
          value?.sample.close();
          break;
        }
        for (const [sample, time] of track.push(value.sample, value.arrived)) encode(sample, time);
      }
      for (const [sample, time] of track.end()) encode(sample, time);
      if (encoder?.state === "configured") await encoder.flush();
    } finally {
      if (encoder && encoder.state !== "closed") encoder.close();
    }
    await add.drained();
  }

  /** Stop reading, encode what was read, store the last fragment; {pieces, size, duration}. */
  async stop(at) {
    this.stopping = true;
    if (Number.isFinite(at)) this.end = this.timeline.at(at - performance.timeOrigin);
    this.inboxes.video.end();  // the page has posted its last samples before "stop"
    this.inboxes.audio.end();
    try {
      await this.running;
      if (this.failure) throw this.failure;
      this.store.finishing();  // the last fragment and the muxer's trailer come next
      await this.output.finalize();
      const stored = await this.store.finish();
      return { ...stored, duration: Math.max(this.lastVideo, this.lastAudio) };
    } finally {
      this.store.close();
    }
  }
}

const codeOf = (error) => (error instanceof EngineError ? error.code : "recording-failed");
let capture = null;

async function run(work) {
  try {
    self.postMessage(await work());
  } catch (error) {
    console.warn("camera recording failed:", error?.code || error?.name, error?.message);
    self.postMessage({ type: "error", code: codeOf(error) });
  }
}

self.onmessage = ({ data }) => {
  if (data.type === "sample") {
    capture.inboxes[data.kind].put(data.sample);
  } else if (data.type === "start") {
    capture = new Capture(data);
    run(async () => {
      await capture.start();
      return { type: "ready" };
    });
  } else if (data.type === "stop") {
    run(async () => ({ type: "done", ...(await capture.stop(data.at)) }));
  }
};
