// WebCodecs engine, main-thread side: runs webcodecs-worker.js for one video.
import { workerJob } from "./jobs.js";

/** Resolves to the output MP4 Blob; `onTime(seconds)` reports encoded media time. */
export function transcodeWebCodecs(file, { encoder, stallMs, onTime }) {
  return workerJob(new URL("./webcodecs-worker.js", import.meta.url), { file, options: encoder }, {
    stallMs,
    onProgress: (data) => onTime?.(data.seconds),
    result: (data) => new Blob([data.buffer], { type: "video/mp4" }),
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
