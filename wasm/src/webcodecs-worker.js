// WebCodecs engine, in its own module Web Worker.
// mediabunny demuxes the input lazily (the file is never read whole) and muxes the MP4;
// the browser's VideoDecoder/VideoEncoder do the work. Decoded frames are scaled to the
// encoder's size by our bicubic WebAssembly kernel (scaler.js: YUV in, YUV out, range and
// colour tags kept); frames it cannot take (not 8-bit I420) are scaled by the encoder
// itself, configured at the target size (OpenH264's scaler: 0.005-0.013 SSIM worse).
// AAC audio is copied through untouched: Chromium on Linux has no AAC encoder, and the
// audio track is never dropped (other audio makes this engine decline, so ffmpeg runs).
// The output is measured as it is made (quality.js: ffmpeg's SSIM on luma against the
// pre-scaled frames), with an early verdict when Python passes `abandonBelow`, and with
// `steer: true` each keyframe interval's bitrate is steered from that measure (RateSteer); a message
// {type: "probe", ...} runs the rate probe instead of an encode (rate-probe.js).
// The MP4 is muxed in memory and posted whole, or, with `fragments: true` in the options,
// fragmented (a fragment per keyframe interval) and stored piece by piece in the Origin
// Private File System as it is made (fragment-store.js), each piece announced to the page by a
// message {type: "fragment", index, offset, size, sha256, mediaStart, mediaEnd, bytes (a copy)}.
import {
  ALL_FORMATS, AppendOnlyStreamTarget, BlobSource, BufferSource, BufferTarget, EncodedAudioPacketSource,
  EncodedPacket, EncodedVideoPacketSource, Input, Mp4OutputFormat, Output, VideoSampleSink,
} from "../mediabunny/mediabunny.mjs";
import { atEncoderSize, checkSupported, encoderConfig, encoderTarget } from "./frame-path.js";
import { EngineError } from "./jobs.js";
import { TIME_EPSILON_S, audioResumesAt, copyAudio, fragmentedMp4, openAnnounced, serialAdder } from "./muxing.js";
import { EncodeQuality } from "./quality.js";
import { probeRates } from "./rate-probe.js";
import { loadKernel } from "./kernels.js";
import { FrameScaler } from "./scaler.js";

const MAX_QUEUE = 8;  // frames waiting in the encoder before we stop decoding ahead
const MAX_BACKLOG = 8;  // output frames waiting to be decoded and measured
const PROGRESS_EVERY_S = 0.25;
const STEER_LEAST = 8;  // measured frames a keyframe interval needs before it steers the next

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The kernels load with the worker, before its job arrives (a spare worker, jobs.js, has them
// ready); one that fails to load fails again where it is used, which falls back.
for (const kernel of ["scale", "ssim"]) loadKernel(kernel).catch(() => {});

/** An early verdict that the output cannot reach the floor: the worker stops at once. */
class BelowFloor extends EngineError {
  constructor(verdict) {
    super("below-floor");
    this.verdict = verdict;
  }
}

/**
 * The bitrate steered from what the output measures (`steer: true` in the options): at each
 * keyframe the latest interval measured enough, and not used before, goes to the page, whose
 * Python answers the next interval's bitrate (rate.steered_bitrate); the encoder is
 * reconfigured when it changes, so a change always falls on a keyframe. The first interval
 * counts only in the mean: the rate control settles in it, so it reads low whatever the
 * bitrate. `rates`: each interval's bitrate, in order.
 */
class RateSteer {
  constructor(encoder, config, quality, expected) {
    Object.assign(this, { encoder, config, quality, expected, bitrate: config.bitrate, rates: [], used: 0 });
  }

  /** Before the keyframe that begins interval `index`. */
  async begin(index) {
    const measured = this.quality.interval(this.used, STEER_LEAST);
    const soFar = this.quality.soFar;
    if (measured && soFar) {
      this.used = measured.index;
      const next = await ask({
        type: "interval", bitrate: this.rates[measured.index], ssim: measured.ssim,
        mean: soFar.sum / soFar.count, done: soFar.count / this.expected,
      });
      if (next !== this.bitrate && this.encoder.state === "configured") {
        this.bitrate = next;
        this.encoder.configure({ ...this.config, bitrate: next });
      }
    }
    this.rates[index] = this.bitrate;
  }
}

// `store`, if given (a FragmentStore), is told the source time (s, exact: not the chunk's
// microseconds) of each encoded frame, in the order they go to the muxer, and how the
// quality reads so far. `resumed` (the store's): the frames up to its videoEnd are stored
// already, and the quality measured on them is carried on.
async function encodeVideo(track, source, config, options, display, onTime, store, resumed) {
  await checkSupported(config);
  const target = await encoderTarget(config, options);
  const scaler = target.scaler;  // its figures, even if it fails and the encoder takes over
  const counts = { wasm: 0, encoder: 0, none: 0 };
  // The browser's encoder meets a bitrate, not a quality: measure what it makes, as it makes
  // it (and, with abandonBelow, give up early on an output that cannot reach the floor).
  const quality = await EncodeQuality.create({
    target, display, keyIntervalS: options.keyIntervalS, abandonBelow: options.abandonBelow ?? null,
    measureScaler: scaler ? null : await FrameScaler.create(config.width, config.height),
    ...(options.qualityEvery != null && { every: options.qualityEvery }),  // benchmarks' knobs
    ...(options.qualityGops != null && { gops: options.qualityGops }),
    trace: options.qualityTrace === true, carried: resumed?.quality,
  });
  if (store) store.measured = () => quality.soFar;
  const after = resumed ? resumed.videoEnd + TIME_EPSILON_S : -Infinity;

  const add = serialAdder(source);
  const sourceTimes = new Map();  // with onMuxed: an encoder input's timestamp (µs) → its source time
  let failure = null;
  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      quality.decode(chunk, meta);
      if (store) {
        store.muxed(sourceTimes.get(chunk.timestamp));
        sourceTimes.delete(chunk.timestamp);
      }
      add(EncodedPacket.fromEncodedChunk(chunk), meta).catch((e) => { failure = e; });
    },
    error: (e) => { failure = e; },
  });
  encoder.configure(config);
  const steer = options.steer === true
    ? new RateSteer(encoder, config, quality, (display.duration * config.framerate) / quality.every) : null;
  // A fresh output's second keyframe comes sooner (firstKeyIntervalS): its first fragment leaves sooner.
  let keyIntervalS = resumed ? options.keyIntervalS : options.firstKeyIntervalS ?? options.keyIntervalS;
  let nextKeyAt = 0;
  let lastReport = -Infinity;
  try {
    for await (const sample of new VideoSampleSink(track).samples(resumed ? resumed.videoEnd : undefined)) {
      if (sample.timestamp <= after) {  // stored before a reload
        sample.close();
        continue;
      }
      if (failure) break;
      await unpaused();  // a hidden page's pause: no frame is fed until it resumes
      const frame = sample.toVideoFrame();
      const { input, path } = await atEncoderSize(frame, target);
      counts[path] += 1;
      const keyFrame = sample.timestamp >= nextKeyAt;
      if (keyFrame) {
        nextKeyAt = sample.timestamp + keyIntervalS;
        keyIntervalS = options.keyIntervalS;
        await steer?.begin(quality.gop.index + 1);
      }
      await quality.offer(frame, input, path, sample.timestamp, keyFrame);
      if (store) sourceTimes.set(input.timestamp, sample.timestamp);
      if (encoder.state === "configured") encoder.encode(input, { keyFrame });  // else `failure` is set
      if (input !== frame) input.close();
      frame.close();
      sample.close();
      while (encoder.encodeQueueSize > MAX_QUEUE) {
        await new Promise((resolve) => encoder.addEventListener("dequeue", resolve, { once: true }));
      }
      while (quality.backlog > MAX_BACKLOG) await sleep(2);
      if (quality.verdict?.abandon) throw new BelowFloor({ ...quality.verdict, reached: sample.timestamp });
      if (sample.timestamp - lastReport >= PROGRESS_EVERY_S) {
        lastReport = sample.timestamp;
        onTime(sample.timestamp);
      }
    }
    if (!failure) await encoder.flush();
    await quality.finish();
  } finally {
    if (encoder.state !== "closed") encoder.close();  // an encoder error has closed it already
    quality.close();
  }
  await add.drained();
  if (failure) throw failure instanceof EngineError ? failure : new EngineError("encoder-error");  // or storage-failed
  // Which path the frames took, e.g. "wasm", "encoder", "none" or "wasm+encoder": in the
  // result and on the worker's console, where QA (and the e2e tests) read it.
  const framePath = Object.keys(counts).filter((path) => counts[path]).join("+") || "none";
  const perFrame = (ms) => (scaler?.frames ? ms / scaler.frames : null);
  const scaleMs = perFrame(scaler?.millis), kernelMs = perFrame(scaler?.kernelMillis);
  console.info(`medpress frame path: ${framePath} (${JSON.stringify(counts)}` +
               `${scaleMs === null ? "" : `, scaler ${scaleMs.toFixed(1)} ms/frame, kernel ${kernelMs.toFixed(1)}`})`);
  const bitrates = steer?.rates ?? [config.bitrate];
  console.info(`medpress bitrates: ${bitrates.map((rate) => Math.round(rate / 1000)).join(" ")} kbit/s`);
  return { framePath, frameCounts: counts, scaleMs, kernelMs, bitrates, quality };
}

function openInput(file) {
  return new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
}

async function videoOf(input) {
  let video;
  try {
    video = await input.getPrimaryVideoTrack();
  } catch {
    throw new EngineError("unreadable");
  }
  if (!video || !(await video.canDecode())) throw new EngineError("decoder-unsupported");
  return video;
}

async function transcode(file, options, onTime) {
  const input = openInput(file);
  const video = await videoOf(input);
  let audio;
  try {
    audio = await input.getPrimaryAudioTrack();
  } catch {
    throw new EngineError("unreadable");
  }
  if (audio && audio.codec !== "aac") throw new EngineError("audio-not-aac");

  const config = encoderConfig(video, options);  // as Python planned it
  const store = options.fragments === true
    ? await openAnnounced(options.streamKey, { plan: options, engine: "webcodecs", encoder: config }, options.resume !== false)
    : null;
  const resumed = store?.resumed ?? null;
  try {
    const output = new Output(store
      ? {
        format: fragmentedMp4(Math.min(options.keyIntervalS, options.firstKeyIntervalS ?? Infinity)),
        target: new AppendOnlyStreamTarget(store.stream),
      }
      : { format: new Mp4OutputFormat({ fastStart: "in-memory" }), target: new BufferTarget() });
    const videoSource = new EncodedVideoPacketSource("avc");
    output.addVideoTrack(videoSource, { rotation: video.rotation });
    const audioSource = audio ? new EncodedAudioPacketSource("aac") : null;
    if (audioSource) output.addAudioTrack(audioSource);
    const display = {
      width: options.width, height: options.height, rotation: video.rotation, duration: await input.computeDuration(),
    };
    const started = performance.now();
    await output.start();
    const [{ quality, ...path }] = await Promise.all([
      encodeVideo(video, videoSource, config, options, display, onTime, store, resumed),
      audioSource ? copyAudio(audio, audioSource, resumed && await audioResumesAt(audio, resumed)) : null,
    ]);
    store?.finishing();  // the last fragment and the muxer's trailer come next
    await output.finalize();  // fragmented: every piece is stored (and announced) by now
    path.encodeSeconds = (performance.now() - started) / 1000;  // decode, scale, encode, measure, mux
    const made = store
      ? { streamKey: options.streamKey, ...(await store.finish()) }  // {streamKey, pieces, size}
      : { buffer: output.target.buffer };
    // The canvas fallback reads the muxed output back; the YUV measure is already done.
    const outputTrack = async () => new Input({
      source: store ? new BlobSource(await store.file()) : new BufferSource(made.buffer), formats: ALL_FORMATS,
    }).getPrimaryVideoTrack();
    const measured = await quality.result(outputTrack);
    return {
      ...made, ssim: measured.ssim, ssimFrames: measured.frames, ssimMethod: measured.method,
      ...(measured.trace && { ssimTrace: measured.trace }), ...path,
    };
  } finally {
    store?.close();  // after a failure, what was stored stays (manifest: done false)
  }
}

async function probe(file, options, windows, bitrates, onTime) {
  const input = openInput(file);
  const video = await videoOf(input);
  return probeRates(video, await input.computeDuration(), options, windows, bitrates, onTime);
}

// "pause" and "resume" from the page (jobs.js): the frame loop waits while paused.
let pause = null;
const unpaused = () => pause?.promise;

// A question to the page (steering), and its {type: "answer", value}.
let answered = null;
const ask = (question) => new Promise((resolve) => {
  answered = resolve;
  self.postMessage(question);
});

async function run({ type, file, options, windows, bitrates }) {
  const onTime = (seconds) => self.postMessage({ type: "time", seconds });
  try {
    if (type === "probe") {
      self.postMessage({ type: "done", ...(await probe(file, options, windows, bitrates, onTime)) });
    } else {
      const result = await transcode(file, options, onTime);
      self.postMessage({ type: "done", ...result }, result.buffer ? [result.buffer] : []);
    }
  } catch (error) {
    console.warn("webcodecs engine failed:", error?.code || error?.name, error?.message);
    // The early verdict's figures go first, as a message of their own (jobs.js keeps only
    // an error's code).
    if (error instanceof BelowFloor) self.postMessage({ type: "verdict", ...error.verdict });
    self.postMessage({ type: "error", code: error?.code || "engine-error" });
  }
}

self.onmessage = ({ data }) => {
  if (data.type === "pause") {
    if (!pause) {
      let release;
      pause = { promise: new Promise((resolve) => { release = resolve; }), release: () => release() };
    }
  } else if (data.type === "resume") {
    pause?.release();
    pause = null;
  } else if (data.type === "answer") {
    answered?.(data.value);
    answered = null;
  } else {
    run(data);
  }
};
