// WebCodecs engine, in its own module Web Worker.
// mediabunny demuxes the input lazily (the file is never read whole) and muxes the MP4;
// the browser's VideoDecoder/VideoEncoder do the work. Decoded frames are scaled to the
// encoder's size by our bicubic WebAssembly kernel (scaler.js: YUV in, YUV out, range and
// colour tags kept); frames it cannot take (not 8-bit I420) are scaled by the encoder
// itself, configured at the target size (OpenH264's scaler: 0.005-0.013 SSIM worse).
// AAC audio is copied through untouched: Chromium on Linux has no AAC encoder, and the
// audio track is never dropped (other audio makes this engine decline, so ffmpeg runs).
import {
  ALL_FORMATS, BlobSource, BufferSource, BufferTarget, EncodedAudioPacketSource, EncodedPacket,
  EncodedPacketSink, EncodedVideoPacketSource, Input, Mp4OutputFormat, Output, VideoSampleSink,
} from "../mediabunny/mediabunny.mjs";
import { EngineError } from "./jobs.js";
import { QualityProbe } from "./quality.js";
import { FrameScaler } from "./scaler.js";

const MAX_QUEUE = 8;  // frames waiting in the encoder before we stop decoding ahead
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

// How a frame reaches the encoder's size: "wasm" (pre-scaled here), "encoder" (OpenH264
// scales it) or "none" (already that size, passed through untouched). `counts` tallies them.
async function atEncoderSize(frame, target, counts) {
  const { width, height } = frame.visibleRect;
  if (width === target.width && height === target.height) {
    counts.none += 1;
    return frame;
  }
  if (target.scaler?.canScale(frame)) {
    try {
      const scaled = await target.scaler.scale(frame);
      counts.wasm += 1;
      return scaled;
    } catch (error) {  // e.g. a visible rectangle copyTo refuses: the encoder scales from now on
      console.warn("frame scaler failed, the encoder scales instead:", error?.name, error?.message);
      target.scaler = null;
    }
  }
  counts.encoder += 1;
  return frame;
}

async function encodeVideo(track, source, options, quality, onTime) {
  const { codec, width, height, bitrate, framerate, keyIntervalS } = options;  // as Python planned
  // Encode in the track's stored orientation; the output keeps the rotation as metadata.
  const quarterTurn = track.rotation % 180 !== 0;
  const [codedWidth, codedHeight] = quarterTurn ? [height, width] : [width, height];
  const config = {
    codec, width: codedWidth, height: codedHeight, bitrate, framerate,
    bitrateMode: "variable", latencyMode: "quality", avc: { format: "avc" },
  };
  const support = await VideoEncoder.isConfigSupported(config);
  if (!support.supported) throw new EngineError("encoder-unsupported");
  // `frameScaler: "encoder"` (benchmarks only) keeps the encoder's own scaling for comparison.
  const scaler = options.frameScaler === "encoder" ? null : await FrameScaler.create(codedWidth, codedHeight);
  const target = { width: codedWidth, height: codedHeight, scaler };
  const counts = { wasm: 0, encoder: 0, none: 0 };

  const add = serialAdder(source);
  let failure = null;
  const encoder = new VideoEncoder({
    output: (chunk, meta) => add(EncodedPacket.fromEncodedChunk(chunk), meta).catch((e) => { failure = e; }),
    error: (e) => { failure = e; },
  });
  encoder.configure(config);
  let nextKeyAt = 0;
  let lastReport = -Infinity;
  for await (const sample of new VideoSampleSink(track).samples()) {
    if (failure) break;
    await unpaused();  // a hidden page's pause: no frame is fed until it resumes
    const frame = sample.toVideoFrame();
    quality.offer(frame, sample.timestamp);  // the source frame, before any scaling
    const input = await atEncoderSize(frame, target, counts);
    const keyFrame = sample.timestamp >= nextKeyAt;
    if (keyFrame) nextKeyAt = sample.timestamp + keyIntervalS;
    if (encoder.state === "configured") encoder.encode(input, { keyFrame });  // else `failure` is set
    if (input !== frame) input.close();
    frame.close();
    sample.close();
    while (encoder.encodeQueueSize > MAX_QUEUE) {
      await new Promise((resolve) => encoder.addEventListener("dequeue", resolve, { once: true }));
    }
    if (sample.timestamp - lastReport >= PROGRESS_EVERY_S) {
      lastReport = sample.timestamp;
      onTime(sample.timestamp);
    }
  }
  if (!failure) await encoder.flush();
  if (encoder.state !== "closed") encoder.close();  // an encoder error has closed it already
  await add.drained();
  if (failure) throw new EngineError("encoder-error");
  // Which path the frames took, e.g. "wasm", "encoder", "none" or "wasm+encoder": in the
  // result and on the worker's console, where QA (and the e2e tests) read it.
  const framePath = Object.keys(counts).filter((path) => counts[path]).join("+") || "none";
  const perFrame = (ms) => (scaler?.frames ? ms / scaler.frames : null);
  const scaleMs = perFrame(scaler?.millis), kernelMs = perFrame(scaler?.kernelMillis);
  console.info(`medpress frame path: ${framePath} (${JSON.stringify(counts)}` +
               `${scaleMs === null ? "" : `, scaler ${scaleMs.toFixed(1)} ms/frame, kernel ${kernelMs.toFixed(1)}`})`);
  return { framePath, frameCounts: counts, scaleMs, kernelMs };
}

async function transcode(file, options, onTime) {
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  let video, audio;
  try {
    video = await input.getPrimaryVideoTrack();
    audio = await input.getPrimaryAudioTrack();
  } catch {
    throw new EngineError("unreadable");
  }
  if (!video || !(await video.canDecode())) throw new EngineError("decoder-unsupported");
  if (audio && audio.codec !== "aac") throw new EngineError("audio-not-aac");

  const output = new Output({ format: new Mp4OutputFormat({ fastStart: "in-memory" }), target: new BufferTarget() });
  const videoSource = new EncodedVideoPacketSource("avc");
  output.addVideoTrack(videoSource, { rotation: video.rotation });
  const audioSource = audio ? new EncodedAudioPacketSource("aac") : null;
  if (audioSource) output.addAudioTrack(audioSource);
  // The browser's encoder meets a bitrate, not a quality: measure what it made.
  const quality = new QualityProbe({
    width: options.width, height: options.height, rotation: video.rotation,
    duration: await input.computeDuration(),
  });
  const started = performance.now();
  await output.start();
  const [path] = await Promise.all([
    encodeVideo(video, videoSource, options, quality, onTime),
    audioSource ? copyAudio(audio, audioSource) : null,
  ]);
  await output.finalize();
  path.encodeSeconds = (performance.now() - started) / 1000;  // decode, scale, encode, mux
  const buffer = output.target.buffer;
  const made = new Input({ source: new BufferSource(buffer), formats: ALL_FORMATS });
  return { buffer, ssim: await quality.measure(await made.getPrimaryVideoTrack()), ...path };
}

// "pause" and "resume" from the page (jobs.js): the frame loop waits while paused.
let pause = null;
const unpaused = () => pause?.promise;

async function run({ file, options }) {
  try {
    const result = await transcode(file, options, (seconds) => self.postMessage({ type: "time", seconds }));
    self.postMessage({ type: "done", ...result }, [result.buffer]);
  } catch (error) {
    console.warn("webcodecs engine failed:", error?.code || error?.name, error?.message);
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
