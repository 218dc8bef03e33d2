// WebCodecs engine, in its own module Web Worker.
// mediabunny demuxes the input lazily (the file is never read whole) and muxes the MP4;
// the browser's VideoDecoder/VideoEncoder do the work, and the encoder, configured at the
// target size, scales the frames itself (keeps TV colour range, faster than a canvas).
// AAC audio is copied through untouched: Chromium on Linux has no AAC encoder, and the
// audio track is never dropped (other audio makes this engine decline, so ffmpeg runs).
import {
  ALL_FORMATS, BlobSource, BufferSource, BufferTarget, EncodedAudioPacketSource, EncodedPacket,
  EncodedPacketSink, EncodedVideoPacketSource, Input, Mp4OutputFormat, Output, VideoSampleSink,
} from "../mediabunny/mediabunny.mjs";
import { EngineError } from "./jobs.js";
import { QualityProbe } from "./quality.js";

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
    quality.offer(frame, sample.timestamp);
    const keyFrame = sample.timestamp >= nextKeyAt;
    if (keyFrame) nextKeyAt = sample.timestamp + keyIntervalS;
    encoder.encode(frame, { keyFrame });
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
  return track.rotation;
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
  await output.start();
  await Promise.all([
    encodeVideo(video, videoSource, options, quality, onTime),
    audioSource ? copyAudio(audio, audioSource) : null,
  ]);
  await output.finalize();
  const buffer = output.target.buffer;
  const made = new Input({ source: new BufferSource(buffer), formats: ALL_FORMATS });
  return { buffer, ssim: await quality.measure(await made.getPrimaryVideoTrack()) };
}

// "pause" and "resume" from the page (jobs.js): the frame loop waits while paused.
let pause = null;
const unpaused = () => pause?.promise;

async function run({ file, options }) {
  try {
    const { buffer, ssim } = await transcode(file, options, (seconds) => self.postMessage({ type: "time", seconds }));
    self.postMessage({ type: "done", buffer, ssim }, [buffer]);
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
