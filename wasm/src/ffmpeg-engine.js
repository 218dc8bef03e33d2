// ffmpeg.wasm engine. The FFmpeg class runs the core in its own module Web Worker;
// this module only loads it, mounts the input and runs the arguments Python planned.
import { FFmpeg } from "../ffmpeg/index.js";
import { encodeInSegments } from "./ffmpeg-segments.js";
import { EngineError, engineSeconds, startJob } from "./jobs.js";

const vendor = new URL("../", import.meta.url).href;

function coreUrls(multiThread) {
  const base = `${vendor}${multiThread ? "ffmpeg-core-mt" : "ffmpeg-core"}/`;
  const urls = { coreURL: `${base}ffmpeg-core.js`, wasmURL: `${base}ffmpeg-core.wasm` };
  if (multiThread) urls.workerURL = `${base}ffmpeg-core.worker.js`;
  return urls;
}

// One ffmpeg worker loaded ahead of need (while the person reads the preview), so Start
// does not wait for the worker and its 32 MB core (about 0.8 s here, more on a phone).
let spare = null;

function loadFfmpeg(multiThread) {
  const loading = { multiThread, ffmpeg: new FFmpeg() };
  loading.ready = loading.ffmpeg.load(coreUrls(multiThread));
  loading.ready.catch(() => {
    if (spare === loading) spare = null;  // a failed spare is not kept; a job reports it
  });
  return loading;
}

/** Load an ffmpeg worker for the next job now (replacing a spare of the other kind). */
export function prepare(multiThread) {
  if (spare?.multiThread === multiThread) return;
  release();
  spare = loadFfmpeg(multiThread);
}

/** Free the worker loaded ahead, if any (Cancel, bypass, a plan without ffmpeg). */
export function release() {
  spare?.ffmpeg.terminate();
  spare = null;
}

function takeFfmpeg(multiThread) {
  if (spare?.multiThread !== multiThread) return loadFfmpeg(multiThread);
  const taken = spare;
  spare = null;
  return taken;
}

/**
 * Take the spare ffmpeg worker (or load a fresh one), mount `file` read-only at
 * `inputDir/source` with WORKERFS (so it is never copied into the wasm heap), run
 * `work(ffmpeg, alive)`, and always free the worker afterwards. Every log line counts as
 * progress for the watchdog (and whatever else calls `alive()`); `onNote` gets the engines'
 * "pause" and "resume" (jobs.js).
 */
function withFfmpeg(file, { inputDir, loaded, stallMs, onLog, onNote }, work) {
  return startJob((alive) => {
    const { ffmpeg, ready } = loaded;
    ffmpeg.on("log", ({ message }) => {
      alive();
      onLog?.(message);
    });
    const promise = (async () => {
      try {
        await ready;
      } catch {
        throw new EngineError("load-failed");
      }
      alive();
      await ffmpeg.createDir(inputDir);
      await ffmpeg.mount("WORKERFS", { blobs: [{ name: "source", data: file }] }, inputDir);
      return await work(ffmpeg, alive);
    })();
    promise.finally(() => ffmpeg.terminate()).catch(() => {});
    return { promise, stop: () => ffmpeg.terminate(), post: onNote };
  }, { stallMs });
}

// The one kind of line that leaves the engine besides progress: a measuring filter's result
// ("[ssim@s0 @ 0x…] SSIM Y:… All:…"). ffmpeg's own log echoes the input's metadata (titles,
// locations), so nothing else of it is passed on.
const MEASURED = /^\[ssim@s\d+ @ [^\]]*\] SSIM Y:/;

/**
 * Run ffmpeg with Python's `args` in one worker, the input mounted once; resolves to
 * {blob, probeSeconds, seconds: {samples?, measure?, encode, check?}, measured}.
 * - `probe` ({encode, measure, outputs}): first encode short samples of the clip and measure
 *   them; `choose(lines)` (Python) then gets their SSIM lines (null if the probe failed) and
 *   returns the encode's arguments instead of `args`. `probeSeconds`: what that cost, on the
 *   engines' clock.
 * - `segments` and `stream` (a StreamUpload): the encode runs in segments, `args` being one
 *   run's (ffmpeg-segments.js), and each piece of the output goes to `stream` as it is made.
 * - `check` ({args, files}): measure the output afterwards; `measured` holds its SSIM lines
 *   (null if the measurement failed). `files`: what the measurement reads from the encode's
 *   file system (the output, the probe's raw reference); missing ones are skipped.
 * Progress (`onLog(line, offset)`: offset, the source time the line's times count from) is
 * reported for the encode only.
 *
 * With the multi-threaded core the measurement runs in a second worker, a single-threaded
 * one loaded during the encode: core-mt 0.12.10 now and then deadlocks in a job with several
 * inputs (here about one check in five after a reload: ffmpegwasm/ffmpeg.wasm#883), and the
 * check joins the output's windows with the reference. Without threads it cannot.
 */
export function transcode(file, {
  args, probe, choose, segments = null, stream = null, check, inputDir, outputPath, multiThread, stallMs, onLog,
}) {
  let encoding = false;
  let offset = 0;  // segments: where the current run begins in the source
  let lines = [];
  const onLine = (line) => {
    if (encoding) {
      if (line.includes("time=")) onLog?.(line, offset);
    } else if (MEASURED.test(line)) {
      lines.push(line);
    }
  };
  const taken = () => {
    const found = lines;
    lines = [];
    return found;
  };
  const loaded = takeFfmpeg(multiThread);
  // The single-threaded worker that measures (multiThread): loaded once the threaded one is,
  // so that the two 32 MB cores are not compiled at once on the same cores.
  let checker = null;
  if (check && multiThread) loaded.ready.then(() => { checker = loadFfmpeg(false); }, () => {});
  const seconds = {};  // what each step cost, on the engines' clock
  const timed = async (step, work) => {
    const started = engineSeconds();
    try {
      return await work();
    } finally {
      seconds[step] = (seconds[step] ?? 0) + engineSeconds() - started;
    }
  };
  const whole = async (ffmpeg, encodeArgs) => {
    const exitCode = await ffmpeg.exec(encodeArgs);
    // Only the code: ffmpeg's own log echoes the input's metadata (titles, locations).
    if (exitCode !== 0) throw new EngineError(`exit-${exitCode}`);
    return new Blob([await ffmpeg.readFile(outputPath)], { type: "video/mp4" });
  };
  const measure = async (ffmpeg) => ((await timed("check", () => ffmpeg.exec(check.args))) === 0 ? taken() : null);
  // The engines paused (a hidden page): one run of ffmpeg goes on to its end, but a clip in
  // segments waits before its next run.
  const pause = { until: null, release: null };
  const onNote = ({ type }) => {
    if (type === "pause" && !pause.until) pause.until = new Promise((resolve) => { pause.release = resolve; });
    if (type === "resume" && pause.until) {
      pause.release();
      pause.until = null;
    }
  };
  const encoded = withFfmpeg(file, { inputDir, loaded, stallMs, onLog: onLine, onNote }, async (ffmpeg, alive) => {
    let encodeArgs = args;
    if (probe) {
      const probed = (await timed("samples", () => ffmpeg.exec(probe.encode))) === 0
        && (await timed("measure", () => ffmpeg.exec(probe.measure))) === 0;
      encodeArgs = choose(probed ? taken() : null);
      for (const path of probe.outputs) await ffmpeg.deleteFile(path).catch(() => {});
    }
    taken();
    encoding = true;
    const blob = await timed("encode", () => (segments
      ? encodeInSegments(ffmpeg, file, { ...segments, args: encodeArgs }, stream, {
        onRun: (start) => { offset = start; }, alive, unpaused: () => pause.until,
      })
      : whole(ffmpeg, encodeArgs)));
    encoding = false;
    const probeSeconds = probe ? (seconds.samples ?? 0) + (seconds.measure ?? 0) : null;
    if (!check) return { blob, probeSeconds, seconds, measured: null };
    const output = () => blob.arrayBuffer().then((bytes) => new Uint8Array(bytes));
    if (!multiThread) {
      if (segments) await ffmpeg.writeFile(outputPath, await output());  // the check reads it there
      return { blob, probeSeconds, seconds, measured: await measure(ffmpeg) };
    }
    const files = [];
    for (const path of check.files) {
      const data = path === outputPath ? await output() : await ffmpeg.readFile(path).catch(() => null);
      if (data) files.push({ path, data });
    }
    return { blob, probeSeconds, seconds, files };
  });
  if (!(check && multiThread)) return encoded;
  encoded.catch(() => checker?.ffmpeg.terminate());
  return encoded.then(async ({ files, ...result }) => {
    // Still loading on a busy device? That wait is not the measurement stalling.
    await checker.ready.catch(() => {});
    return withFfmpeg(file, { inputDir, loaded: checker, stallMs, onLog: onLine }, async (ffmpeg) => {
      for (const { path, data } of files) await ffmpeg.writeFile(path, data);
      return { ...result, measured: await measure(ffmpeg) };
    });
  });
}

/** ffprobe's JSON for Python's `args` (which write it to `outputPath`), or null. A fresh
 * worker: the spare stays for the transcode that follows. */
export function probe(file, { args, inputDir, outputPath, multiThread }) {
  const loaded = loadFfmpeg(multiThread);
  return withFfmpeg(file, { inputDir, loaded, stallMs: 30000 }, async (ffmpeg) => {
    // ffprobe in @ffmpeg/core 0.12.10 returns -1 even when it succeeds: judge by its output.
    await ffmpeg.ffprobe(args);
    try {
      return JSON.parse(await ffmpeg.readFile(outputPath, "utf8"));
    } catch {
      return null;
    }
  });
}
