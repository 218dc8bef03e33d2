// WebCodecs engine, main-thread side: runs webcodecs-worker.js for one video.
import { workerJob } from "./jobs.js";

const WORKER = new URL("./webcodecs-worker.js", import.meta.url);

/**
 * Resolves to {blob, ssim, ssimMethod}: the output MP4 and its SSIM against the source
 * (ssimMethod "yuv": ffmpeg's, on luma, of sampled frames against the pre-scaled frames the
 * encoder was given; "canvas": the fallback estimate through RGB canvases; ssim null if no
 * frame could be compared); `onTime(seconds)` reports encoded media time.
 *
 * With `encoder.abandonBelow` (an SSIM), the worker gives up once the first 2 s of output
 * are clearly below it: the promise rejects with EngineError "below-floor", whose `ssim`
 * (their mean), `frames` (how many), `seconds` (the last one's media time) and `reached`
 * (the media time the encoder had been given when it stopped) say what was measured, and
 * whose `detail` is the same as JSON, which glue.js passes on to Python.
 */
export function transcodeWebCodecs(file, { encoder, stallMs, onTime }) {
  let verdict = null;
  return workerJob(WORKER, { file, options: encoder }, {
    stallMs,
    onProgress: (data) => {
      if (data.type === "verdict") verdict = data;
      else onTime?.(data.seconds);
    },
    result: (data) => ({ blob: new Blob([data.buffer], { type: "video/mp4" }), ssim: data.ssim, ssimMethod: data.ssimMethod }),
  }).catch((error) => {
    if (error?.code === "below-floor" && verdict) {
      const { ssim, seconds, frames, reached } = verdict;
      const facts = { ssim, seconds, frames, reached };
      Object.assign(error, facts, { detail: JSON.stringify(facts) });
    }
    throw error;
  });
}

/**
 * The rate probe (rate-probe.js): `encoder` as for transcodeWebCodecs (its bitrate is not
 * used), `windows` [[start_s, length_s], ...], `bitrates` [bits/s, ...]. Resolves to
 * {samples: [{bitrate, ssim, frames}] (ascending bitrate; ssim null where the encoder refused
 * that bitrate), windows: the [start_s, length_s] measured (moved to keyframes),
 * frames: source frames probed, seconds: the probe's wall time}. `onTime(seconds)` reports
 * the media time probed so far. Rejects with EngineError "probe-unavailable" (no SSIM
 * kernel), "probe-unsupported" (frames our scaler cannot take), or as transcodeWebCodecs.
 */
export function probeRates(file, { encoder, windows, bitrates, stallMs, onTime }) {
  const message = { type: "probe", file, options: encoder, windows, bitrates };
  return workerJob(WORKER, message, {
    stallMs,
    onProgress: (data) => onTime?.(data.seconds),
    result: ({ samples, windows: measured, frames, seconds }) => ({ samples, windows: measured, frames, seconds }),
  });
}

/** Whether this browser can encode `config` (a VideoEncoderConfig) with WebCodecs. */
export async function canEncode(config) {
  if (typeof VideoEncoder === "undefined") return false;
  try {
    return (await VideoEncoder.isConfigSupported(config)).supported === true;
  } catch {
    return false;
  }
}
