// Metadata stripping, main-thread side: runs remux-worker.js for one original.
import { workerJob } from "./jobs.js";

/** Resolves to a Blob: the same streams in a new container without descriptive tags. */
export function stripMetadata(file, { stallMs }) {
  return workerJob(new URL("./remux-worker.js", import.meta.url), { file }, {
    stallMs,
    result: (data) => new Blob([data.buffer], { type: data.mime }),
  });
}
