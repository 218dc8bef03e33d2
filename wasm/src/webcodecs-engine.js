// WebCodecs engine, main-thread side: starts webcodecs-worker.js and relays its messages.
import { EngineError, startJob } from "./jobs.js";

/** Resolves to the output MP4 Blob; `onTime(seconds)` reports encoded media time. */
export function transcodeWebCodecs(file, { encoder, stallMs, onTime }) {
  return startJob((alive) => {
    const worker = new Worker(new URL("./webcodecs-worker.js", import.meta.url), { type: "module" });
    const promise = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        alive();
        if (data.type === "time") onTime?.(data.seconds);
        else if (data.type === "done") resolve(new Blob([data.buffer], { type: "video/mp4" }));
        else reject(new EngineError(data.code));
      };
      worker.onerror = () => reject(new EngineError("load-failed"));
      worker.postMessage({ file, options: encoder });
    });
    promise.finally(() => worker.terminate()).catch(() => {});
    return { promise, stop: () => worker.terminate() };
  }, { stallMs });
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
