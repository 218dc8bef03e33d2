// ffmpeg.wasm engine. The FFmpeg class runs the core in its own module Web Worker;
// this module only loads it, mounts the input and runs the arguments Python planned.
import { FFmpeg } from "../ffmpeg/index.js";

const vendor = new URL("../", import.meta.url).href;
const running = new Set();

export class TranscodeError extends Error {
  constructor(code) {
    super(code);
    this.code = code;  // stable and free of patient data: safe to log
  }
}

function coreUrls(multiThread) {
  const base = `${vendor}${multiThread ? "ffmpeg-core-mt" : "ffmpeg-core"}/`;
  const urls = { coreURL: `${base}ffmpeg-core.js`, wasmURL: `${base}ffmpeg-core.wasm` };
  if (multiThread) urls.workerURL = `${base}ffmpeg-core.worker.js`;
  return urls;
}

/**
 * Load a fresh ffmpeg worker, mount `file` read-only at `inputDir/source` with WORKERFS
 * (so it is never copied into the wasm heap), run `job(ffmpeg, tail)`, and always free
 * the worker afterwards. `tail` keeps ffmpeg's last log lines for diagnosis.
 */
async function withFfmpeg(file, { inputDir, multiThread, onLog }, job) {
  const ffmpeg = new FFmpeg();
  running.add(ffmpeg);
  const tail = [];
  ffmpeg.on("log", ({ message }) => {
    tail.push(message);
    if (tail.length > 20) tail.shift();
    onLog?.(message);
  });
  try {
    try {
      await ffmpeg.load(coreUrls(multiThread));
    } catch {
      throw new TranscodeError("load-failed");
    }
    await ffmpeg.createDir(inputDir);
    await ffmpeg.mount("WORKERFS", { blobs: [{ name: "source", data: file }] }, inputDir);
    return await job(ffmpeg, tail);
  } catch (error) {
    if (error instanceof TranscodeError) throw error;
    throw new TranscodeError(running.has(ffmpeg) ? "engine-error" : "cancelled");
  } finally {
    if (running.delete(ffmpeg)) ffmpeg.terminate();
  }
}

/** Run ffmpeg with Python's `args`; resolves to the output Blob. */
export function transcode(file, { args, inputDir, outputPath, multiThread, onLog }) {
  const progressOnly = (line) => line.includes("time=") && onLog?.(line);
  return withFfmpeg(file, { inputDir, multiThread, onLog: progressOnly }, async (ffmpeg, tail) => {
    const exitCode = await ffmpeg.exec(args);
    if (exitCode !== 0) {
      console.warn("ffmpeg failed", exitCode, tail.join("\n"));
      throw new TranscodeError(`exit-${exitCode}`);
    }
    return new Blob([await ffmpeg.readFile(outputPath)], { type: "video/mp4" });
  });
}

/** ffprobe's JSON for Python's `args` (which write it to `outputPath`), or null. */
export function probe(file, { args, inputDir, outputPath, multiThread }) {
  return withFfmpeg(file, { inputDir, multiThread }, async (ffmpeg) => {
    // ffprobe in @ffmpeg/core 0.12.10 returns -1 even when it succeeds: judge by its output.
    await ffmpeg.ffprobe(args);
    try {
      return JSON.parse(await ffmpeg.readFile(outputPath, "utf8"));
    } catch {
      return null;
    }
  });
}

/** Stop every running job at once; their promises reject with "cancelled". */
export function cancelAll() {
  for (const ffmpeg of running) {
    running.delete(ffmpeg);
    ffmpeg.terminate();
  }
}
