// x264 in segments, the page's side: one ffmpeg.wasm run per segment of the clip (Python plans
// where they begin: client/core/segments.py, and their arguments: ffmpeg_args.segment_args),
// each run's output passed to segment-worker.js, which joins them into one fragmented MP4
// without re-encoding, keeps each piece in the Origin Private File System and announces it:
// each piece goes to the upload at once, while the next run encodes.
import { EngineError } from "./jobs.js";
import { StreamFeed } from "./stream-feed.js";

const WORKER = new URL("./segment-worker.js", import.meta.url);

// segment-worker.js, answering one message of each kind it is waited for; any failure of
// its own rejects `failed`.
class Joiner {
  constructor(feed, alive) {
    this.waiting = new Map();  // message type → resolve
    this.failed = new Promise((_, reject) => { this.fail = reject; });
    this.failed.catch(() => {});
    this.worker = new Worker(WORKER, { type: "module" });
    this.worker.onmessage = ({ data }) => {
      alive();
      if (feed.take(data)) return;
      if (data.type === "error") this.fail(new EngineError(data.code));
      this.waiting.get(data.type)?.(data);
    };
    this.worker.onerror = () => this.fail(new EngineError("load-failed"));
  }

  /** Posts `message`; resolves to the next message of type `answer`. */
  ask(message, answer) {
    const answered = new Promise((resolve) => this.waiting.set(answer, resolve));
    this.worker.postMessage(message);
    return Promise.race([answered, this.failed]);
  }
}

// Python's arguments for one run: its placeholders filled in.
const filled = (args, { seek, frames }, run) => args.map(
  (arg) => (arg === seek ? run.seek.toFixed(6) : arg === frames ? String(run.frames) : arg));

/**
 * Encodes `file` (mounted in `ffmpeg` as Python's arguments read it) in segments and streams
 * the output to `stream` (a StreamUpload); resolves to the output's Blob. `segments`: {args
 * (one run's, with the placeholders `seek` and `frames`), seek, frames, path (the run's
 * output), bounds (s: where runs begin), keyIntervalS}. A run that fails rejects with
 * EngineError "exit-N"; the joiner's failures with its own codes. What was stored before a
 * failure or a stop stays, and a later call with the same stream key and arguments goes on
 * after its last piece. `onRun(start)`: a run begins, at source time `start` (s); `unpaused()`:
 * what a run waits for before it begins (a promise while the engines are paused, else null).
 */
export async function encodeInSegments(ffmpeg, file, segments, stream, { onRun, alive, unpaused }) {
  const { args, path, bounds, keyIntervalS } = segments;
  await stream.ready;  // what an earlier attempt under this key left is cleared first
  const feed = new StreamFeed(stream);
  const joiner = new Joiner(feed, alive);
  try {
    // What the kept pieces were made with (Python reads `plan` back before a resumed run).
    const about = { plan: { keyIntervalS, args: args.join(" ") }, encoder: null };
    const { runs } = await joiner.ask(
      { type: "open", file, options: { streamKey: stream.key, keyIntervalS, bounds, about } }, "runs");
    for (const run of runs) {
      await unpaused();  // the engines paused (a hidden page): the next run waits
      onRun(run.start);
      const code = await Promise.race([ffmpeg.exec(filled(args, segments, run)), joiner.failed]);
      if (code !== 0) throw new EngineError(`exit-${code}`);  // only the code: the log may name the patient
      const bytes = await ffmpeg.readFile(path);
      await ffmpeg.deleteFile(path);
      joiner.worker.postMessage({ type: "segment", bytes }, [bytes.buffer]);
    }
    await joiner.ask({ type: "end" }, "done");
    return await feed.blob();
  } finally {
    joiner.worker.terminate();
  }
}
