// The frame path, from a decoded frame to what the encoder is given, shared by the WebCodecs
// engine's encode and its rate probe (so a probe measures exactly what the encode will do).
import { EngineError } from "./jobs.js";
import { FrameScaler } from "./scaler.js";

/**
 * The VideoEncoder config for `track` as Python planned it (`options`), in the track's stored
 * orientation (the output keeps the rotation as metadata), and the size frames must reach.
 */
export function encoderConfig(track, options) {
  const { codec, width, height, bitrate, framerate } = options;
  const quarterTurn = track.rotation % 180 !== 0;
  const [codedWidth, codedHeight] = quarterTurn ? [height, width] : [width, height];
  return {
    codec, width: codedWidth, height: codedHeight, bitrate, framerate,
    bitrateMode: "variable", latencyMode: "quality", avc: { format: "avc" },
  };
}

/** Throws EngineError("encoder-unsupported") unless this browser can encode `config`. */
export async function checkSupported(config) {
  const support = await VideoEncoder.isConfigSupported(config);
  if (!support.supported) throw new EngineError("encoder-unsupported");
}

/**
 * Where frames go for `config`: {width, height, scaler}, the scaler being our WebAssembly
 * kernel (null if it cannot load, or with `frameScaler: "encoder"`, a benchmark's choice to
 * let OpenH264 scale).
 */
export async function encoderTarget(config, options) {
  const scaler = options.frameScaler === "encoder" ? null : await FrameScaler.create(config.width, config.height);
  return { width: config.width, height: config.height, scaler };
}

/**
 * `frame` at the encoder's size, and how it got there: "wasm" (pre-scaled by the kernel),
 * "encoder" (passed on for OpenH264 to scale) or "none" (already that size, untouched).
 * `init` (a timestamp, a duration) is given to a new frame; the caller closes both frames.
 */
export async function atEncoderSize(frame, target, init = null) {
  const { width, height } = frame.visibleRect;
  const same = width === target.width && height === target.height;
  if (!same && target.scaler?.canScale(frame)) {
    try {
      return { input: await target.scaler.scale(frame, init ?? {}), path: "wasm" };
    } catch (error) {  // e.g. a visible rectangle copyTo refuses: the encoder scales from now on
      console.warn("frame scaler failed, the encoder scales instead:", error?.name, error?.message);
      target.scaler = null;
    }
  }
  return { input: init ? new VideoFrame(frame, init) : frame, path: same ? "none" : "encoder" };
}
