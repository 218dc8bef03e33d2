// Image jobs, main-thread side: runs image-worker.js for one photo or poster frame.
import { workerJob } from "./jobs.js";

const STALL_MS = 30000;

const runImageJob = (kind, file, options) =>
  workerJob(new URL("./image-worker.js", import.meta.url), { kind, file, options }, {
    stallMs: STALL_MS,
    result: (data) => data.blob,
  });

/** Re-encode a photo: {maxSide, type, quality} → Blob without EXIF, orientation applied. */
export const encodePhoto = (file, options) => runImageJob("photo", file, options);

/** A still of `file` at {atSecond}, as {maxSide, type, quality} → Blob. */
export const posterFrame = (file, options) => runImageJob("poster", file, options);
