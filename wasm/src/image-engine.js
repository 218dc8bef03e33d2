// Image jobs, main-thread side: starts image-worker.js for one photo or poster frame.
import { EngineError, startJob } from "./jobs.js";

const STALL_MS = 30000;

function runImageJob(kind, file, options) {
  return startJob((alive) => {
    const worker = new Worker(new URL("./image-worker.js", import.meta.url), { type: "module" });
    const promise = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        alive();
        if (data.type === "done") resolve(data.blob);
        else reject(new EngineError(data.code));
      };
      worker.onerror = () => reject(new EngineError("load-failed"));
      worker.postMessage({ kind, file, options });
    });
    promise.finally(() => worker.terminate()).catch(() => {});
    return { promise, stop: () => worker.terminate() };
  }, { stallMs: STALL_MS });
}

/** Re-encode a photo: {maxSide, type, quality} → Blob without EXIF, orientation applied. */
export const encodePhoto = (file, options) => runImageJob("photo", file, options);

/** A still of `file` at {atSecond}, as {maxSide, type, quality} → Blob. */
export const posterFrame = (file, options) => runImageJob("poster", file, options);
