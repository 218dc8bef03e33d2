// WebCodecs engine, in its own module Web Worker.
// mediabunny demuxes the input lazily (the file is never read whole) and muxes the MP4;
// the browser's VideoDecoder/VideoEncoder do the work. Decoded frames are scaled to the
// encoder's size by our bicubic WebAssembly kernel (scaler.js: YUV in, YUV out, range and
// colour tags kept); frames it cannot take (not 8-bit I420) are scaled by the encoder
// itself, configured at the target size (OpenH264's scaler: 0.005-0.013 SSIM worse).
// AAC audio is copied through untouched: Chromium on Linux has no AAC encoder, and the
// audio track is never dropped (other audio makes this engine decline, so ffmpeg runs).
// The output is measured as it is made (quality.js: ffmpeg's SSIM on luma against the
// pre-scaled frames), with an early verdict when Python passes `abandonBelow`; a message
// {type: "probe", ...} runs the rate probe instead of an encode (rate-probe.js).
import {
  ALL_FORMATS, BlobSource, BufferSource, BufferTarget, EncodedAudioPacketSource, EncodedPacket,
  EncodedPacketSink, EncodedVideoPacketSource, Input, Mp4OutputFormat, Output, VideoSampleSink,
} from "../mediabunny/mediabunny.mjs";
import { atEncoderSize, checkSupported, encoderConfig, encoderTarget } from "./frame-path.js";
import { EngineError } from "./jobs.js";
import { EncodeQuality } from "./quality.js";
import { probeRates } from "./rate-probe.js";
import { FrameScaler } from "./scaler.js";

const MAX_QUEUE = 8;  // frames waiting in the encoder before we stop decoding ahead
const MAX_BACKLOG = 8;  // output frames waiting to be decoded and measured
const PROGRESS_EVERY_S = 0.25;

// Encoded chunks → the muxer, strictly in order; `drained()` waits for the last one.
function serialAdder(source) {
  let chain = Promise.resolve();
  const add = (packet, meta) => {
    chain = chain.then(() => source.add(packet, meta));
    return chain;
  };
  add.drained = () => chain;
  return add;
}

async function copyAudio(track, source) {
  const decoderConfig = await track.getDecoderConfig();
  let first = true;
  for await (const packet of new EncodedPacketSink(track).packets()) {
    await source.add(packet, first ? { decoderConfig } : undefined);
    first = false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An early verdict that the output cannot reach the floor: the worker stops at once. */
class BelowFloor extends EngineError {
  constructor(verdict) {
    super("below-floor");
    this.verdict = verdict;
  }
}

async function encodeVideo(track, source, options, display, onTime) {
  const config = encoderConfig(track, options);  // as Python planned it
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
    trace: options.qualityTrace === true,
  });

  const add = serialAdder(source);
  let failure = null;
  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      quality.decode(chunk, meta);
      add(EncodedPacket.fromEncodedChunk(chunk), meta).catch((e) => { failure = e; });
    },
    error: (e) => { failure = e; },
  });
  encoder.configure(config);
  let nextKeyAt = 0;
  let lastReport = -Infinity;
  try {
    for await (const sample of new VideoSampleSink(track).samples()) {
      if (failure) break;
      await unpaused();  // a hidden page's pause: no frame is fed until it resumes
      const frame = sample.toVideoFrame();
      const { input, path } = await atEncoderSize(frame, target);
      counts[path] += 1;
      const keyFrame = sample.timestamp >= nextKeyAt;
      if (keyFrame) nextKeyAt = sample.timestamp + options.keyIntervalS;
      await quality.offer(frame, input, path, sample.timestamp, keyFrame);
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
  if (failure) throw new EngineError("encoder-error");
  // Which path the frames took, e.g. "wasm", "encoder", "none" or "wasm+encoder": in the
  // result and on the worker's console, where QA (and the e2e tests) read it.
  const framePath = Object.keys(counts).filter((path) => counts[path]).join("+") || "none";
  const perFrame = (ms) => (scaler?.frames ? ms / scaler.frames : null);
  const scaleMs = perFrame(scaler?.millis), kernelMs = perFrame(scaler?.kernelMillis);
  console.info(`medpress frame path: ${framePath} (${JSON.stringify(counts)}` +
               `${scaleMs === null ? "" : `, scaler ${scaleMs.toFixed(1)} ms/frame, kernel ${kernelMs.toFixed(1)}`})`);
  return { framePath, frameCounts: counts, scaleMs, kernelMs, quality };
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

  const output = new Output({ format: new Mp4OutputFormat({ fastStart: "in-memory" }), target: new BufferTarget() });
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
    encodeVideo(video, videoSource, options, display, onTime),
    audioSource ? copyAudio(audio, audioSource) : null,
  ]);
  await output.finalize();
  path.encodeSeconds = (performance.now() - started) / 1000;  // decode, scale, encode, measure, mux
  const buffer = output.target.buffer;
  // The canvas fallback reads the muxed output back; the YUV measure is already done.
  const outputTrack = () => new Input({ source: new BufferSource(buffer), formats: ALL_FORMATS }).getPrimaryVideoTrack();
  const measured = await quality.result(outputTrack);
  return {
    buffer, ssim: measured.ssim, ssimFrames: measured.frames, ssimMethod: measured.method,
    ...(measured.trace && { ssimTrace: measured.trace }), ...path,
  };
}

async function probe(file, options, windows, bitrates, onTime) {
  const input = openInput(file);
  const video = await videoOf(input);
  return probeRates(video, await input.computeDuration(), options, windows, bitrates, onTime);
}

// "pause" and "resume" from the page (jobs.js): the frame loop waits while paused.
let pause = null;
const unpaused = () => pause?.promise;

async function run({ type, file, options, windows, bitrates }) {
  const onTime = (seconds) => self.postMessage({ type: "time", seconds });
  try {
    if (type === "probe") {
      self.postMessage({ type: "done", ...(await probe(file, options, windows, bitrates, onTime)) });
    } else {
      const result = await transcode(file, options, onTime);
      self.postMessage({ type: "done", ...result }, [result.buffer]);
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
  } else {
    run(data);
  }
};
