// WebCodecs engine, main-thread side: runs webcodecs-worker.js for one video.
import { workerJob } from "./jobs.js";

/**
 * Resolves to {blob, ssim}: the output MP4 and its sampled SSIM against the source (or
 * null if no frame could be compared); `onTime(seconds)` reports encoded media time.
 */
export function transcodeWebCodecs(file, { encoder, stallMs, onTime }) {
  return workerJob(new URL("./webcodecs-worker.js", import.meta.url), { file, options: encoder }, {
    stallMs,
    onProgress: (data) => onTime?.(data.seconds),
    result: (data) => ({ blob: new Blob([data.buffer], { type: "video/mp4" }), ssim: data.ssim }),
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
